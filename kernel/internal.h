// Internal layout of an activated snapshot. Not part of the public API.
//
// Everything a query touches lives in the caller's arena (or, for Defaults(), in static
// storage): one array of compiled candidates grouped in buckets, a dense bucket table per
// slot, and an open-addressing hash table of (slot, group) buckets. A slot is a setting,
// a data-use cell or a schedule:
//
//   [0, kSettingSlots)                         setting id
//   [kSettingSlots, kSettingSlots+kCellSlots)  data-use cell (class * purposes + purpose)
//   [.., kSlotCount)                           schedule id
#ifndef EDICT_KERNEL_INTERNAL_H_
#define EDICT_KERNEL_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "policy/edict_generated.h"

namespace edict {
namespace internal {

// Slot layout of a catalogue set: settings, then data-use cells, then schedules.
struct SlotLayout {
  uint32_t cell_base = 0;      // = number of settings
  uint32_t schedule_base = 0;  // cell_base + classes * purposes
  uint32_t slot_count = 0;     // schedule_base + schedules
  uint32_t purposes = 0;
  uint32_t builtin_rules = 0;  // built-in data-use rules, then built-in schedule rules
};
inline SlotLayout LayoutOf(const CatalogSet& set) {
  SlotLayout l;
  l.builtin_rules =
      static_cast<uint32_t>(set.builtin_data_use().size() + set.builtin_schedules().size());
  l.cell_base = static_cast<uint32_t>(set.settings().size());
  l.purposes = static_cast<uint32_t>(set.purposes().size());
  l.schedule_base = l.cell_base + static_cast<uint32_t>(set.data_classes().size()) * l.purposes;
  l.slot_count = l.schedule_base + static_cast<uint32_t>(set.schedules().size());
  return l;
}

// ---- Compiled conditions --------------------------------------------------------------
//
// The enumerable terms (identity, domain-joined, device-managed, plan, role, account
// creation, "OS generation known") each own one byte lane of a 64-bit word. The context
// sets, per lane, the one bit of its value (nothing when unknown); a condition stores the
// bits it allows (nothing when unconstrained). A lane is satisfied when it is
// unconstrained or the two share a bit, so the conjunction is a few word operations.
inline constexpr int kLaneIdentity = 0;
inline constexpr int kLaneDomainJoined = 1;
inline constexpr int kLaneDeviceManaged = 2;
inline constexpr int kLanePlan = 3;
inline constexpr int kLaneRole = 4;
inline constexpr int kLaneAccountCreation = 5;
inline constexpr int kLaneOsKnown = 6;
// Lane 7 carries no context bit: in `need` its high bit marks a `regions` term and the
// next bit catalogue-attribute terms, which the fast path leaves to SlowTermsMatch.
inline constexpr uint64_t kNeedRegions = uint64_t{0x80} << 56;
inline constexpr uint64_t kNeedAttributes = uint64_t{0x40} << 56;
inline constexpr uint64_t kNeedSlow = kNeedRegions | kNeedAttributes;
// Context values use bits 0..5 of a lane; a condition that constrains a lane to values
// no context can have (e.g. an enum value from a newer schema) allows only kLaneNever.
inline constexpr uint8_t kLaneValueBits = 0x3F;
inline constexpr uint8_t kLaneNever = 0x40;
inline constexpr uint64_t kLaneLow7 = 0x7F7F7F7F7F7F7F7Full;
inline constexpr uint64_t kLaneHigh = 0x8080808080808080ull;

inline constexpr uint64_t LaneBits(int lane, uint64_t bits) { return bits << (8 * lane); }

// The lane of a built-in attribute (the row's `term` in the set's attribute table), or -1
// for terms outside the lane word (state flags, groups, regions, product attributes). Lane
// values: Bool rows bit 0 = yes, bit 1 = no; Enum rows bit i = the row's values[i].
inline constexpr int LaneOf(BuiltinTerm t) {
  switch (t) {
    case BuiltinTerm::kIdentity:
      return kLaneIdentity;
    case BuiltinTerm::kDomainJoined:
      return kLaneDomainJoined;
    case BuiltinTerm::kDeviceManaged:
      return kLaneDeviceManaged;
    case BuiltinTerm::kPlan:
      return kLanePlan;
    case BuiltinTerm::kRole:
      return kLaneRole;
    case BuiltinTerm::kAccountCreation:
      return kLaneAccountCreation;
    case BuiltinTerm::kOsGeneration:
      return kLaneOsKnown;  // "known"; the bounds are Cand::os_lo/os_hi
    default:
      return -1;
  }
}

// High bit of every non-zero byte of x.
inline constexpr uint64_t NonZeroLanes(uint64_t x) {
  return (((x & kLaneLow7) + kLaneLow7) | x) & kLaneHigh;
}

// Priority key: lower sorts first. level (mandatory 0, recommended 1), then specificity
// descending (above 15 counts as 15), then payload index ascending.
inline constexpr uint64_t PriorityKey(int level, int specificity, uint32_t index) {
  return (static_cast<uint64_t>(level & 1) << 40) |
         (static_cast<uint64_t>(15 - (specificity > 15 ? 15 : specificity)) << 32) | index;
}
inline constexpr uint64_t kRecommendedKeyBase = uint64_t{1} << 40;
inline constexpr uint64_t kNoKey = ~uint64_t{0};
inline uint32_t KeyIndex(uint64_t key) { return static_cast<uint32_t>(key); }

// ---- Precedence, in one place -----------------------------------------------------------
//
// Chromium's EntryHasHigherPriority is the model: one function says which of two candidate
// rules wins and, for explain, why. The key encodes level, specificity and index so that
// the hot path's `key < best` is this comparison; explain asks HasHigherPriority for the
// reason instead of decoding keys itself.
enum class PriorityReason : uint8_t { kSame, kLevel, kSpecificity, kOrder };
struct PriorityParts {
  int level;        // 0 mandatory, 1 recommended
  int specificity;  // 0..15
  uint32_t index;   // in the payload vector
};
inline PriorityParts DecodeKey(uint64_t key) {
  return PriorityParts{static_cast<int>((key >> 40) & 1), 15 - static_cast<int>((key >> 32) & 15),
                       KeyIndex(key)};
}
// True if the rule of key `a` wins over the rule of key `b`; `why` (optional) names the
// first part of the order that decided.
inline bool HasHigherPriority(uint64_t a, uint64_t b, PriorityReason* why = nullptr) {
  if (why != nullptr) {
    const PriorityParts x = DecodeKey(a), y = DecodeKey(b);
    *why = x.level != y.level               ? PriorityReason::kLevel
           : x.specificity != y.specificity ? PriorityReason::kSpecificity
           : x.index != y.index             ? PriorityReason::kOrder
                                            : PriorityReason::kSame;
  }
  return a < b;
}

// Where an answer may come from, strongest first: fixed > mandatory > user > recommended >
// default (docs/semantics.md). Resolve walks this ladder; explain words it.
inline int SourceRank(Source s) {
  switch (s) {
    case Source::kFixed:
      return 0;
    case Source::kMandatory:
      return 1;
    case Source::kUser:
      return 2;
    case Source::kRecommended:
      return 3;
    case Source::kDefault:
      return 4;
  }
  return 5;
}
inline bool SourceOutranks(Source a, Source b) { return SourceRank(a) < SourceRank(b); }

struct Cand {
  uint64_t allow;  // per-lane allowed bits
  uint64_t need;   // high bit of each constrained lane (+ kNeedRegions)
  uint64_t key;    // PriorityKey
  int32_t os_lo;
  int32_t os_hi;
  uint32_t state_all;
  uint32_t state_none;
};
static_assert(sizeof(Cand) == 40, "Cand layout");

// A context compiled once per query.
struct CtxBits {
  uint64_t lanes;
  int32_t os;
  uint32_t state;
};

inline CtxBits CompileContext(const Context& c) {
  uint64_t l = 0;
  if (c.identity == Identity::kManaged) l |= LaneBits(kLaneIdentity, 1);
  if (c.identity == Identity::kUnmanaged) l |= LaneBits(kLaneIdentity, 2);
  if (c.domain_joined == TriState::kYes) l |= LaneBits(kLaneDomainJoined, 1);
  if (c.domain_joined == TriState::kNo) l |= LaneBits(kLaneDomainJoined, 2);
  if (c.device_managed == TriState::kYes) l |= LaneBits(kLaneDeviceManaged, 1);
  if (c.device_managed == TriState::kNo) l |= LaneBits(kLaneDeviceManaged, 2);
  l |= LaneBits(kLanePlan, static_cast<uint8_t>(c.plan) & kLaneValueBits);
  l |= LaneBits(kLaneRole, static_cast<uint8_t>(c.role) & kLaneValueBits);
  l |= LaneBits(kLaneAccountCreation, c.account_creation ? 1 : 2);
  if (c.os_generation != 0) l |= LaneBits(kLaneOsKnown, 1);
  return CtxBits{l, c.os_generation, c.device_state};
}

// All terms but `groups` (decided by the bucket), `regions` and attributes (kNeedSlow).
inline bool FastMatch(const Cand& c, const CtxBits& x) {
  const uint64_t need = c.need & ~kNeedSlow;
  return (NonZeroLanes(x.lanes & c.allow) & need) == need && x.os >= c.os_lo && x.os <= c.os_hi &&
         (x.state & c.state_all) == c.state_all && (x.state & c.state_none) == 0;
}

// Compiles the condition terms of an fb::Condition (groups excluded).
Cand CompileCondition(const fb::Condition* w, uint64_t key);
// Same for a built-in rule's condition.
Cand CompileCondition(const ConditionSpec& w);
// The conditions of every built-in rule of `set` into `out` (State::builtin_cands).
void CompileBuiltinConditions(const CatalogSet& set, Cand* out);

// The first term FastMatch checks that `x` fails, as the built-in attribute it constrains
// (the attribute table's order), or kNone: FastMatch(c, x) == (result == kNone). Explain
// asks this instead of evaluating conditions a second way.
BuiltinTerm FirstFailedTerm(const Cand& c, const CtxBits& x);

// ---- Catalogue-attribute terms -----------------------------------------------------------
//
// Compiled once at activation: the attribute's handle instead of its name, enum values as
// bits of one word. A rule's terms are consecutive; the last has `last` set.
struct AttrTerm {
  uint64_t allow;  // kBool: bit 0 = false, bit 1 = true; kEnum: bit i = values[i]
  int64_t lo;      // kIntRange: inclusive bounds
  int64_t hi;
  uint32_t attribute;  // CatalogSet handle
  uint32_t strings;    // kStringSet: payload offset of the term's `values` vector
  uint8_t type;        // AttributeType
  uint8_t last;
};
inline constexpr uint32_t kNoTerms = ~uint32_t{0};

// ---- Group hash table -------------------------------------------------------------------

// 16 bytes, so a large table stays cache-friendly. Each bucket's candidates end with a
// sentinel candidate whose key is kNoKey, so no count is stored.
struct GroupEntry {
  uint32_t tag;  // high half of SlotHash (never 0); 0 = empty entry
  uint32_t slot;
  uint32_t name;   // payload offset of the group's flatbuffers::String
  uint32_t begin;  // first candidate of the bucket
};
static_assert(sizeof(GroupEntry) == 16, "GroupEntry layout");

inline uint32_t EntryTag(uint64_t slot_hash) {
  const uint32_t t = static_cast<uint32_t>(slot_hash >> 32);
  return t == 0 ? 1 : t;
}

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x;
}

inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline uint64_t Load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// A fast hash of a group name: overlapping word loads, one multiply per 8 bytes.
inline uint64_t HashGroup(const char* p, size_t n) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = n * kMul;
  if (n >= 8) {
    const char* last = p + n - 8;
    for (; p < last; p += 8) h = (h ^ Load64(p)) * kMul;
    h = (h ^ Load64(last)) * kMul;
  } else if (n >= 4) {
    h = (h ^ (Load32(p) | (Load32(p + n - 4) << 32))) * kMul;
  } else if (n > 0) {
    const uint64_t w = static_cast<uint8_t>(p[0]) |
                       (static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8) |
                       (static_cast<uint64_t>(static_cast<uint8_t>(p[n - 1])) << 16);
    h = (h ^ w) * kMul;
  }
  return h ^ (h >> 29);
}

