// The hot path: Resolve, MayUse, Schedule. No allocation, no locks, no I/O.
#include "kernel/query.h"

#include <cstring>

namespace edict {
namespace internal {
namespace {

bool RegionsMatch(const State& im, int kind, uint32_t index, const Context& ctx) {
  if (ctx.region.empty() || im.root == nullptr) return false;
  const fb::Condition* w = kind == 0   ? im.root->settings()->Get(index)->when()
                           : kind == 1 ? im.root->data_use()->Get(index)->when()
                                       : im.root->schedules()->Get(index)->when();
  return AnyOf(w->regions(), ctx.region);
}

// The terms FastMatch leaves out (kNeedSlow): regions and catalogue attributes.
inline bool SlowTermsMatch(const State& im, uint32_t slot, const Cand& c, const Context& ctx) {
  if ((c.need & kNeedSlow) == 0) return true;
  const int kind = KindOfSlot(im, slot);
  const uint32_t index = KeyIndex(c.key);
  if ((c.need & kNeedRegions) != 0 && !RegionsMatch(im, kind, index, ctx)) return false;
  return (c.need & kNeedAttributes) == 0 || FirstFailedAttribute(im, kind, index, ctx) < 0;
}

// Lowers `best` to the key of the first matching candidate of [b, e) that beats it.
inline void Scan(const State& im, uint32_t slot, const Cand* b, const Cand* e, const Context& ctx,
                 const CtxBits& x, uint64_t* best) {
  for (; b != e && b->key < *best; ++b) {
    if (FastMatch(*b, x) && SlowTermsMatch(im, slot, *b, ctx)) {
      *best = b->key;
      return;
    }
  }
}

}  // namespace

const GroupEntry* FindBucket(const State& im, uint32_t slot, uint64_t group_hash,
                             std::string_view g) {
  const uint64_t h = SlotHash(group_hash, slot);
  const uint32_t tag = EntryTag(h);
  for (uint64_t i = h & im.table_mask;; i = (i + 1) & im.table_mask) {
    const GroupEntry& e = im.table[i];
    if (e.tag == 0) return nullptr;
    if (e.tag == tag && e.slot == slot) {
      const auto* name = reinterpret_cast<const flatbuffers::String*>(im.payload + e.name);
      if (name->size() == g.size() && std::memcmp(name->c_str(), g.data(), g.size()) == 0) {
        return &e;
      }
    }
  }
}

uint64_t BestKey(const State& im, uint32_t slot, const Context& ctx, const CtxBits& x,
                 uint64_t limit) {
  uint64_t best = limit;
  Scan(im, slot, im.cands + im.bucket_begin[slot], im.cands + im.bucket_begin[slot + 1], ctx, x,
       &best);
  if (im.table != nullptr) {
    for (std::string_view g : ctx.groups) {
      const uint64_t gh = HashGroup(g.data(), g.size());
      const uint64_t bit = FilterBit(SlotHash(gh, slot), im.filter_mask);
      if ((im.filter[bit / 64] & (uint64_t{1} << (bit % 64))) == 0) continue;  // no bucket
      const GroupEntry* e = FindBucket(im, slot, gh, g);
      if (e == nullptr) continue;
      // The sentinel (key kNoKey) ends the bucket: it never beats `best`.
      for (const Cand* b = im.cands + e->begin; b->key < best; ++b) {
        if (FastMatch(*b, x) && SlowTermsMatch(im, slot, *b, ctx)) {
          best = b->key;
          break;
        }
      }
    }
  }
  return best;
}

int AtomicGroupDecider(const State& im, int setting, const Context& ctx, const CtxBits& x) {
  const int g = im.catalogs->settings()[setting].atomic_group;
  if (g < 0) return -1;
  const AtomicGroupSpec& group = im.catalogs->atomic_groups()[g];
  for (int m = 0; m < group.member_count; ++m) {
    const int other = group.members[m];
    if (other == setting) continue;
    if (BestKey(im, static_cast<uint32_t>(other), ctx, x, kRecommendedKeyBase) <
        kRecommendedKeyBase) {
      return other;
    }
  }
  return -1;
}

uint16_t ChoiceProblems(const SettingSpec& spec, const UserChoice& u, const Context& ctx) {
  uint16_t notes = 0;
  const bool user = (spec.setters & kSetterUser) != 0;
  const bool organiser = (spec.setters & kSetterOrganiser) != 0 && ctx.role == Role::kOrganiser;
  if (!user && !organiser) notes |= kNoteChoiceNotPermitted;
  bool valid = u.value.type == spec.type;
  if (valid && spec.type == SettingType::kBool) valid = u.value.number == 0 || u.value.number == 1;
  if (valid && spec.type == SettingType::kEnum) {
    valid = u.value.number >= 0 && u.value.number < spec.value_count;
  }
  if (valid && spec.type == SettingType::kFlags) {
    valid = u.value.number >= 0 &&
            (spec.value_count >= 63 || (u.value.number >> spec.value_count) == 0);
  }
  if (!valid) notes |= kNoteChoiceInvalid;
  if (spec.at_account_creation && !u.made_at_account_creation && !ctx.account_creation) {
    notes |= kNoteChoiceAfterCreation;
  }
  return notes;
}

Value RuleValue(const State& im, const SettingSpec& spec, uint32_t index) {
  Value v;
  v.type = spec.type;
  v.number = im.rule_value[0][index];
  if (spec.type == SettingType::kString) {
    const fb::StringValue* s = im.root->settings()->Get(index)->value_as_StringValue();
    v.number = 0;
    v.text = View(s->value());
  }
  return v;
}

Value DefaultValue(const SettingSpec& spec) {
  Value v;
  v.type = spec.type;
  v.number = spec.default_int;
  v.text = spec.type == SettingType::kString ? spec.default_string : std::string_view();
  return v;
}

bool Enabled(const Value& v) {
  return v.type == SettingType::kString ? !v.text.empty() : v.number != 0;
}

namespace {

// A built-in rule has at most one region; its Cand flags it (kNeedRegions), so rules
// without one are decided by the Cand alone.
inline bool BuiltinHolds(const Cand& c, const CtxBits& x, std::string_view region,
                         const Context& ctx) {
  return FastMatch(c, x) && ((c.need & kNeedRegions) == 0 ||
                             (!ctx.region.empty() && ctx.region == region));
}

}  // namespace

int FirstBuiltin(const State& im, Table<BuiltinDataUse> rules, const Context& ctx,
                 const CtxBits& x) {
  const Cand* c = im.builtin_cands + (rules.data - im.catalogs->builtin_data_use().data());
  for (size_t i = 0; i < rules.size(); ++i) {
    if (BuiltinHolds(c[i], x, rules[i].when.region, ctx)) return static_cast<int>(i);
  }
  return -1;
}

int FirstBuiltin(const State& im, Table<BuiltinSchedule> rules, const Context& ctx,
                 const CtxBits& x) {
  const Cand* c = im.builtin_cands + im.catalogs->builtin_data_use().size() +
                  (rules.data - im.catalogs->builtin_schedules().data());
  for (size_t i = 0; i < rules.size(); ++i) {
    if (BuiltinHolds(c[i], x, rules[i].when.region, ctx)) return static_cast<int>(i);
  }
  return -1;
}

bool CellFixed(Table<BuiltinDataUse> rules) {
  for (const BuiltinDataUse& b : rules) {
    if (b.fixed) return true;
  }
  return false;
}

}  // namespace internal

using internal::AtomicGroupDecider;
using internal::BestKey;
using internal::CellFixed;
using internal::ChoiceProblems;
using internal::CompileContext;
using internal::CtxBits;
using internal::DefaultValue;
using internal::Enabled;
using internal::FirstBuiltin;
using internal::KeyIndex;
using internal::kNoKey;
using internal::kRecommendedKeyBase;
using internal::RuleValue;

Resolution Snapshot::Resolve(int setting, const Context& ctx, const UserChoice* choice) const {
  const Impl& im = *impl_;
  Resolution r;
  r.serial = im.serial;
  if (setting < 0 || static_cast<uint32_t>(setting) >= im.slots.cell_base) {
    r.notes = kNoteUnknownSetting;
    return r;
  }
  const SettingSpec& spec = im.catalogs->settings()[setting];
  r.setting = setting;
  if (spec.fixed) {
    r.value = DefaultValue(spec);
    r.source = Source::kFixed;
    r.locked = true;
    if (choice != nullptr) r.notes |= kNoteChoiceOverriddenByLock;
  } else {
    const CtxBits x = CompileContext(ctx);
    uint64_t best = BestKey(im, static_cast<uint32_t>(setting), ctx, x, kNoKey);
    if (best >= kRecommendedKeyBase && spec.atomic_group >= 0 &&
        AtomicGroupDecider(im, setting, ctx, x) >= 0) {
      best = kNoKey;
      r.notes |= kNoteAtomicGroup;
    }
    if (best < kRecommendedKeyBase) {
      r.value = RuleValue(im, spec, KeyIndex(best));
      r.source = Source::kMandatory;
      r.locked = true;
      r.rule = static_cast<int32_t>(KeyIndex(best));
      if (choice != nullptr) r.notes |= kNoteChoiceOverriddenByLock;
    } else {
      const uint16_t problems = choice != nullptr ? ChoiceProblems(spec, *choice, ctx) : 0;
      r.notes |= problems;
      if (choice != nullptr && problems == 0) {
        r.value = choice->value;
        r.source = Source::kUser;
      } else if (best != kNoKey) {
        r.value = RuleValue(im, spec, KeyIndex(best));
        r.source = Source::kRecommended;
        r.rule = static_cast<int32_t>(KeyIndex(best));
      } else {
        r.value = DefaultValue(spec);
      }
    }
  }
  r.obligations = Enabled(r.value) ? spec.obligations_if_enabled : 0;
  return r;
}

DataUseDecision Snapshot::MayUse(int data_class, int purpose, const Context& ctx) const {
  const Impl& im = *impl_;
  DataUseDecision d;
  d.serial = im.serial;
  const CatalogSet& set = *im.catalogs;
  if (data_class < 0 || data_class >= static_cast<int>(set.data_classes().size()) || purpose < 0 ||
      purpose >= static_cast<int>(set.purposes().size())) {
    d.unknown = true;
    return d;
  }
  d.data_class = data_class;
  d.purpose = purpose;
  const Table<BuiltinDataUse> builtins = set.BuiltinRulesFor(data_class, purpose);
  Obligations obligations = set.data_classes()[data_class].obligations;
  int b = -1;
  const CtxBits x = CompileContext(ctx);
  if (CellFixed(builtins)) {
    b = FirstBuiltin(im, builtins, ctx, x);
    if (b >= 0) d.source = Source::kFixed;
  } else {
    const uint32_t slot = im.slots.cell_base +
                          static_cast<uint32_t>(data_class) * im.slots.purposes +
                          static_cast<uint32_t>(purpose);
    const uint64_t best = BestKey(im, slot, ctx, x, kNoKey);
    if (best != kNoKey) {
      const int64_t v = im.rule_value[1][KeyIndex(best)];
      d.allowed = (v >> 32) != 0;
      obligations |= static_cast<Obligations>(v);
      d.source = Source::kMandatory;
      d.rule = static_cast<int32_t>(KeyIndex(best));
    } else {
      b = FirstBuiltin(im, builtins, ctx, x);
    }
  }
  if (b >= 0) {
    d.allowed = builtins[b].allow;
    obligations |= builtins[b].obligations;
    d.builtin = static_cast<int32_t>(builtins.data - set.builtin_data_use().data()) + b;
  }
  d.obligations = d.allowed ? obligations : (obligations & kNeverCollect);
  return d;
}

ScheduleAnswer Snapshot::Schedule(int schedule, const Context& ctx) const {
  const Impl& im = *impl_;
  ScheduleAnswer s;
  s.serial = im.serial;
  if (schedule < 0 ||
      static_cast<uint32_t>(schedule) >= im.slots.slot_count - im.slots.schedule_base) {
    s.unknown = true;
    return s;
  }
  s.schedule = schedule;
  const CtxBits x = CompileContext(ctx);
  const uint64_t best =
      BestKey(im, im.slots.schedule_base + static_cast<uint32_t>(schedule), ctx, x, kNoKey);
  if (best != kNoKey) {
    s.interval_seconds = im.rule_value[2][KeyIndex(best)];
    s.source = Source::kMandatory;
    s.rule = static_cast<int32_t>(KeyIndex(best));
    return s;
  }
  const Table<BuiltinSchedule> builtins = im.catalogs->BuiltinRulesFor(schedule);
  const int b = FirstBuiltin(im, builtins, ctx, x);
  if (b >= 0) {
    s.interval_seconds = builtins[b].interval_seconds;
    s.builtin = static_cast<int32_t>(builtins.data - im.catalogs->builtin_schedules().data()) + b;
  }
  return s;
}

}  // namespace edict
