// Activation: verify a payload and index it into the caller's arena.
//
// Arena layout (every part 16-byte aligned, sizes depend on the payload and the catalogue
// set's slot count):
//   Impl | Snapshot | bucket_begin[slot_count + 1] | rule_value[kind][n_kind] |
//   attr_first[kind][n_kind] | attr_terms[n_terms] |
//   slot_of[n_rules] (scratch) | cands[cand_cap] | table[table_cap] | filter
// cand_cap counts, over all rules, 1 per rule without groups and two per group name
// otherwise (candidate + bucket sentinel), so it bounds what pass 2 writes; table_cap is a power of
// two at least twice the group names, so the open-addressing table stays at most half full.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#include "absl/status/status.h"
#include "flatbuffers/flatbuffers.h"
#include "kernel/internal.h"
#include "policy/aligned.h"
#include "policy/condition.h"

namespace edict {

using internal::Cand;
using internal::GroupEntry;

namespace {

constexpr flatbuffers::uoffset_t kMaxDepth = 16;
constexpr flatbuffers::uoffset_t kMaxTables = 1u << 24;
constexpr uint32_t kInvalidSlot = ~uint32_t{0};
constexpr size_t kAlign = alignof(std::max_align_t);

using StringVec = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

size_t AlignUp(size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

absl::StatusOr<const fb::Payload*> VerifiedRoot(absl::Span<const uint8_t> payload) {
  if (!IsFlatBufferAligned(payload.data())) {
    return absl::InvalidArgumentError("payload does not start on an 8-byte boundary");
  }
  if (payload.size() < 8 || payload.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return absl::InvalidArgumentError("payload does not pass the verifier");
  }
  flatbuffers::Verifier v(payload.data(), payload.size(), kMaxDepth, kMaxTables);
  if (!fb::VerifyPayloadBuffer(v)) {
    return absl::InvalidArgumentError("payload does not pass the verifier");
  }
  return fb::GetPayload(payload.data());
}

template <typename Rule>
size_t Count(const flatbuffers::Vector<flatbuffers::Offset<Rule>>* v) {
  return v == nullptr ? 0 : v->size();
}

const StringVec* GroupsOf(const fb::Condition* w) {
  if (w == nullptr || w->groups() == nullptr || w->groups()->size() == 0) return nullptr;
  return w->groups();
}

template <typename Rule>
size_t CandidatesOf(const flatbuffers::Vector<flatbuffers::Offset<Rule>>* v, size_t* group_names) {
  size_t n = 0;
  if (v == nullptr) return 0;
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    const StringVec* g = GroupsOf(v->Get(i)->when());
    if (g == nullptr) {
      ++n;
    } else {
      n += 2 * g->size();  // candidate + (at most) one bucket sentinel per group name
      *group_names += g->size();
    }
  }
  return n;
}

struct Layout {
  size_t n[3] = {0, 0, 0};
  size_t terms = 0;  // attribute terms of all rules
  size_t off_attr_first[3] = {0, 0, 0}, off_terms = 0;
  size_t cand_cap = 0;
  size_t table_cap = 0;
  size_t filter_bits = 0;  // 4 per table entry: a power of two, at least 64
  size_t off_snapshot = 0, off_buckets = 0, off_builtin = 0, off_values[3] = {0, 0, 0},
         off_slots = 0, off_cands = 0, off_table = 0, off_filter = 0, total = 0;
};

template <typename Rule>
size_t TermsOf(const flatbuffers::Vector<flatbuffers::Offset<Rule>>* v) {
  size_t n = 0;
  if (v == nullptr) return 0;
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    n += internal::AttributeTermCount(v->Get(i)->when());
  }
  return n;
}

Layout ComputeLayout(const fb::Payload* p, const internal::SlotLayout& slots) {
  Layout l;
  l.terms = TermsOf(p->settings()) + TermsOf(p->data_use()) + TermsOf(p->schedules());
  l.n[0] = Count(p->settings());
  l.n[1] = Count(p->data_use());
  l.n[2] = Count(p->schedules());
  size_t group_names = 0;
  l.cand_cap = CandidatesOf(p->settings(), &group_names) +
               CandidatesOf(p->data_use(), &group_names) +
               CandidatesOf(p->schedules(), &group_names);
  if (group_names != 0) {
    l.table_cap = 2;
    while (l.table_cap < 2 * group_names) l.table_cap *= 2;
    l.filter_bits = l.table_cap * 4 < 64 ? 64 : l.table_cap * 4;
  }
  size_t off = AlignUp(sizeof(internal::State));
  l.off_snapshot = off;
  off = AlignUp(off + sizeof(Snapshot));
  l.off_buckets = off;
  off = AlignUp(off + sizeof(uint32_t) * (slots.slot_count + 1));
  l.off_builtin = off;
  off = AlignUp(off + sizeof(Cand) * slots.builtin_rules);
  for (int k = 0; k < 3; ++k) {
    l.off_values[k] = off;
    off = AlignUp(off + sizeof(int64_t) * l.n[k]);
  }
  for (int k = 0; k < 3; ++k) {
    l.off_attr_first[k] = off;
    off = AlignUp(off + sizeof(uint32_t) * l.n[k]);
  }
  l.off_terms = off;
  off = AlignUp(off + sizeof(internal::AttrTerm) * l.terms);
  l.off_slots = off;
  off = AlignUp(off + sizeof(uint32_t) * (l.n[0] + l.n[1] + l.n[2]));
  l.off_cands = off;
  off = AlignUp(off + sizeof(Cand) * l.cand_cap);
  l.off_table = off;
  off = AlignUp(off + sizeof(GroupEntry) * l.table_cap);
  l.off_filter = off;
  off = AlignUp(off + l.filter_bits / 8);
  l.total = off;
  return l;
}

// Open-addressing lookup; inserts an empty bucket when `insert` and absent.
GroupEntry* FindGroup(GroupEntry* table, size_t mask, uint32_t slot, const uint8_t* payload,
                      const flatbuffers::String* g, bool insert) {
  const uint64_t h = internal::SlotHash(internal::HashGroup(g->c_str(), g->size()), slot);
  const uint32_t tag = internal::EntryTag(h);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    GroupEntry& e = table[i];
    if (e.tag == 0) {
      if (!insert) return nullptr;
      e.tag = tag;
      e.slot = slot;
      e.name = static_cast<uint32_t>(reinterpret_cast<const uint8_t*>(g) - payload);
      e.begin = 0;
      return &e;
    }
    if (e.tag == tag && e.slot == slot) {
      const auto* name = reinterpret_cast<const flatbuffers::String*>(payload + e.name);
      if (name == g ||
          (name->size() == g->size() && std::memcmp(name->c_str(), g->c_str(), g->size()) == 0)) {
        return &e;
      }
    }
  }
}

