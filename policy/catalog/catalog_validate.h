// Validation rules of product catalogues (docs/catalogs.md), over the FlatBuffers form
// (policy/catalog/catalog.fbs). The JSON source loader (catalog_source.h) and the binary
// loader (catalog_file.h) both apply them, so a hand-made .edcat gets no further than a
// bad source.
#ifndef EDICT_POLICY_CATALOG_CATALOG_VALIDATE_H_
#define EDICT_POLICY_CATALOG_CATALOG_VALIDATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "policy/catalog_generated.h"

namespace edict::catalogs {

// Where a problem is, in the terms of the source JSON: `section` is a top-level key
// ("settings", "product", ...; empty: the catalogue as a whole), `index` the element of
// that array (-1: the section itself), `field` a key of that element (empty: the element).
struct Problem {
  std::string section;
  int index = -1;
  std::string field;
  std::string message;
};

// Every rule a product catalogue breaks, in catalogue order; empty if it is valid.
std::vector<Problem> ValidateCatalog(const catalog_fb::Catalog& cat);

// Product ids of the built-in catalogue (the first segment of its setting and schedule
// ids). A product catalogue may not claim one.
const std::vector<std::string>& BuiltinProductIds();

// Parses `text` in catalogue syntax for setting `s` (bool "true"/"false"; enum: one of
// `values`; flags: values joined by '|', "" for none; integer: decimal digits; duration:
// digits with an optional d/h/m/s suffix; string: anything). Encoding as in
// policy/catalog.h SettingSpec::default_int. False if invalid.
bool ParseSettingValue(const catalog_fb::Setting& s, absl::string_view text, int64_t* out);

// "30d", "12h", "15m", "45s" or bare seconds; false if not one (or over 12 digits).
bool ParseCatalogDuration(absl::string_view text, int64_t* seconds);

// The native names of a setting: the explicit mapping where given, else derived from the
// id (docs/catalogs.md, "Native mappings").
struct NativeNames {
  std::string registry_value;
  catalog_fb::RegistryType registry_type = catalog_fb::RegistryType_Auto;
  std::string dconf_key;
  std::string managed_key;
};
NativeNames EffectiveNative(const catalog_fb::Setting& s);

}  // namespace edict::catalogs

#endif  // EDICT_POLICY_CATALOG_CATALOG_VALIDATE_H_
