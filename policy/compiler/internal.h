// Internals of the policy compiler (compiler.h), shared by its files:
//
//   compiler.cc    Compile, diagnostics
//   checker.h/.cc  JSON -> IR: the policy, its header and its rules, validated
//   conditions.cc  JSON -> IR: `when` conditions (built-in terms and catalogue attributes),
//                  and whether two conditions can both hold
//   payload.cc     IR -> EDP1 payload and back; VerifyPayload
//   inspect.cc     IR -> canonical policy JSON; Inspect; durations
//
// Not part of the compiler's interface: nothing outside policy/compiler includes this.
#ifndef EDICT_POLICY_COMPILER_INTERNAL_H_
#define EDICT_POLICY_COMPILER_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/catalog.h"
#include "policy/catalog/catalog_set.h"
#include "policy/edict_generated.h"

namespace edict::compiler::internal {

// ---------------------------------------------------------------------------------------
// Names of the schema's enums and bit sets as written in policy JSON.

inline constexpr std::string_view kLevelNames[] = {"mandatory", "recommended"};  // by fb::Level
inline constexpr std::string_view kEffectNames[] = {"deny", "allow"};            // by fb::Effect

// Flags values are bit sets in an int64_t (SettingSpec::default_int).
inline constexpr int kMaxFlags = 63;

// absl::StrJoin does not take std::string_view here (Debian's Abseil has its own
// absl::string_view), so join by hand.
template <typename It>
std::string Join(It begin, It end, std::string_view sep) {
  std::string out;
  for (It it = begin; it != end; ++it) {
    if (it != begin) out.append(sep);
    out.append(it->data(), it->size());
  }
  return out;
}

template <size_t N>
int IndexOf(const std::string_view (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (!names[i].empty() && names[i] == s) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------
// Intermediate form of a policy, shared by Compile (JSON -> IR -> payload) and Inspect
// (payload -> IR -> JSON). Enum fields keep raw numbers so Inspect can show anything the
// verifier lets through.

// A term on a catalogue attribute (fb::AttributeTerm). Compile fills the fields of the
// attribute's type: Bool `is`; Enum and StringSet `values` (non-empty; enum values in
// the attribute's order, strings sorted); IntRange `min` and `max` (both, inclusive).
struct AttrTerm {
  std::string name;
  uint8_t is = 0;  // fb::Tri
  std::vector<std::string> values;
  int64_t min = 0;
  int64_t max = 0;
  // Not in the payload: the attribute is an Enum (a context holds one value of it, so two
  // terms with no value in common cannot both hold). Used by CanBothHold.
  bool one_value = false;
};

struct Cond {
  uint8_t identity = 0;
  uint8_t domain_joined = 0;
  uint8_t device_managed = 0;
  uint8_t plans = 0;
  int32_t os_min = 0;
  int32_t os_max = 0;
  uint32_t state_all = 0;
  uint32_t state_none = 0;
  std::vector<std::string> groups;
  uint8_t roles = 0;
  uint8_t account_creation = 0;
  std::vector<std::string> regions;
  std::vector<AttrTerm> attributes;  // sorted by name, one per attribute

  bool empty() const {
    return identity == 0 && domain_joined == 0 && device_managed == 0 && plans == 0 &&
           os_min == 0 && os_max == 0 && state_all == 0 && state_none == 0 && groups.empty() &&
           roles == 0 && account_creation == 0 && regions.empty() && attributes.empty();
  }
};

struct RuleValue {
  fb::Value type = fb::Value_NONE;
  bool boolean = false;
  int64_t integer = 0;  // IntValue
  std::string text;     // EnumValue symbol, StringValue value
  std::vector<std::string> symbols;
};

struct SettingRuleIR {
  std::string setting;
  int level = 0;
  RuleValue value;
  Cond when;
  bool critical = false;
  std::string note;
};

struct DataUseRuleIR {
  std::string data_class;
  std::string purpose;
  int effect = 0;
  uint32_t obligations = 0;
  Cond when;
  bool critical = false;
  std::string note;
};

struct ScheduleRuleIR {
  std::string schedule;
  int64_t interval = 0;
  Cond when;
  bool critical = false;
  std::string note;
};

// A product catalogue the policy uses (fb::CatalogRef).
struct CatalogRefIR {
  std::string product;
  uint32_t version = 0;
  uint64_t hash = 0;
};

struct PolicyIR {
  uint64_t serial = 0;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  uint32_t catalog_version = 0;  // the built-in catalogue's (CatalogSet::builtin_version)
  std::string description;
  std::string tenant;
  std::vector<std::string> devices;
  std::vector<std::string> groups;
  std::vector<std::string> compliance;
  std::vector<CatalogRefIR> catalogs;  // sorted by product id
  std::vector<SettingRuleIR> settings;
  std::vector<DataUseRuleIR> data_use;
  std::vector<ScheduleRuleIR> schedules;
};

// ---- payload.cc -------------------------------------------------------------------------

// The payload bytes of `p`. Deterministic: the same IR gives the same bytes.
std::string BuildPayload(const PolicyIR& p);
// The IR of a verified payload, and of one condition (null: none).
PolicyIR ReadPayload(const fb::Payload* p);
Cond ReadCondition(const fb::Condition* c);
// The specificity of a condition, computed by edict::Specificity itself (on a scratch
// FlatBuffer) so that it means exactly what it means to the kernel.
int SpecificityOf(const Cond& c);

// ---- builtin_terms.cc -------------------------------------------------------------------

// Sets the Cond field that encodes built-in attribute `a` (a.term != kNone) from term `t`,
// already checked against the row; returns "" or why the encoding cannot hold it.
std::string SetBuiltinTerm(const AttributeSpec& a, const AttrTerm& t, Cond* c);
// The built-in terms `c` sets, as terms on `set`'s built-in rows, in table order.
std::vector<std::pair<const AttributeSpec*, AttrTerm>> BuiltinTermsOf(const CatalogSet& set,
                                                                      const Cond& c);

// ---- conditions.cc ----------------------------------------------------------------------

// Whether two conjunctions can both hold for one context.
bool CanBothHold(const Cond& a, const Cond& b);

// ---- inspect.cc -------------------------------------------------------------------------

// The canonical policy JSON of `p`; setting types (for durations) are looked up in
// `catalogs`.
std::string PrintPolicy(const PolicyIR& p, const CatalogSet& catalogs);

// ---- checker.cc -------------------------------------------------------------------------

// The catalogue encoding of a rule value (SettingSpec::default_int), for compliance checks.
std::optional<int64_t> EncodeValue(const SettingSpec& s, const RuleValue& v);

// The product catalogue (index into catalogs.products()) that defines the entry named
// `id`, or -1 for the built-in catalogue: product catalogue ids are "<product>.<name>".
int ProductOfId(const CatalogSet& catalogs, std::string_view id);

}  // namespace edict::compiler::internal

#endif  // EDICT_POLICY_COMPILER_INTERNAL_H_