// Setting names seen during one activation: a policy names few settings many times, and a
// large catalogue set's name table does not stay in cache, so a small direct-mapped memo
// (on the stack; keyed by the name's hash, checked by comparing the bytes) answers most
// lookups. Misses go to CatalogSet::FindSetting.
class SettingMemo {
 public:
  int Find(const CatalogSet& set, const flatbuffers::String* name) {
    const uint64_t h = internal::HashGroup(name->c_str(), name->size());
    Entry& e = entries_[h & (kSize - 1)];
    if (e.name != nullptr && e.hash == h && e.name->size() == name->size() &&
        std::memcmp(e.name->c_str(), name->c_str(), name->size()) == 0) {
      return e.handle;
    }
    e = Entry{name, h, set.FindSetting(internal::View(name))};
    return e.handle;
  }

 private:
  static constexpr size_t kSize = 64;
  struct Entry {
    const flatbuffers::String* name = nullptr;
    uint64_t hash = 0;
    int handle = -1;
  };
  Entry entries_[kSize];
};

// Uniform access to the three rule vectors.
struct Rules {
  const fb::Payload* p;
  const CatalogSet& set;
  internal::SlotLayout slots;
  SettingMemo* memo = nullptr;  // activation only
  const fb::Condition* When(int kind, uint32_t i) const {
    switch (kind) {
      case 0:
        return p->settings()->Get(i)->when();
      case 1:
        return p->data_use()->Get(i)->when();
      default:
        return p->schedules()->Get(i)->when();
    }
  }
  int Level(int kind, uint32_t i) const {
    if (kind != 0) return 0;
    return p->settings()->Get(i)->level() == fb::Level_Mandatory ? 0 : 1;
  }
  bool Critical(int kind, uint32_t i) const {
    switch (kind) {
      case 0:
        return p->settings()->Get(i)->critical();
      case 1:
        return p->data_use()->Get(i)->critical();
      default:
        return p->schedules()->Get(i)->critical();
    }
  }
  internal::RuleCheck Check(int kind, uint32_t i) const {
    switch (kind) {
      case 0: {
        const fb::SettingRule* r = p->settings()->Get(i);
        return memo == nullptr ? internal::CheckSettingRule(set, r)
                               : internal::CheckSettingRule(set, r, memo->Find(set, r->setting()));
      }
      case 1:
        return internal::CheckDataUseRule(set, slots, p->data_use()->Get(i));
      default:
        return internal::CheckScheduleRule(set, slots, p->schedules()->Get(i));
    }
  }
  std::string_view Name(int kind, uint32_t i, SkipReason reason) const {
    switch (kind) {
      case 0:
        return internal::View(p->settings()->Get(i)->setting());
      case 1:
        return internal::View(reason == SkipReason::kUnknownPurpose
                                  ? p->data_use()->Get(i)->purpose()
                                  : p->data_use()->Get(i)->data_class());
      default:
        return internal::View(p->schedules()->Get(i)->schedule());
    }
  }
};

}  // namespace

