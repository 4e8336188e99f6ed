// A catalogue set: the built-in catalogue plus any number of product catalogues (.edcat,
// catalog_file.h), merged into one immutable table of settings, data classes, purposes,
// schedules and context attributes with dense handles.
//
// The compiler validates policy against a set; the kernel activates payloads against one
// and answers queries by handle. Handles are assigned at Create: the built-in catalogue's
// entries keep their policy/catalog.h numbers (so existing ids stay valid), then each
// product catalogue's entries follow, products in id order, entries in catalogue order.
// Names are looked up in hash tables (at activation and compile time only; the kernel's
// queries take handles).
//
// Ownership and thread safety: a set owns copies of its catalogue bytes and every table
// it hands out points into the set (or into static storage for the built-in catalogue),
// valid as long as the set lives. Immutable after Create: any number of threads may use
// one set. Snapshots activated against a set borrow it; keep the shared_ptr alive.
#ifndef EDICT_POLICY_CATALOG_CATALOG_SET_H_
#define EDICT_POLICY_CATALOG_CATALOG_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_file.h"

namespace edict {

// Types of a context attribute (catalog.fbs AttributeType).
enum class AttributeType : uint8_t { kBool, kEnum, kIntRange, kStringSet };
std::string_view AttributeTypeName(AttributeType t);  // "bool", "enum", "integer", "string set"

// The most values an enum attribute may have (its values are bits of one word).
inline constexpr size_t kMaxAttributeEnumValues = 64;

// How the kernel encodes a built-in attribute (catalog.fbs BuiltinTerm): the field of
// fb::Condition that holds its terms and of Context that holds its value. kNone: a product
// attribute (fb::Condition::attributes, Context::attributes).
enum class BuiltinTerm : uint8_t {
  kNone,
  kIdentity,
  kDomainJoined,
  kDeviceManaged,
  kPlan,
  kOsGeneration,
  kDeviceState,
  kDeviceStateNot,  // a condition term only, on kDeviceState's values
  kGroups,
  kRole,
  kAccountCreation,
  kRegion,
};
inline constexpr int kBuiltinTermCount = 12;

// One row of a set's attribute table. The built-in catalogue's rows are the built-in
// condition terms (identity, domain_joined, plan, groups, ...); the compiler, the kernel's
// explain, the CLI's --ctx, the agent's device context and the C API read their names,
// types and values from here.
struct AttributeSpec {
  std::string_view name;  // "<product>.<name>"; built-in rows: the `when` key
  AttributeType type = AttributeType::kBool;
  BuiltinTerm term = BuiltinTerm::kNone;
  absl::Span<const std::string_view> values;  // kEnum: the allowed values
  int64_t min = 0;                            // kIntRange: inclusive bounds
  int64_t max = 0;
  std::string_view description;
  int product = -1;  // index into CatalogSet::products()
};

// One product catalogue of a set.
struct ProductSpec {
  std::string_view id;  // e.g. "acmevpn"
  std::string_view vendor;
  std::string_view display_name;
  uint32_t version = 0;
  uint64_t hash = 0;        // catalogs::Fnv1a64 of the .edcat bytes
  std::string_view origin;  // where it was loaded from (CatalogSet::Input::origin)
  int first_setting = 0;    // its settings are handles [first_setting, first_setting + count)
  int setting_count = 0;
  const catalog_fb::Catalog* catalog = nullptr;  // the verified catalogue, inside the set
};

// The value of one attribute in a query context. An attribute the context does not list
// is unknown and never satisfies a term that constrains it.
struct AttributeValue {
  int attribute = -1;  // CatalogSet::FindAttribute
  int64_t number = 0;  // kBool: 0 or 1; kEnum: index into values; kIntRange: the integer
  absl::Span<const std::string_view> strings;  // kStringSet: the members (not owned)
};

class CatalogSet {
 public:
  // A product catalogue to add: its .edcat bytes and where they came from (a path, used
  // in messages and status; may be empty).
  struct Input {
    std::string origin;
    std::string bytes;
  };

  // The built-in catalogue alone (the five seed products), loaded from its binary form
  // embedded at build time through the same path as a product's. Static; never destroyed.
  static const CatalogSet& Builtin();

