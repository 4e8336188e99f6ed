// The settings catalogue: every setting, data class, purpose, built-in data-use cell and
// schedule edict knows, with its type, default and who may set it.
//
// The tables are generated at build time from policy/catalog/catalog.json (see
// gen_catalog.cc) into constexpr arrays, so the kernel answers with the product defaults
// even with no policy at all, and nothing here allocates or does I/O.
#ifndef EDICT_POLICY_CATALOG_H_
#define EDICT_POLICY_CATALOG_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edict {

enum class SettingType : uint8_t { kBool, kEnum, kFlags, kInteger, kDuration, kString };
enum class Scope : uint8_t { kDevice, kIdentity, kMeeting };

// Who may set a value (bit flags). A setting nobody may set is `fixed`.
inline constexpr uint8_t kSetterUser = 1;
inline constexpr uint8_t kSetterAdmin = 2;
inline constexpr uint8_t kSetterOrganiser = 4;

// Obligation bits; equal to the values of edict::fb::Obligation in policy/edict.fbs.
using Obligations = uint32_t;
inline constexpr Obligations kAggregateOnly = 1u << 0;
inline constexpr Obligations kHashField = 1u << 1;
inline constexpr Obligations kNeverCollect = 1u << 2;
inline constexpr Obligations kShowIndicator = 1u << 3;
inline constexpr Obligations kNotifyUser = 1u << 4;
inline constexpr Obligations kNotifyOthers = 1u << 5;
inline constexpr Obligations kWarnIrreversible = 1u << 6;
inline constexpr int kObligationCount = 7;
// Stable lower-case names, indexed by bit position ("aggregate_only", ...).
extern const std::string_view kObligationNames[kObligationCount];

// A condition of a built-in rule. Field meanings and encodings are those of
// edict::fb::Condition; built-in rules never name groups and name at most one region.
struct ConditionSpec {
  uint8_t identity = 0;          // fb::IdentityKind
  uint8_t domain_joined = 0;     // fb::Tri
  uint8_t device_managed = 0;    // fb::Tri
  uint8_t plans = 0;             // fb::Plan bits
  uint8_t roles = 0;             // fb::Role bits
  uint8_t account_creation = 0;  // fb::Tri
  int32_t os_min = 0;
  int32_t os_max = 0;
  uint32_t state_all = 0;   // fb::DeviceState bits
  uint32_t state_none = 0;  // fb::DeviceState bits
  std::string_view region;  // empty: any region
};

struct SettingSpec {
  std::string_view id;
  uint16_t num;
  SettingType type;
  uint8_t setters;
  Scope scope;
  bool at_account_creation;
  bool fixed;
  const std::string_view* values;  // allowed symbols of an enum or flags setting
  uint8_t value_count;
  // bool: 0/1; enum: index into values; flags: bit i = values[i]; integer; duration in
  // seconds. Unused for strings.
  int64_t default_int;
  std::string_view default_string;
  Obligations obligations_if_enabled;
  int16_t atomic_group;  // index into kAtomicGroups, or -1
  std::string_view seed;
  std::string_view description;
  std::string_view caveat;
};

struct AtomicGroupSpec {
  std::string_view id;
  const uint16_t* members;
  uint8_t member_count;
};

struct DataClassSpec {
  std::string_view id;
  uint16_t num;
  Obligations obligations;  // always attached when the class is used
  std::string_view seed;
  std::string_view description;
};

struct PurposeSpec {
  std::string_view id;
  uint16_t num;
  std::string_view seed;
  std::string_view description;
};

// A built-in cell rule of the data-use matrix.
struct BuiltinDataUse {
  uint16_t data_class;
  uint16_t purpose;
  bool allow;
  bool fixed;  // no admin rule can change this cell
  Obligations obligations;
  uint8_t specificity;
  ConditionSpec when;
  std::string_view seed;
  std::string_view note;
};

struct ScheduleSpec {
  std::string_view id;
  uint16_t num;
  std::string_view seed;
  std::string_view description;
};

struct BuiltinSchedule {
  uint16_t schedule;
  int64_t interval_seconds;
  uint8_t specificity;
  ConditionSpec when;
  std::string_view seed;
  std::string_view note;
};

struct ForbidSpec {
  uint16_t setting;
  int64_t value_int;  // same encoding as SettingSpec::default_int
};

struct ComplianceTagSpec {
  std::string_view id;
  std::string_view description;
  const ForbidSpec* forbids;
  uint8_t forbid_count;
};

template <typename T>
struct Table {
  const T* data;
  size_t count;
  constexpr size_t size() const { return count; }
  constexpr const T* begin() const { return data; }
  constexpr const T* end() const { return data + count; }
  constexpr const T& operator[](size_t i) const { return data[i]; }
};

}  // namespace edict

// Generated: edict::catalog::{kVersion, kSettings, kAtomicGroups, kDataClasses, kPurposes,
// kBuiltinDataUse, kBuiltinDataUseCellBegin, kSchedules, kBuiltinSchedules,
// kBuiltinScheduleBegin, kComplianceTags, kSettingsByName, ...}.
#include "policy/catalog_data.inc"

namespace edict::catalog {

// Dense id of a setting / data class / purpose / schedule / compliance tag named by its
// stable string id, or -1 if this catalogue does not know it. O(log n), no allocation.
int FindSetting(std::string_view id);
int FindDataClass(std::string_view id);
int FindPurpose(std::string_view id);
int FindSchedule(std::string_view id);
int FindComplianceTag(std::string_view id);

// Index of `symbol` among an enum or flags setting's allowed values, or -1.
int FindSymbol(const SettingSpec& setting, std::string_view symbol);

// Built-in rules of one data-use cell, most specific first.
inline Table<BuiltinDataUse> BuiltinRulesFor(int data_class, int purpose) {
  const size_t cell = static_cast<size_t>(data_class) * kPurposes.size() + purpose;
  return {kBuiltinDataUse.data + kBuiltinDataUseCellBegin[cell],
          kBuiltinDataUseCellBegin[cell + 1] - kBuiltinDataUseCellBegin[cell]};
}

// Built-in rules of one schedule, most specific first.
inline Table<BuiltinSchedule> BuiltinRulesFor(int schedule) {
  return {kBuiltinSchedules.data + kBuiltinScheduleBegin[schedule],
          kBuiltinScheduleBegin[schedule + 1] - kBuiltinScheduleBegin[schedule]};
}

}  // namespace edict::catalog

#endif  // EDICT_POLICY_CATALOG_H_