absl::StatusOr<size_t> Snapshot::ArenaSize(absl::Span<const uint8_t> payload,
                                           const CatalogSet& catalogs) {
  absl::StatusOr<const fb::Payload*> root = VerifiedRoot(payload);
  if (!root.ok()) return root.status();
  return ComputeLayout(*root, internal::LayoutOf(catalogs)).total;
}

absl::StatusOr<const Snapshot*> Snapshot::Activate(absl::Span<const uint8_t> payload,
                                                   absl::Span<uint8_t> arena,
                                                   const CatalogSet& catalogs) {
  absl::StatusOr<const fb::Payload*> verified = VerifiedRoot(payload);
  if (!verified.ok()) return verified.status();
  const fb::Payload* root = *verified;
  if (root->header()->format_version() != 1) {
    return absl::FailedPreconditionError("unsupported payload format_version");
  }
  const internal::SlotLayout slots = internal::LayoutOf(catalogs);
  const uint32_t slot_count = slots.slot_count;
  const Layout l = ComputeLayout(root, slots);
  if (arena.size() < l.total) return absl::ResourceExhaustedError("arena too small");
  if (reinterpret_cast<uintptr_t>(arena.data()) % kAlign != 0) {
    return absl::InvalidArgumentError("arena not aligned for std::max_align_t");
  }
  uint8_t* base = arena.data();
  Impl* im = new (base) Impl();
  im->payload = payload.data();
  im->payload_size = payload.size();
  im->root = root;
  im->serial = root->header()->serial();
  im->catalogs = &catalogs;
  im->slots = slots;

  uint32_t* buckets = reinterpret_cast<uint32_t*>(base + l.off_buckets);
  std::memset(buckets, 0, sizeof(uint32_t) * (slot_count + 1));
  Cand* builtin_cands = reinterpret_cast<Cand*>(base + l.off_builtin);
  internal::CompileBuiltinConditions(catalogs, builtin_cands);
  im->builtin_cands = builtin_cands;
  int64_t* values[3];
  uint32_t* attr_first[3];
  for (int k = 0; k < 3; ++k) {
    values[k] = reinterpret_cast<int64_t*>(base + l.off_values[k]);
    im->rule_value[k] = values[k];
    attr_first[k] = reinterpret_cast<uint32_t*>(base + l.off_attr_first[k]);
    im->attr_first[k] = attr_first[k];
  }
  internal::AttrTerm* terms = reinterpret_cast<internal::AttrTerm*>(base + l.off_terms);
  im->attr_terms = terms;
  size_t next_term = 0;
  uint32_t* slot_of = reinterpret_cast<uint32_t*>(base + l.off_slots);
  Cand* cands = reinterpret_cast<Cand*>(base + l.off_cands);
  GroupEntry* table = reinterpret_cast<GroupEntry*>(base + l.off_table);
  const size_t mask = l.table_cap == 0 ? 0 : l.table_cap - 1;
  if (l.table_cap != 0) std::memset(static_cast<void*>(table), 0, sizeof(GroupEntry) * l.table_cap);
  uint64_t* filter = reinterpret_cast<uint64_t*>(base + l.off_filter);
  const uint64_t filter_mask = l.filter_bits == 0 ? 0 : l.filter_bits - 1;
  if (l.filter_bits != 0) std::memset(static_cast<void*>(filter), 0, l.filter_bits / 8);

  SettingMemo memo;
  const Rules rules{root, catalogs, slots, &memo};
  // Pass 1: check every rule, record skips, count bucket sizes.
  size_t flat = 0;
  for (int k = 0; k < 3; ++k) {
    for (uint32_t i = 0; i < l.n[k]; ++i, ++flat) {
      internal::RuleCheck rc = rules.Check(k, i);
      attr_first[k][i] = internal::kNoTerms;
      if (rc.ok && !internal::AttributeTermsValid(catalogs, rules.When(k, i))) {
        rc.ok = false;
        rc.reason = SkipReason::kUnknownAttribute;
      }
      if (!rc.ok) {
        if (rules.Critical(k, i)) {
          return absl::FailedPreconditionError("critical rule cannot be honoured");
        }
        if (im->skipped_reported < kMaxReportedSkips) {
          im->skipped[im->skipped_reported++] =
              SkippedRule{static_cast<RuleKind>(k), rc.reason, i, rules.Name(k, i, rc.reason)};
        }
        ++im->skipped_count;
        slot_of[flat] = kInvalidSlot;
        values[k][i] = 0;
        continue;
      }
      slot_of[flat] = rc.slot;
      values[k][i] = rc.number;
      const StringVec* groups = GroupsOf(rules.When(k, i));
      if (groups == nullptr) {
        ++buckets[rc.slot];
      } else {
        for (flatbuffers::uoffset_t g = 0; g < groups->size(); ++g) {
          const flatbuffers::String* name = groups->Get(g);
          ++FindGroup(table, mask, rc.slot, payload.data(), name, true)->begin;
          const uint64_t bit = internal::FilterBit(
              internal::SlotHash(internal::HashGroup(name->c_str(), name->size()), rc.slot),
              filter_mask);
          filter[bit / 64] |= uint64_t{1} << (bit % 64);
        }
      }
    }
  }
  // Bucket ends; pass 2 fills each no-group bucket backwards, ending at its begin.
  uint32_t sum = 0;
  for (uint32_t s = 0; s < slot_count; ++s) {
    sum += buckets[s];
    buckets[s] = sum;
  }
  buckets[slot_count] = sum;
  // Group buckets: `begin` holds the count; make it the bucket's end (filled backwards
  // like the no-group buckets) and put the sentinel there.
  const Cand sentinel{0, 0, internal::kNoKey, 0, 0, 0, 0};
  for (size_t t = 0; t < l.table_cap; ++t) {
    if (table[t].tag == 0) continue;
    sum += table[t].begin;
    table[t].begin = sum;
    cands[sum++] = sentinel;
  }
  // Pass 2: compile each valid rule once and place it in its buckets.
  flat = 0;
  for (int k = 0; k < 3; ++k) {
    for (uint32_t i = 0; i < l.n[k]; ++i, ++flat) {
      const uint32_t slot = slot_of[flat];
      if (slot == kInvalidSlot) continue;
      const fb::Condition* when = rules.When(k, i);
      const size_t nterms = internal::AttributeTermCount(when);
      if (nterms != 0) {
        attr_first[k][i] = static_cast<uint32_t>(next_term);
        internal::CompileAttributeTerms(catalogs, payload.data(), when, terms + next_term);
        next_term += nterms;
      }
      const Cand c = internal::CompileCondition(
          when, internal::PriorityKey(rules.Level(k, i), Specificity(when), i));
      const StringVec* groups = GroupsOf(when);
      if (groups == nullptr) {
        cands[--buckets[slot]] = c;
      } else {
        for (flatbuffers::uoffset_t g = 0; g < groups->size(); ++g) {
          GroupEntry* e = FindGroup(table, mask, slot, payload.data(), groups->Get(g), false);
          cands[--e->begin] = c;
        }
      }
    }
  }
  const auto by_key = [](const Cand& a, const Cand& b) { return a.key < b.key; };
  for (uint32_t s = 0; s < slot_count; ++s) {
    std::sort(cands + buckets[s], cands + buckets[s + 1], by_key);
  }
  for (size_t t = 0; t < l.table_cap; ++t) {
    if (table[t].tag == 0) continue;
    Cand* end = cands + table[t].begin;
    while (end->key != internal::kNoKey) ++end;
    std::sort(cands + table[t].begin, end, by_key);
  }
  im->bucket_begin = buckets;
  im->cands = cands;
  im->table = l.table_cap == 0 ? nullptr : table;
  im->table_mask = mask;
  im->filter = l.table_cap == 0 ? nullptr : filter;
  im->filter_mask = filter_mask;

  Snapshot* snap = new (base + l.off_snapshot) Snapshot();
  snap->impl_ = im;
  return snap;
}