  // The built-in catalogue plus `products`, added in product-id order whatever the order
  // given. Each input is verified (catalog_file.h CatalogView::Open). Errors
  // (InvalidArgument, message prefixed with the input's origin): a catalogue that does not
  // verify or names no product, two catalogues of one product, an id that collides with
  // another catalogue's, an enum attribute with more than kMaxAttributeEnumValues values, a
  // default naming a class, purpose or schedule no catalogue of the set defines, or with a
  // condition a default cannot have (groups, attribute terms, more than one region).
  static absl::StatusOr<std::shared_ptr<const CatalogSet>> Create(std::vector<Input> products);

  CatalogSet(const CatalogSet&) = delete;
  CatalogSet& operator=(const CatalogSet&) = delete;

  // Handle of the entry named `id`, or -1. No allocation.
  int FindSetting(std::string_view id) const;
  int FindDataClass(std::string_view id) const;
  int FindPurpose(std::string_view id) const;
  int FindSchedule(std::string_view id) const;
  int FindComplianceTag(std::string_view id) const;
  int FindAttribute(std::string_view name) const;
  int FindProduct(std::string_view id) const;  // index into products(), or -1
  // Handle of the built-in attribute row of `term` (every set has each), or -1 for kNone.
  int BuiltinAttribute(BuiltinTerm term) const {
    return builtin_attribute_[static_cast<uint8_t>(term) % kBuiltinTermCount];
  }

  absl::Span<const SettingSpec> settings() const { return settings_; }
  absl::Span<const AtomicGroupSpec> atomic_groups() const { return atomic_groups_; }
  absl::Span<const DataClassSpec> data_classes() const { return data_classes_; }
  absl::Span<const PurposeSpec> purposes() const { return purposes_; }
  absl::Span<const ScheduleSpec> schedules() const { return schedules_; }
  absl::Span<const ComplianceTagSpec> compliance_tags() const { return compliance_tags_; }
  absl::Span<const AttributeSpec> attributes() const { return attributes_; }
  absl::Span<const ProductSpec> products() const { return products_; }
  // Every built-in data-use and schedule rule, grouped by cell / schedule.
  absl::Span<const BuiltinDataUse> builtin_data_use() const { return builtin_data_use_; }
  absl::Span<const BuiltinSchedule> builtin_schedules() const { return builtin_schedules_; }

  // Built-in rules of one data-use cell / one schedule, most specific first.
  Table<BuiltinDataUse> BuiltinRulesFor(int data_class, int purpose) const;
  Table<BuiltinSchedule> BuiltinRulesFor(int schedule) const;

  // The product catalogue that defines setting `handle`, or -1 (built-in or out of range).
  int ProductOfSetting(int handle) const;
  // The catalogue entry of a product setting (native mapping and all), or null for a
  // built-in setting or a handle out of range.
  const catalog_fb::Setting* ProductSetting(int handle) const;

  // The built-in catalogue's version (policy/catalog.h kVersion).
  uint32_t builtin_version() const { return catalog::kVersion; }

 private:
  CatalogSet() = default;
  class Builder;   // catalog_set.cc: one path for the built-in and product catalogues
  struct Storage;  // the owned catalogue bytes and the tables built from them

  std::vector<SettingSpec> settings_;
  std::vector<AtomicGroupSpec> atomic_groups_;
  std::vector<DataClassSpec> data_classes_;
  std::vector<PurposeSpec> purposes_;
  std::vector<ScheduleSpec> schedules_;
  std::vector<ComplianceTagSpec> compliance_tags_;
  std::vector<AttributeSpec> attributes_;
  std::vector<ProductSpec> products_;
  std::vector<BuiltinDataUse> builtin_data_use_;
  std::vector<uint32_t> data_use_cell_begin_;  // cells + 1 entries
  std::vector<BuiltinSchedule> builtin_schedules_;
  std::vector<uint32_t> schedule_begin_;                 // schedules + 1 entries
  std::vector<const catalog_fb::Setting*> fb_settings_;  // the catalogue entry per handle
  int builtin_settings_ = 0;  // handles below this are the built-in catalogue's
  int builtin_attribute_[kBuiltinTermCount] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  absl::flat_hash_map<std::string_view, int> setting_by_name_, data_class_by_name_,
      purpose_by_name_, schedule_by_name_, tag_by_name_, attribute_by_name_, product_by_id_;
  std::unique_ptr<Storage> storage_;
};

}  // namespace edict

#endif  // EDICT_POLICY_CATALOG_CATALOG_SET_H_