// Combines a group hash with a slot; never 0 (0 marks an empty table entry).
inline uint64_t SlotHash(uint64_t group_hash, uint32_t slot) {
  uint64_t h = (group_hash ^ (static_cast<uint64_t>(slot) << 40)) * 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h == 0 ? 1 : h;
}

// ---- Snapshot state ---------------------------------------------------------------------

// Everything a snapshot holds. Snapshot::Impl is this type (kernel.h names only Impl).
// Bit of the bucket filter for a SlotHash: the hash's high half, which the table's
// index (low bits) does not use.
inline uint64_t FilterBit(uint64_t slot_hash, uint64_t filter_mask) {
  return (slot_hash >> 32) & filter_mask;
}

struct State {
  const uint8_t* payload = nullptr;
  size_t payload_size = 0;
  const fb::Payload* root = nullptr;  // null for Defaults()
  uint64_t serial = 0;
  size_t skipped_count = 0;
  size_t skipped_reported = 0;
  SkippedRule skipped[Snapshot::kMaxReportedSkips] = {};
  // No-group bucket of slot s: cands[bucket_begin[s] .. bucket_begin[s + 1]).
  const uint32_t* bucket_begin = nullptr;
  const internal::Cand* cands = nullptr;
  const internal::GroupEntry* table = nullptr;  // capacity table_mask + 1, or null
  uint64_t table_mask = 0;
  // One bit per (slot, group) bucket, at FilterBit(SlotHash): most context groups have no
  // bucket for the slot asked about, and this small bitmap (4 bits per table entry) answers
  // that without a cache miss in the large table. Null when the table is.
  const uint64_t* filter = nullptr;
  uint64_t filter_mask = 0;  // number of bits - 1
  // Per payload rule of each RuleKind: setting value number; data use
  // (allow << 32 | obligations); schedule interval. Null for Defaults().
  const int64_t* rule_value[3] = {nullptr, nullptr, nullptr};
  // Per payload rule of each RuleKind: its first attribute term, or kNoTerms.
  const uint32_t* attr_first[3] = {nullptr, nullptr, nullptr};
  const AttrTerm* attr_terms = nullptr;
  // The compiled condition of every built-in rule of the set (slots.builtin_rules): its
  // data-use rules in builtin_data_use() order, then its schedule rules.
  const Cand* builtin_cands = nullptr;
  const CatalogSet* catalogs = nullptr;
  SlotLayout slots;
};

