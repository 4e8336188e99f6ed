// Explain's wording of conditions: every term is read from the compiled matcher (the Cand
// activation builds, FirstFailedTerm, FirstFailedAttribute) and named by the set's
// attribute table, so explain cannot disagree with the query it explains and knows no
// attribute names of its own.
#include <cstdint>

#include "kernel/explain_out.h"

namespace edict {
namespace internal {
namespace {

using StringVec = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

const AttributeSpec& Row(const CatalogSet& set, BuiltinTerm t) {
  return set.attributes()[set.BuiltinAttribute(t)];
}

// The values of bit set `bits` on row `a`: Bool rows yes (bit 0) / no (bit 1), as the Tri
// lanes hold them; Enum rows bit i = values[i]. In a lane, kLaneNever marks values this
// endpoint's catalogue does not know.
void PutBits(Out& o, const AttributeSpec& a, uint64_t bits, std::string_view sep, bool lane) {
  if (lane && (bits & kLaneNever) != 0) {
    o << "a value this endpoint does not know";
    return;
  }
  bool first = true;
  for (uint32_t i = 0; i < 32; ++i) {
    if ((bits & (uint64_t{1} << i)) == 0) continue;
    if (!first) o << sep;
    first = false;
    if (a.type == AttributeType::kBool) {
      o << (i == 0 ? "yes" : i == 1 ? "no" : "?");
    } else if (i < a.values.size()) {
      o << a.values[i];
    } else {
      o << "#";
      o.Int(i);
    }
  }
  if (first) o << "none";
}

void PutRange(Out& o, int64_t lo, int64_t hi) {
  if (lo != INT32_MIN && hi != INT32_MAX) {
    o.Int(lo) << " to ";
    o.Int(hi);
  } else if (lo != INT32_MIN) {
    o << ">= ";
    o.Int(lo);
  } else {
    o << "<= ";
    o.Int(hi);
  }
}

void List(Out& o, const StringVec* v, std::string_view single) {
  if (v == nullptr || v->size() == 0) {
    o << single;
    return;
  }
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    if (i != 0) o << " or ";
    o << View(v->Get(i));
  }
}

const StringVec* Groups(const fb::Condition* w) {
  return w != nullptr && w->groups() != nullptr && w->groups()->size() != 0 ? w->groups() : nullptr;
}
const StringVec* Regions(const fb::Condition* w) {
  return w != nullptr && w->regions() != nullptr && w->regions()->size() != 0 ? w->regions()
                                                                              : nullptr;
}

std::string_view NeedWord(int v) { return v == fb::Tri_Yes ? "yes" : v == fb::Tri_No ? "no" : "?"; }

// "acmevpn.network_trust corporate or home", "acmevpn.on_battery no",
// "acmevpn.tunnel_count 1 to 3". The payload alone says which: `is` for bool terms,
// `values` for enum and string-set terms, else a range.
void PutAttributeTerm(Out& o, const fb::AttributeTerm* a) {
  o << View(a->name()) << " ";
  if (a->is() != fb::Tri_Any) {
    o << NeedWord(a->is());
  } else if (a->values() != nullptr && a->values()->size() != 0) {
    List(o, a->values(), "");
  } else {
    o.Int(a->min()) << " to ";
    o.Int(a->max());
  }
}

// "attribute acmevpn.network_trust is home, rule needs corporate".
void PutFailedAttribute(Out& o, const CatalogSet& set, const fb::AttributeTerm* a,
                        const Context& ctx) {
  const int handle = set.FindAttribute(View(a->name()));
  const AttributeValue* v =
      handle < 0 ? nullptr : FindAttributeValue(ctx, static_cast<uint32_t>(handle));
  o << "attribute " << View(a->name()) << " is ";
  if (v == nullptr) {
    o << "unknown";
  } else {
    const AttributeSpec& spec = set.attributes()[handle];
    switch (spec.type) {
      case AttributeType::kBool:
        o << (v->number == 1 ? "yes" : v->number == 0 ? "no" : "invalid");
        break;
      case AttributeType::kEnum:
        if (v->number >= 0 && static_cast<size_t>(v->number) < spec.values.size()) {
          o << spec.values[v->number];
        } else {
          o << "invalid";
        }
        break;
      case AttributeType::kIntRange:
        o.Int(v->number);
        break;
      case AttributeType::kStringSet:
        for (size_t i = 0; i < v->strings.size(); ++i) o << (i == 0 ? "" : "|") << v->strings[i];
        if (v->strings.empty()) o << "empty";
        break;
    }
  }
  o << ", rule needs ";
  PutAttributeTerm(o, a);
}

// "<attribute> is <the context's value>, rule needs <the term>" for built-in term `t`.
void PutFailedTerm(Out& o, const CatalogSet& set, BuiltinTerm t, const Cand& c, const CtxBits& x,
                   const Context& ctx, const fb::Condition* w, std::string_view region) {
  const AttributeSpec& a = Row(set, t);
  const int lane = LaneOf(t);
  // device_state_not is a term on device_state: the context holds device_state.
  o << (t == BuiltinTerm::kDeviceStateNot ? Row(set, BuiltinTerm::kDeviceState).name : a.name)
    << " is ";
  if (lane >= 0) {
    const uint64_t has = (x.lanes >> (8 * lane)) & 0xFF;
    if (has == 0) {
      o << "unknown";
    } else {
      PutBits(o, a, has, "|", false);
    }
    o << ", rule needs ";
    PutBits(o, a, (c.allow >> (8 * lane)) & 0xFF, " or ", true);
    return;
  }
  switch (t) {
    case BuiltinTerm::kOsGeneration:
      if (x.os == 0) {
        o << "unknown";
      } else {
        o.Int(x.os);
      }
      o << ", rule needs ";
      PutRange(o, c.os_lo, c.os_hi);
      return;
    case BuiltinTerm::kDeviceState:
    case BuiltinTerm::kDeviceStateNot: {
      PutBits(o, a, x.state, "|", false);
      const bool all = t == BuiltinTerm::kDeviceState;
      o << (all ? ", rule needs " : ", rule excludes ");
      PutBits(o, a, all ? c.state_all : c.state_none, all ? " and " : " or ", false);
      return;
    }
    case BuiltinTerm::kGroups:
      for (size_t i = 0; i < ctx.groups.size(); ++i) o << (i == 0 ? "" : "|") << ctx.groups[i];
      if (ctx.groups.empty()) o << "none";
      o << ", rule needs ";
      List(o, Groups(w), "");
      return;
    case BuiltinTerm::kRegion:
      o << (ctx.region.empty() ? std::string_view("unknown") : ctx.region) << ", rule needs ";
      List(o, Regions(w), region);
      return;
    default:
      o << "?";
      return;
  }
}

// The built-in terms the compiled matcher leaves to others: groups (the hot path's buckets)
// and regions (SlowTermsMatch). kNone if both hold.
BuiltinTerm FirstFailedListTerm(const fb::Condition* w, std::string_view region,
                                const Context& ctx) {
  if (const StringVec* groups = Groups(w)) {
    bool any = false;
    for (std::string_view g : ctx.groups) any = any || AnyOf(groups, g);
    if (!any) return BuiltinTerm::kGroups;
  }
  if (const StringVec* regions = Regions(w); regions != nullptr && !AnyOf(regions, ctx.region)) {
    return BuiltinTerm::kRegion;
  }
  if (!region.empty() && ctx.region != region) return BuiltinTerm::kRegion;
  return BuiltinTerm::kNone;
}

}  // namespace

void PutCondition(Out& o, const CatalogSet& set, const Cand& c, const fb::Condition* w,
                  std::string_view region) {
  bool first = true;
  auto sep = [&](const AttributeSpec& a) -> Out& {
    if (!first) o << ", ";
    first = false;
    return o << a.name << " ";
  };
  for (const AttributeSpec& a : set.attributes()) {
    const int lane = LaneOf(a.term);
    if (lane >= 0 && a.term != BuiltinTerm::kOsGeneration) {
      if ((c.need & LaneBits(lane, 0x80)) != 0) {
        PutBits(sep(a), a, (c.allow >> (8 * lane)) & 0xFF, " or ", true);
      }
      continue;
    }
    switch (a.term) {
      case BuiltinTerm::kOsGeneration:
        if ((c.need & LaneBits(lane, 0x80)) != 0) PutRange(sep(a), c.os_lo, c.os_hi);
        break;
      case BuiltinTerm::kDeviceState:
        if (c.state_all != 0) PutBits(sep(a), a, c.state_all, " and ", false);
        break;
      case BuiltinTerm::kDeviceStateNot:
        if (c.state_none != 0) PutBits(sep(a), a, c.state_none, " or ", false);
        break;
      case BuiltinTerm::kGroups:
        if (Groups(w) != nullptr) List(sep(a), Groups(w), "");
        break;
      case BuiltinTerm::kRegion:
        if (Regions(w) != nullptr || !region.empty()) List(sep(a), Regions(w), region);
        break;
      default:
        break;
    }
  }
  if (w != nullptr && w->attributes() != nullptr) {
    for (const fb::AttributeTerm* t : *w->attributes()) {
      if (!first) o << ", ";
      first = false;
      PutAttributeTerm(o, t);
    }
  }
  if (first) o << "everyone";
}

bool PutIfConditionFails(Out& o, const State& im, int kind, uint32_t index, const fb::Condition* w,
                         const Context& ctx) {
  const Cand c = CompileCondition(w, 0);
  const CtxBits x = CompileContext(ctx);
  BuiltinTerm t = FirstFailedTerm(c, x);
  if (t == BuiltinTerm::kNone) t = FirstFailedListTerm(w, {}, ctx);
  const int attr = t == BuiltinTerm::kNone ? FirstFailedAttribute(im, kind, index, ctx) : -1;
  if (t == BuiltinTerm::kNone && attr < 0) return false;
  o << "condition failed: ";
  if (t != BuiltinTerm::kNone) {
    PutFailedTerm(o, *im.catalogs, t, c, x, ctx, w, {});
  } else {
    PutFailedAttribute(o, *im.catalogs,
                       w->attributes()->Get(static_cast<flatbuffers::uoffset_t>(attr)), ctx);
  }
  return true;
}

bool PutIfConditionFails(Out& o, const CatalogSet& set, const ConditionSpec& w,
                         const Context& ctx) {
  const Cand c = CompileCondition(w);
  const CtxBits x = CompileContext(ctx);
  BuiltinTerm t = FirstFailedTerm(c, x);
  if (t == BuiltinTerm::kNone) t = FirstFailedListTerm(nullptr, w.region, ctx);
  if (t == BuiltinTerm::kNone) return false;
  o << "condition failed: ";
  PutFailedTerm(o, set, t, c, x, ctx, nullptr, w.region);
  return true;
}

}  // namespace internal
}  // namespace edict