size_t Snapshot::DefaultsArenaSize(const CatalogSet& catalogs) {
  const internal::SlotLayout slots = internal::LayoutOf(catalogs);
  return AlignUp(sizeof(internal::State)) + AlignUp(sizeof(Snapshot)) +
         AlignUp(sizeof(uint32_t) * (slots.slot_count + 1)) +
         AlignUp(sizeof(Cand) * slots.builtin_rules);
}

absl::StatusOr<const Snapshot*> Snapshot::Defaults(const CatalogSet& catalogs,
                                                   absl::Span<uint8_t> arena) {
  if (arena.size() < DefaultsArenaSize(catalogs)) {
    return absl::ResourceExhaustedError("arena too small");
  }
  if (reinterpret_cast<uintptr_t>(arena.data()) % kAlign != 0) {
    return absl::InvalidArgumentError("arena not aligned for std::max_align_t");
  }
  uint8_t* base = arena.data();
  Impl* im = new (base) Impl();
  im->catalogs = &catalogs;
  im->slots = internal::LayoutOf(catalogs);
  const size_t off_snapshot = AlignUp(sizeof(internal::State));
  const size_t off_buckets = off_snapshot + AlignUp(sizeof(Snapshot));
  uint32_t* buckets = reinterpret_cast<uint32_t*>(base + off_buckets);
  std::memset(buckets, 0, sizeof(uint32_t) * (im->slots.slot_count + 1));
  im->bucket_begin = buckets;
  const size_t off_builtin = off_buckets + AlignUp(sizeof(uint32_t) * (im->slots.slot_count + 1));
  Cand* builtin_cands = reinterpret_cast<Cand*>(base + off_builtin);
  internal::CompileBuiltinConditions(catalogs, builtin_cands);
  im->builtin_cands = builtin_cands;
  Snapshot* snap = new (base + off_snapshot) Snapshot();
  snap->impl_ = im;
  return snap;
}

