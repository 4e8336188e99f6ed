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

bool TriHolds(int term, TriState v) {
  if (term == fb::Tri_Any) return true;
  if (term == fb::Tri_Yes) return v == TriState::kYes;
  if (term == fb::Tri_No) return v == TriState::kNo;
  return false;
}

bool CommonTermsHold(int identity, int domain_joined, int device_managed, unsigned plans,
                     unsigned roles, int account_creation, int32_t os_min, int32_t os_max,
                     uint32_t state_all, uint32_t state_none, const Context& ctx) {
  if (identity == fb::IdentityKind_Managed && ctx.identity != Identity::kManaged) return false;
  if (identity == fb::IdentityKind_Unmanaged && ctx.identity != Identity::kUnmanaged) {
    return false;
  }
  if (identity != fb::IdentityKind_Any && identity != fb::IdentityKind_Managed &&
      identity != fb::IdentityKind_Unmanaged) {
    return false;
  }
  if (!TriHolds(domain_joined, ctx.domain_joined)) return false;
  if (!TriHolds(device_managed, ctx.device_managed)) return false;
  if (plans != 0 && (plans & static_cast<unsigned>(ctx.plan) & kLaneValueBits) == 0) return false;
  if (roles != 0 && (roles & static_cast<unsigned>(ctx.role) & kLaneValueBits) == 0) return false;
  if (account_creation != fb::Tri_Any &&
      !TriHolds(account_creation, ctx.account_creation ? TriState::kYes : TriState::kNo)) {
    return false;
  }
  if (os_min != 0 || os_max != 0) {
    if (ctx.os_generation == 0) return false;
    if (os_min != 0 && ctx.os_generation < os_min) return false;
    if (os_max != 0 && ctx.os_generation > os_max) return false;
  }
  if ((ctx.device_state & state_all) != state_all) return false;
  if ((ctx.device_state & state_none) != 0) return false;
  return true;
}

}  // namespace

Cand CompileCondition(const fb::Condition* w, uint64_t key) {
  CandBuilder b{Cand{0, 0, key, INT32_MIN, INT32_MAX, 0, 0}};
  if (w == nullptr) return b.c;
  b.Terms(w->identity(), w->domain_joined(), w->device_managed(), w->plans(), w->roles(),
          w->account_creation(), w->os_min(), w->os_max());
  b.c.state_all = w->state_all();
  b.c.state_none = w->state_none();
  if (w->regions() != nullptr && w->regions()->size() != 0) b.c.need |= kNeedRegions;
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

bool AnyOf(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* list,
           std::string_view v) {
  if (list == nullptr || v.empty()) return false;
  for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
    if (View(list->Get(i)) == v) return true;
  }
  return false;
}

bool ConditionMatches(const fb::Condition* w, const Context& ctx) {
  if (w == nullptr) return true;
  if (!CommonTermsHold(w->identity(), w->domain_joined(), w->device_managed(), w->plans(),
                       w->roles(), w->account_creation(), w->os_min(), w->os_max(), w->state_all(),
                       w->state_none(), ctx)) {
    return false;
  }
  if (w->groups() != nullptr && w->groups()->size() != 0) {
    bool any = false;
    for (std::string_view g : ctx.groups) {
      if (AnyOf(w->groups(), g)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (w->regions() != nullptr && w->regions()->size() != 0 && !AnyOf(w->regions(), ctx.region)) {
    return false;
  }
  return true;
}

bool ConditionMatches(const ConditionSpec& w, const Context& ctx) {
  if (!CommonTermsHold(w.identity, w.domain_joined, w.device_managed, w.plans, w.roles,
                       w.account_creation, w.os_min, w.os_max, w.state_all, w.state_none, ctx)) {
    return false;
  }
  return w.region.empty() || (!ctx.region.empty() && ctx.region == w.region);
}

RuleCheck CheckSettingRule(const fb::SettingRule* r) {
  RuleCheck out;
  const int s = catalog::FindSetting(View(r->setting()));
  if (s < 0) {
    out.reason = SkipReason::kUnknownSetting;
    return out;
  }
  const SettingSpec& spec = catalog::kSettings[s];
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

RuleCheck CheckDataUseRule(const fb::DataUseRule* r) {
  RuleCheck out;
  const int c = catalog::FindDataClass(View(r->data_class()));
  if (c < 0) {
    out.reason = SkipReason::kUnknownDataClass;
    return out;
  }
  const int p = catalog::FindPurpose(View(r->purpose()));
  if (p < 0) {
    out.reason = SkipReason::kUnknownPurpose;
    return out;
  }
  for (const BuiltinDataUse& b : catalog::BuiltinRulesFor(c, p)) {
    if (b.fixed) {
      out.reason = SkipReason::kFixedCell;
      return out;
    }
  }
  out.slot = kCellBase + static_cast<uint32_t>(c) * catalog::kPurposes.size() + p;
  out.number = (r->effect() == fb::Effect_Allow ? int64_t{1} << 32 : 0) | r->obligations();
  out.ok = true;
  return out;
}

RuleCheck CheckScheduleRule(const fb::ScheduleRule* r) {
  RuleCheck out;
  const int k = catalog::FindSchedule(View(r->schedule()));
  if (k < 0) {
    out.reason = SkipReason::kUnknownSchedule;
    return out;
  }
  if (r->interval_seconds() <= 0) {
    out.reason = SkipReason::kBadInterval;
    return out;
  }
  out.slot = kScheduleBase + static_cast<uint32_t>(k);
  out.number = r->interval_seconds();
  out.ok = true;
  return out;
}

}  // namespace internal
}  // namespace edict
