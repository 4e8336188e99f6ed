// Seeded random policies, contexts and user choices over the real catalogue, for
// differential testing and fuzzing.
//
// A policy is generated as a plain description (PolicySpec) and then serialised with
// FlatBufferBuilder, so a failing case can be shrunk (drop rules, drop condition terms)
// and printed readably. The generator deliberately produces rules activation must skip
// (unknown ids, wrong value types, unknown symbols, rules on fixed or non-admin settings,
// fixed data-use cells, bad intervals), critical flags, absent and empty optional fields,
// conditions over small value domains (so that they match often), groups from a small
// pool, and duplicate rules of equal specificity (index tie-break).
//
// Given a catalogue set with product catalogues (Options::catalogs), it also draws the
// products' settings (every setting type, their atomic groups, fixed and user-only ones),
// data classes, purposes and schedules, attribute terms on the products' context
// attributes (terms naming attributes no catalogue declares, enum values the catalogue
// lacks, terms their type does not allow, duplicate terms) and contexts giving those
// attributes random values (some absent). Attributes are found by name
// (CatalogSet::FindAttribute), never by a fixed handle. With the built-in catalogue alone
// the draws are exactly those of the built-in generator.
#ifndef EDICT_TESTS_REFERENCE_RANDOM_POLICY_H_
#define EDICT_TESTS_REFERENCE_RANDOM_POLICY_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel/kernel.h"
#include "policy/catalog/catalog_set.h"

namespace edict::random_policy {

using Rng = std::mt19937_64;

// A term on a catalogue attribute (fb::AttributeTerm), as written in the payload.
struct AttrTermSpec {
  std::string name;
  int8_t is = 0;  // fb::Tri
  std::optional<std::vector<std::string>> values;
  int64_t min = 0;
  int64_t max = 0;
};

// A condition as written in the payload; an absent optional is an absent field.
struct CondSpec {
  int8_t identity = 0;
  int8_t domain_joined = 0;
  int8_t device_managed = 0;
  uint8_t plans = 0;
  int32_t os_min = 0;
  int32_t os_max = 0;
  uint32_t state_all = 0;
  uint32_t state_none = 0;
  std::optional<std::vector<std::string>> groups;
  uint8_t roles = 0;
  int8_t account_creation = 0;
  std::optional<std::vector<std::string>> regions;
  std::optional<std::vector<AttrTermSpec>> attributes;
};

enum class ValueKind : uint8_t { kNone, kBool, kInt, kEnum, kFlags, kString };

struct SettingRuleSpec {
  std::string setting;
  int8_t level = 0;  // fb::Level
  ValueKind kind = ValueKind::kNone;
  bool value_table = true;  // false: union type set but its table absent
  bool b = false;
  int64_t i = 0;
  std::optional<std::string> symbol;                // EnumValue.symbol
  std::optional<std::vector<std::string>> symbols;  // FlagsValue.symbols
  std::optional<std::string> str;                   // StringValue.value
  std::optional<CondSpec> when;
  bool critical = false;
  std::optional<std::string> note;
};

struct DataUseRuleSpec {
  std::string data_class;
  std::string purpose;
  int8_t effect = 0;  // fb::Effect
  uint32_t obligations = 0;
  std::optional<CondSpec> when;
  bool critical = false;
  std::optional<std::string> note;
};

struct ScheduleRuleSpec {
  std::string schedule;
  int64_t interval_seconds = 0;
  std::optional<CondSpec> when;
  bool critical = false;
  std::optional<std::string> note;
};

struct PolicySpec {
  uint32_t format_version = 1;
  uint64_t serial = 1;
  bool wrong_identifier = false;  // finish with "XXXX" instead of "EDP1"
  // Absent vectors are written as absent fields when empty and `*_absent` is set.
  bool settings_absent = false;
  bool data_use_absent = false;
  bool schedules_absent = false;
  std::vector<SettingRuleSpec> settings;
  std::vector<DataUseRuleSpec> data_use;
  std::vector<ScheduleRuleSpec> schedules;
};

struct Options {
  int max_setting_rules = 28;
  int max_data_use_rules = 18;
  int max_schedule_rules = 6;
  // Probability that a rule is deliberately broken (unknown id, wrong type, ...).
  double broken_rate = 0.08;
  double critical_rate = 0.03;
  // Probability of a format version other than 1 / a wrong file identifier.
  double bad_header_rate = 0.01;
  // Out-of-range enum values in conditions, levels and effects (behaviour the contract
  // does not define precisely); off by default.
  bool out_of_range_enums = false;
  // The catalogue set rules are drawn from (null: the built-in catalogue alone). Must
  // outlive the generated specs' use.
  const CatalogSet* catalogs = nullptr;
  // With product attributes in the set: probability that a condition has attribute terms,
  // and that one term names an attribute no catalogue declares.
  double attribute_rate = 0.4;
  double unknown_attribute_rate = 0.04;
  // Probability that a setting rule names a product setting (when the set has products).
  double product_setting_rate = 0.5;
};

// The catalogue set of `o` (the built-in one when none is given).
const CatalogSet& CatalogsOf(const Options& o);

PolicySpec RandomPolicy(Rng& rng, const Options& options = Options());

// Serialises `spec` as a FlatBuffer payload.
std::vector<uint8_t> Build(const PolicySpec& spec);

// Readable description, one rule per line, with payload indices.
std::string Describe(const PolicySpec& spec);
std::string DescribeCondition(const std::optional<CondSpec>& c);

// A context whose strings point into static storage; `context()` is valid as long as
// this object lives and is not moved/copied from (copying is safe: it rebinds).
class ContextSample {
 public:
  ContextSample() = default;
  ContextSample(const ContextSample& o)
      : ctx_(o.ctx_),
        groups_(o.groups_),
        attributes_(o.attributes_),
        attribute_strings_(o.attribute_strings_) {
    Rebind();
  }
  ContextSample& operator=(const ContextSample& o) {
    ctx_ = o.ctx_;
    groups_ = o.groups_;
    attributes_ = o.attributes_;
    attribute_strings_ = o.attribute_strings_;
    Rebind();
    return *this;
  }
  const Context& context() const { return ctx_; }
  Context& mutable_context() { return ctx_; }
  void set_groups(std::vector<std::string_view> groups) {
    groups_ = std::move(groups);
    Rebind();
  }
  // Adds a catalogue attribute value (`strings` for string-set attributes).
  void add_attribute(int handle, int64_t number, std::vector<std::string_view> strings = {}) {
    AttributeValue v;
    v.attribute = handle;
    v.number = number;
    attributes_.push_back(v);
    attribute_strings_.push_back(std::move(strings));
    Rebind();
  }
  size_t attribute_count() const { return attributes_.size(); }
  void remove_attribute(size_t i) {
    attributes_.erase(attributes_.begin() + static_cast<std::ptrdiff_t>(i));
    attribute_strings_.erase(attribute_strings_.begin() + static_cast<std::ptrdiff_t>(i));
    Rebind();
  }