// The RuleKind of the payload vector whose rules fill `slot`.
inline int KindOfSlot(const State& im, uint32_t slot) {
  return slot < im.slots.cell_base ? 0 : slot < im.slots.schedule_base ? 1 : 2;
}

// Outcome of checking one payload rule against this catalogue.
struct RuleCheck {
  bool ok = false;
  SkipReason reason = SkipReason::kUnknownSetting;
  uint32_t slot = 0;
  int64_t number = 0;     // setting rules: the value's number
  std::string_view text;  // setting rules: string values
};

RuleCheck CheckSettingRule(const CatalogSet& set, const fb::SettingRule* r);
// Same, with the setting's handle already looked up (-1: unknown).
RuleCheck CheckSettingRule(const CatalogSet& set, const fb::SettingRule* r, int handle);
RuleCheck CheckDataUseRule(const CatalogSet& set, const SlotLayout& l, const fb::DataUseRule* r);
RuleCheck CheckScheduleRule(const CatalogSet& set, const SlotLayout& l, const fb::ScheduleRule* r);

// Whether every attribute term of `w` names an attribute of `set` and constrains it as its
// type allows (one value or more for enum and string-set terms, `is` for bool terms).
bool AttributeTermsValid(const CatalogSet& set, const fb::Condition* w);
size_t AttributeTermCount(const fb::Condition* w);
// Compiles the attribute terms of a valid `w` into `out` (AttributeTermCount entries).
void CompileAttributeTerms(const CatalogSet& set, const uint8_t* payload, const fb::Condition* w,
                           AttrTerm* out);
// Index (within the rule) of the first attribute term of rule `index` of `kind` that `ctx`
// fails, or -1 if all hold (or the rule has none).
int FirstFailedAttribute(const State& im, int kind, uint32_t index, const Context& ctx);
// The value `ctx` gives attribute `handle`, or null.
const AttributeValue* FindAttributeValue(const Context& ctx, uint32_t handle);

inline std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

// Any of `list` equals `v` exactly (false for an empty v or list).
bool AnyOf(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* list,
           std::string_view v);

}  // namespace internal

struct Snapshot::Impl : internal::State {};

}  // namespace edict

#endif  // EDICT_KERNEL_INTERNAL_H_