const Snapshot& Snapshot::Defaults() {
  // Static storage sized for the built-in catalogue: no allocation, even on first use.
  constexpr size_t kSlots = catalog::kSettings.size() +
                            catalog::kDataClasses.size() * catalog::kPurposes.size() +
                            catalog::kSchedules.size();
  constexpr size_t kBuiltinRules =
      catalog::kBuiltinDataUse.size() + catalog::kBuiltinSchedules.size();
  constexpr size_t kSize = ((sizeof(internal::State) + kAlign - 1) & ~(kAlign - 1)) +
                           ((sizeof(Snapshot) + kAlign - 1) & ~(kAlign - 1)) +
                           ((sizeof(uint32_t) * (kSlots + 1) + kAlign - 1) & ~(kAlign - 1)) +
                           ((sizeof(Cand) * kBuiltinRules + kAlign - 1) & ~(kAlign - 1));
  alignas(std::max_align_t) static uint8_t storage[kSize];
  static const Snapshot* const kDefaults =
      *Defaults(CatalogSet::Builtin(), absl::Span<uint8_t>(storage, kSize));
  return *kDefaults;
}

const CatalogSet& Snapshot::catalogs() const { return *impl_->catalogs; }

uint64_t Snapshot::serial() const { return impl_->serial; }
size_t Snapshot::skipped_count() const { return impl_->skipped_count; }
absl::Span<const SkippedRule> Snapshot::skipped() const {
  return absl::Span<const SkippedRule>(impl_->skipped, impl_->skipped_reported);
}
absl::Span<const uint8_t> Snapshot::payload() const {
  return absl::Span<const uint8_t>(impl_->payload, impl_->payload_size);
}

std::string_view SourceName(Source s) {
  switch (s) {
    case Source::kDefault:
      return "default";
    case Source::kFixed:
      return "fixed";
    case Source::kMandatory:
      return "mandatory";
    case Source::kUser:
      return "user";
    case Source::kRecommended:
      return "recommended";
  }
  return "unknown";
}

std::string_view SkipReasonName(SkipReason r) {
  switch (r) {
    case SkipReason::kUnknownSetting:
      return "unknown setting";
    case SkipReason::kUnknownDataClass:
      return "unknown data class";
    case SkipReason::kUnknownPurpose:
      return "unknown purpose";
    case SkipReason::kUnknownSchedule:
      return "unknown schedule";
    case SkipReason::kUnknownSymbol:
      return "unknown value symbol";
    case SkipReason::kWrongValueType:
      return "wrong value type";
    case SkipReason::kNotAdminSettable:
      return "not settable by an admin";
    case SkipReason::kFixedCell:
      return "fixed data-use cell";
    case SkipReason::kBadInterval:
      return "interval not positive";
    case SkipReason::kUnknownAttribute:
      return "unknown context attribute";
  }
  return "unknown reason";
}

}  // namespace edict