 private:
  void Rebind() {
    ctx_.groups = absl::MakeConstSpan(groups_);
    for (size_t i = 0; i < attributes_.size(); ++i) {
      attributes_[i].strings = absl::MakeConstSpan(attribute_strings_[i]);
    }
    ctx_.attributes = absl::MakeConstSpan(attributes_);
  }
  Context ctx_;
  std::vector<std::string_view> groups_;  // point into static storage
  std::vector<AttributeValue> attributes_;
  std::vector<std::vector<std::string_view>> attribute_strings_;  // static storage
};

// `hostile` adds enum values outside their declared ranges (undefined by the contract).
// With product attributes in `catalogs`, each gets a random value or is left out.
ContextSample RandomContext(Rng& rng, bool hostile = false,
                            const CatalogSet& catalogs = CatalogSet::Builtin());

// A user choice for `setting` (or any value, to test rejection); nullopt = no choice.
// Text points into static storage.
std::optional<UserChoice> RandomChoice(Rng& rng, int setting,
                                       const CatalogSet& catalogs = CatalogSet::Builtin());

// Ids to query: mostly real ones, sometimes out of range.
int RandomSettingId(Rng& rng, const CatalogSet& catalogs = CatalogSet::Builtin());
int RandomDataClassId(Rng& rng, const CatalogSet& catalogs = CatalogSet::Builtin());
int RandomPurposeId(Rng& rng, const CatalogSet& catalogs = CatalogSet::Builtin());
int RandomScheduleId(Rng& rng, const CatalogSet& catalogs = CatalogSet::Builtin());

// Ids to query against `spec`: usually one its rules name (so rules are exercised),
// otherwise as above.
int QuerySettingId(Rng& rng, const PolicySpec& spec,
                   const CatalogSet& catalogs = CatalogSet::Builtin());
std::pair<int, int> QueryDataUseCell(Rng& rng, const PolicySpec& spec,
                                     const CatalogSet& catalogs = CatalogSet::Builtin());

}  // namespace edict::random_policy

#endif  // EDICT_TESTS_REFERENCE_RANDOM_POLICY_H_
