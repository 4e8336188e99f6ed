#include "policy/catalog.h"

#include <algorithm>

namespace edict {

const std::string_view kObligationNames[kObligationCount] = {
    "aggregate_only", "hash_field",    "never_collect",    "show_indicator",
    "notify_user",    "notify_others", "warn_irreversible"};

namespace catalog {
namespace {

template <typename Spec>
int FindById(Table<uint16_t> by_name, Table<Spec> specs, std::string_view id) {
  const uint16_t* it =
      std::lower_bound(by_name.begin(), by_name.end(), id,
                       [&](uint16_t i, std::string_view key) { return specs[i].id < key; });
  if (it == by_name.end() || specs[*it].id != id) return -1;
  return *it;
}

}  // namespace

int FindSetting(std::string_view id) { return FindById(kSettingsByName, kSettings, id); }
int FindDataClass(std::string_view id) { return FindById(kDataClassesByName, kDataClasses, id); }
int FindPurpose(std::string_view id) { return FindById(kPurposesByName, kPurposes, id); }
int FindSchedule(std::string_view id) { return FindById(kSchedulesByName, kSchedules, id); }
int FindComplianceTag(std::string_view id) {
  return FindById(kComplianceTagsByName, kComplianceTags, id);
}

int FindSymbol(const SettingSpec& setting, std::string_view symbol) {
  for (int i = 0; i < setting.value_count; ++i) {
    if (setting.values[i] == symbol) return i;
  }
  return -1;
}

}  // namespace catalog
}  // namespace edict
