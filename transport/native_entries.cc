// NativeEntriesFor (activation.h): the entries native stores get for one snapshot, built-in
// settings as always and product settings with their catalogue's native mapping.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/catalog/catalog_set.h"
#include "policy/catalog/catalog_validate.h"
#include "transport/activation.h"

namespace edict::transport {

std::vector<ports::NativePolicyEntry> NativeEntriesFor(const Snapshot& snapshot, const Context& ctx,
                                                       NativeKeyStyle style) {
  const CatalogSet& set = snapshot.catalogs();
  const absl::Span<const SettingSpec> settings = set.settings();
  std::vector<ports::NativePolicyEntry> out;
  for (size_t i = 0; i < settings.size(); ++i) {
    const SettingSpec& spec = settings[i];
    const Resolution r = snapshot.Resolve(static_cast<int>(i), ctx);
    if (r.source != Source::kMandatory && r.source != Source::kRecommended) continue;
    ports::NativePolicyEntry e;
    e.key.assign(spec.id.data(), spec.id.size());
    if (const catalog_fb::Setting* product = set.ProductSetting(static_cast<int>(i))) {
      const catalogs::NativeNames names = catalogs::EffectiveNative(*product);
      if (style == NativeKeyStyle::kCatalog) e.key = names.managed_key;
      e.dconf_path = names.dconf_key;
      const int p = set.ProductOfSetting(static_cast<int>(i));
      if (p >= 0) {
        const ProductSpec& ps = set.products()[p];
        const std::string_view vendor = ps.vendor.empty() ? ps.id : ps.vendor;
        const std::string_view name = ps.display_name.empty() ? ps.id : ps.display_name;
        e.registry_key = std::string(vendor) + "\\" + std::string(name);
      }
      e.registry_value = names.registry_value;
      e.registry_type = static_cast<uint8_t>(names.registry_type);
    }
    if (style == NativeKeyStyle::kGSettings) std::replace(e.key.begin(), e.key.end(), '_', '-');
    e.mandatory = r.source == Source::kMandatory;
    switch (spec.type) {
      case SettingType::kBool:
        e.value = r.value.number != 0;
        break;
      case SettingType::kInteger:
      case SettingType::kDuration:
        e.value = static_cast<int64_t>(r.value.number);
        break;
      case SettingType::kEnum: {
        if (r.value.number < 0 || r.value.number >= spec.value_count) continue;
        const std::string_view sym = spec.values[r.value.number];
        e.value = std::string(sym.data(), sym.size());
        break;
      }
      case SettingType::kFlags: {
        std::vector<std::string> list;
        for (int b = 0; b < spec.value_count && b < 63; ++b) {
          if ((r.value.number >> b) & 1) list.emplace_back(spec.values[b]);
        }
        e.value = std::move(list);
        break;
      }
      case SettingType::kString:
        e.value = std::string(r.value.text.data(), r.value.text.size());
        break;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace edict::transport
