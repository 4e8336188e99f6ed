// Checking payload rules against the catalogue and compiling their conditions.
#include <climits>

#include "kernel/internal.h"
#include "policy/condition.h"

namespace edict {
namespace internal {
namespace {

uint8_t IdentityBits(int v) {
  if (v == fb::IdentityKind_Managed) return 1;
  if (v == fb::IdentityKind_Unmanaged) return 2;
  return kLaneNever;
}

uint8_t TriBits(int v) {
  if (v == fb::Tri_Yes) return 1;
  if (v == fb::Tri_No) return 2;
  return kLaneNever;
}

uint8_t MaskBits(unsigned v) {
  const uint8_t m = static_cast<uint8_t>(v & kLaneValueBits);
  return m != 0 ? m : kLaneNever;
}

struct CandBuilder {
  Cand c;
  void Lane(int lane, uint8_t bits) {
    c.allow |= LaneBits(lane, bits);
    c.need |= LaneBits(lane, 0x80);
  }
  void Terms(int identity, int domain_joined, int device_managed, unsigned plans, unsigned roles,
             int account_creation, int32_t os_min, int32_t os_max) {
    if (identity != 0) Lane(kLaneIdentity, IdentityBits(identity));
    if (domain_joined != 0) Lane(kLaneDomainJoined, TriBits(domain_joined));
    if (device_managed != 0) Lane(kLaneDeviceManaged, TriBits(device_managed));
    if (plans != 0) Lane(kLanePlan, MaskBits(plans));
    if (roles != 0) Lane(kLaneRole, MaskBits(roles));
    if (account_creation != 0) Lane(kLaneAccountCreation, TriBits(account_creation));
    if (os_min != 0 || os_max != 0) {
      Lane(kLaneOsKnown, 1);
      c.os_lo = os_min != 0 ? os_min : INT32_MIN;
      c.os_hi = os_max != 0 ? os_max : INT32_MAX;
    }
  }
};

}  // namespace

Cand CompileCondition(const fb::Condition* w, uint64_t key) {
  CandBuilder b{Cand{0, 0, key, INT32_MIN, INT32_MAX, 0, 0}};
  if (w == nullptr) return b.c;
  b.Terms(w->identity(), w->domain_joined(), w->device_managed(), w->plans(), w->roles(),
          w->account_creation(), w->os_min(), w->os_max());
  b.c.state_all = w->state_all();
  b.c.state_none = w->state_none();
  if (w->regions() != nullptr && w->regions()->size() != 0) b.c.need |= kNeedRegions;
  if (AttributeTermCount(w) != 0) b.c.need |= kNeedAttributes;
  return b.c;
}

Cand CompileCondition(const ConditionSpec& w) {
  CandBuilder b{Cand{0, 0, 0, INT32_MIN, INT32_MAX, 0, 0}};
  b.Terms(w.identity, w.domain_joined, w.device_managed, w.plans, w.roles, w.account_creation,
          w.os_min, w.os_max);
  b.c.state_all = w.state_all;
  b.c.state_none = w.state_none;
  if (!w.region.empty()) b.c.need |= kNeedRegions;
  return b.c;
}

void CompileBuiltinConditions(const CatalogSet& set, Cand* out) {
  for (const BuiltinDataUse& b : set.builtin_data_use()) *out++ = CompileCondition(b.when);
  for (const BuiltinSchedule& b : set.builtin_schedules()) *out++ = CompileCondition(b.when);
}

bool AnyOf(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* list,
           std::string_view v) {
  if (list == nullptr || v.empty()) return false;
  for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
    if (View(list->Get(i)) == v) return true;
  }
  return false;
}

BuiltinTerm FirstFailedTerm(const Cand& c, const CtxBits& x) {
  const uint64_t failed = c.need & ~kNeedSlow & ~NonZeroLanes(x.lanes & c.allow);
  auto lane_fails = [&](int lane) { return (failed & LaneBits(lane, 0x80)) != 0; };
  // In the attribute table's order (catalog.json), as explain lists terms.
  if (lane_fails(kLaneIdentity)) return BuiltinTerm::kIdentity;
  if (lane_fails(kLaneDomainJoined)) return BuiltinTerm::kDomainJoined;
  if (lane_fails(kLaneDeviceManaged)) return BuiltinTerm::kDeviceManaged;
  if (lane_fails(kLanePlan)) return BuiltinTerm::kPlan;
  if (lane_fails(kLaneOsKnown) || x.os < c.os_lo || x.os > c.os_hi) {
    return BuiltinTerm::kOsGeneration;
  }
  if ((x.state & c.state_all) != c.state_all) return BuiltinTerm::kDeviceState;
  if ((x.state & c.state_none) != 0) return BuiltinTerm::kDeviceStateNot;
  if (lane_fails(kLaneRole)) return BuiltinTerm::kRole;
  if (lane_fails(kLaneAccountCreation)) return BuiltinTerm::kAccountCreation;
  return BuiltinTerm::kNone;
}

RuleCheck CheckSettingRule(const CatalogSet& set, const fb::SettingRule* r) {
  return CheckSettingRule(set, r, set.FindSetting(View(r->setting())));
}

RuleCheck CheckSettingRule(const CatalogSet& set, const fb::SettingRule* r, int s) {
  RuleCheck out;
  if (s < 0) {
    out.reason = SkipReason::kUnknownSetting;
    return out;
  }
  const SettingSpec& spec = set.settings()[s];
  out.slot = static_cast<uint32_t>(s);
  out.reason = SkipReason::kWrongValueType;
  switch (spec.type) {
    case SettingType::kBool: {
      const fb::BoolValue* v = r->value_as_BoolValue();
      if (v == nullptr) return out;
      out.number = v->value() ? 1 : 0;
      break;
    }
    case SettingType::kInteger:
    case SettingType::kDuration: {
      const fb::IntValue* v = r->value_as_IntValue();
      if (v == nullptr) return out;
      out.number = v->value();
      break;
    }
    case SettingType::kEnum: {
      const fb::EnumValue* v = r->value_as_EnumValue();
      if (v == nullptr) return out;
      const int i = catalog::FindSymbol(spec, View(v->symbol()));
      if (i < 0) {
        out.reason = SkipReason::kUnknownSymbol;
        return out;
      }
      out.number = i;
      break;
    }
    case SettingType::kFlags: {
      const fb::FlagsValue* v = r->value_as_FlagsValue();
      if (v == nullptr) return out;
      int64_t bits = 0;
      if (v->symbols() != nullptr) {
        for (flatbuffers::uoffset_t k = 0; k < v->symbols()->size(); ++k) {
          const int i = catalog::FindSymbol(spec, View(v->symbols()->Get(k)));
          if (i < 0) {
            out.reason = SkipReason::kUnknownSymbol;
            return out;
          }
          bits |= int64_t{1} << i;
        }
      }
      out.number = bits;
      break;
    }
    case SettingType::kString: {
      const fb::StringValue* v = r->value_as_StringValue();
      if (v == nullptr) return out;
      out.text = View(v->value());
      break;
    }
  }
  if (spec.fixed || (spec.setters & kSetterAdmin) == 0) {
    out.reason = SkipReason::kNotAdminSettable;
    return out;
  }
  out.ok = true;
  return out;
}

RuleCheck CheckDataUseRule(const CatalogSet& set, const SlotLayout& l, const fb::DataUseRule* r) {
  RuleCheck out;
  const int c = set.FindDataClass(View(r->data_class()));
  if (c < 0) {
    out.reason = SkipReason::kUnknownDataClass;
    return out;
  }
  const int p = set.FindPurpose(View(r->purpose()));
  if (p < 0) {
    out.reason = SkipReason::kUnknownPurpose;
    return out;
  }
  for (const BuiltinDataUse& b : set.BuiltinRulesFor(c, p)) {
    if (b.fixed) {
      out.reason = SkipReason::kFixedCell;
      return out;
    }
  }
  out.slot = l.cell_base + static_cast<uint32_t>(c) * l.purposes + static_cast<uint32_t>(p);
  out.number = (r->effect() == fb::Effect_Allow ? int64_t{1} << 32 : 0) | r->obligations();
  out.ok = true;
  return out;
}

RuleCheck CheckScheduleRule(const CatalogSet& set, const SlotLayout& l, const fb::ScheduleRule* r) {
  RuleCheck out;
  const int k = set.FindSchedule(View(r->schedule()));
  if (k < 0) {
    out.reason = SkipReason::kUnknownSchedule;
    return out;
  }
  if (r->interval_seconds() <= 0) {
    out.reason = SkipReason::kBadInterval;
    return out;
  }
  out.slot = l.schedule_base + static_cast<uint32_t>(k);
  out.number = r->interval_seconds();
  out.ok = true;
  return out;
}

size_t AttributeTermCount(const fb::Condition* w) {
  return w == nullptr || w->attributes() == nullptr ? 0 : w->attributes()->size();
}

bool AttributeTermsValid(const CatalogSet& set, const fb::Condition* w) {
  if (AttributeTermCount(w) == 0) return true;
  for (const fb::AttributeTerm* t : *w->attributes()) {
    // Built-in attributes have their own Condition fields: a term naming one is malformed.
    const int a = set.FindAttribute(View(t->name()));
    if (a < 0 || set.attributes()[a].term != BuiltinTerm::kNone) return false;
    const bool has_values = t->values() != nullptr && t->values()->size() != 0;
    switch (set.attributes()[a].type) {
      case AttributeType::kBool:
        if (t->is() != fb::Tri_Yes && t->is() != fb::Tri_No) return false;
        break;
      case AttributeType::kEnum:
      case AttributeType::kStringSet:
        if (!has_values) return false;
        break;
      case AttributeType::kIntRange:
        if (t->min() > t->max()) return false;
        break;
    }
  }
  return true;
}

void CompileAttributeTerms(const CatalogSet& set, const uint8_t* payload, const fb::Condition* w,
                           AttrTerm* out) {
  const size_t n = AttributeTermCount(w);
  for (size_t i = 0; i < n; ++i) {
    const fb::AttributeTerm* t = w->attributes()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const int a = set.FindAttribute(View(t->name()));
    const AttributeSpec& spec = set.attributes()[a];
    AttrTerm& c = out[i];
    c = AttrTerm{0,
                 t->min(),
                 t->max(),
                 static_cast<uint32_t>(a),
                 0,
                 static_cast<uint8_t>(spec.type),
                 static_cast<uint8_t>(i + 1 == n)};
    switch (spec.type) {
      case AttributeType::kBool:
        c.allow = t->is() == fb::Tri_Yes ? 2 : 1;
        break;
      case AttributeType::kEnum:
        // Values this catalogue does not know (a newer one's) allow nothing.
        for (const flatbuffers::String* v : *t->values()) {
          for (size_t k = 0; k < spec.values.size(); ++k) {
            if (spec.values[k] == View(v)) c.allow |= uint64_t{1} << k;
          }
        }
        break;
      case AttributeType::kStringSet:
        c.strings = static_cast<uint32_t>(reinterpret_cast<const uint8_t*>(t->values()) - payload);
        break;
      case AttributeType::kIntRange:
        break;
    }
  }
}

const AttributeValue* FindAttributeValue(const Context& ctx, uint32_t handle) {
  for (const AttributeValue& v : ctx.attributes) {
    if (v.attribute == static_cast<int>(handle)) return &v;
  }
  return nullptr;
}

int FirstFailedAttribute(const State& im, int kind, uint32_t index, const Context& ctx) {
  if (im.attr_first[kind] == nullptr) return -1;
  const uint32_t first = im.attr_first[kind][index];
  if (first == kNoTerms) return -1;
  for (uint32_t i = first;; ++i) {
    const AttrTerm& t = im.attr_terms[i];
    const AttributeValue* v = FindAttributeValue(ctx, t.attribute);
    bool holds = false;
    if (v != nullptr) {
      switch (static_cast<AttributeType>(t.type)) {
        case AttributeType::kBool:
        case AttributeType::kEnum:
          holds = v->number >= 0 && v->number < 64 && ((t.allow >> v->number) & 1) != 0;
          break;
        case AttributeType::kIntRange:
          holds = v->number >= t.lo && v->number <= t.hi;
          break;
        case AttributeType::kStringSet: {
          const auto* list = reinterpret_cast<
              const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>*>(im.payload +
                                                                                    t.strings);
          for (std::string_view s : v->strings) holds = holds || AnyOf(list, s);
          break;
        }
      }
    }
    if (!holds) return static_cast<int>(i - first);
    if (t.last) return -1;
  }
}

}  // namespace internal
}  // namespace edict
