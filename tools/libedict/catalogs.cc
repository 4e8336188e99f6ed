// libedict product catalogues (edict.h "Product catalogues"): catalogue builders and sets
// (edict::CatalogSet behind a shared_ptr), lookups by kind, product info, and context
// builders with catalogue attributes. Loading and building allocate; lookups do not.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "edict/edict.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_set.h"
#include "tools/libedict/internal.h"

struct edict_catalog_builder {
  std::vector<edict::CatalogSet::Input> inputs;
};

namespace {

using namespace edict::capi;  // NOLINT: this library's own helpers

// The built-in set (null shared_ptr), for NULL arguments.
const edict_catalogs kBuiltin{};

const edict::CatalogSet& SetOf(const edict_catalogs* c) {
  return c != nullptr ? c->get() : edict::CatalogSet::Builtin();
}

// A NUL-terminated C string of a string_view that views a whole FlatBuffers string, string
// literal or std::string (all are NUL-terminated), "" for an empty one.
const char* CStr(std::string_view s) { return s.empty() ? "" : s.data(); }

template <typename T>
const T* At(absl::Span<const T> table, int32_t id) {
  return id >= 0 && static_cast<size_t>(id) < table.size() ? &table[static_cast<size_t>(id)]
                                                           : nullptr;
}

const edict::AttributeSpec* AttributeAt(const edict::CatalogSet& set, int32_t id) {
  return At(set.attributes(), id);
}

// Verifies one catalogue's bytes and adds them to the builder.
edict_status AddBytes(edict_catalog_builder* b, std::string bytes, std::string origin,
                      edict_error* error) {
  absl::StatusOr<edict::catalogs::CatalogFile> file =
      edict::catalogs::CatalogFile::FromBytes(absl::string_view(bytes.data(), bytes.size()));
  if (!file.ok()) {
    const std::string where = origin.empty() ? std::string("catalogue") : origin;
    return Fail(error, EDICT_ERR_CATALOG, 0,
                where + ": " + std::string(ToStd(file.status().message())));
  }
  b->inputs.push_back(edict::CatalogSet::Input{std::move(origin), std::move(bytes)});
  return ClearError(error);
}

// The attribute `name` of the builder's set and whether it has type `type`.
edict_status FindTyped(const edict_context_builder* b, const char* name, edict::AttributeType type,
                       int* attribute) {
  if (name == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  const edict::CatalogSet& set = b->catalogs.get();
  *attribute = set.FindAttribute(name);
  if (*attribute < 0) return EDICT_ERR_UNKNOWN_ID;
  if (set.attributes()[static_cast<size_t>(*attribute)].type != type) {
    return EDICT_ERR_INVALID_ARGUMENT;
  }
  return EDICT_OK;
}

// Sets (or replaces) one attribute's value and re-points the context. A built-in row's
// value must fit its Context field (device_state_not is a condition term only).
edict_status Put(edict_context_builder* b, edict_context_builder::Attribute a) {
  const edict::BuiltinTerm term =
      b->catalogs.get().attributes()[static_cast<size_t>(a.attribute)].term;
  if (term != edict::BuiltinTerm::kNone) {
    // device_state holds flags: set_enum names one of them.
    if (term == edict::BuiltinTerm::kDeviceState) a.number = int64_t{1} << a.number;
    const std::vector<std::string_view> views(a.strings.begin(), a.strings.end());
    edict::Context probe;
    if (!edict::SetBuiltinAttribute(
            term, edict::AttributeValue{a.attribute, a.number, absl::MakeConstSpan(views)},
            &probe)) {
      return EDICT_ERR_INVALID_ARGUMENT;
    }
  }
  for (edict_context_builder::Attribute& existing : b->attributes) {
    if (existing.attribute == a.attribute) {
      existing = std::move(a);
      b->Rebuild();
      return EDICT_OK;
    }
  }
  b->attributes.push_back(std::move(a));
  b->Rebuild();
  return EDICT_OK;
}

}  // namespace

// The base's fields, then every attribute set by name: built-in rows (identity, plan,
// groups, ...) into their Context fields (edict::SetBuiltinAttribute), product attributes
// into ctx.attributes.
void edict_context_builder::Rebuild() {
  group_views.assign(groups.begin(), groups.end());
  values.clear();
  ctx = base;
  ctx.groups = absl::Span<const std::string_view>(group_views.data(), group_views.size());
  ctx.region = region;
  for (Attribute& a : attributes) {
    a.views.assign(a.strings.begin(), a.strings.end());
    edict::AttributeValue v;
    v.attribute = a.attribute;
    v.number = a.number;
    v.strings = absl::Span<const std::string_view>(a.views.data(), a.views.size());
    const edict::BuiltinTerm term =
        catalogs.get().attributes()[static_cast<size_t>(a.attribute)].term;
    if (term == edict::BuiltinTerm::kNone) {
      values.push_back(v);
    } else {
      edict::SetBuiltinAttribute(term, v, &ctx);  // checked by Put
    }
  }
  ctx.attributes = absl::Span<const edict::AttributeValue>(values.data(), values.size());
}

extern "C" {

// ---- Building sets ---------------------------------------------------------------------------

edict_status edict_catalog_builder_new(edict_catalog_builder** out) EDICT_NOEXCEPT {
  if (out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  *out = new (std::nothrow) edict_catalog_builder();
  return *out == nullptr ? EDICT_ERR_NO_MEMORY : EDICT_OK;
}

edict_status edict_catalog_builder_add_file(edict_catalog_builder* builder, const char* path,
                                            edict_error* error) EDICT_NOEXCEPT {
  if (builder == nullptr || path == nullptr) {
    return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "builder or path is NULL");
  }
  const size_t cap = edict::catalogs::kMaxBinaryBytes;
  absl::StatusOr<std::vector<uint8_t>> bytes = ReadWholeFile(path, cap, /*regular_only=*/true);
  if (!bytes.ok()) {
    return Fail(error, FromCode(bytes.status().code()), 0, ToStd(bytes.status().message()));
  }
  if (bytes->size() > cap) {
    return Fail(error, EDICT_ERR_CATALOG, 0,
                std::string(path) + ": larger than " + std::to_string(cap) + " bytes");
  }
  return AddBytes(builder, std::string(bytes->begin(), bytes->end()), path, error);
}

edict_status edict_catalog_builder_add_memory(edict_catalog_builder* builder, const void* bytes,
                                              size_t size, const char* origin,
                                              edict_error* error) EDICT_NOEXCEPT {
  if (builder == nullptr || (bytes == nullptr && size != 0)) {
    return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "builder or bytes is NULL");
  }
  const std::string where = origin != nullptr ? origin : "";
  if (size > edict::catalogs::kMaxBinaryBytes) {
    return Fail(error, EDICT_ERR_CATALOG, 0,
                (where.empty() ? std::string("catalogue") : where) + ": larger than " +
                    std::to_string(edict::catalogs::kMaxBinaryBytes) + " bytes");
  }
  const char* b = static_cast<const char*>(bytes);
  return AddBytes(builder, size == 0 ? std::string() : std::string(b, b + size), where, error);
}

edict_status edict_catalog_builder_build(const edict_catalog_builder* builder, edict_catalogs** out,
                                         edict_error* error) EDICT_NOEXCEPT {
  if (out == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "out is NULL");
  *out = nullptr;
  if (builder == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "builder is NULL");
  absl::StatusOr<std::shared_ptr<const edict::CatalogSet>> set =
      edict::CatalogSet::Create(builder->inputs);
  if (!set.ok()) {
    return Fail(error, EDICT_ERR_CATALOG, 0, ToStd(set.status().message()));
  }
  edict_catalogs* c = new (std::nothrow) edict_catalogs();
  if (c == nullptr) return Fail(error, EDICT_ERR_NO_MEMORY, 0, "out of memory");
  c->set = *std::move(set);
  *out = c;
  return ClearError(error);
}

void edict_catalog_builder_free(edict_catalog_builder* builder) EDICT_NOEXCEPT { delete builder; }

edict_status edict_catalogs_open_file(const char* path, edict_catalogs** out,
                                      edict_error* error) EDICT_NOEXCEPT {
  if (out == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "out is NULL");
  *out = nullptr;
  edict_catalog_builder b;
  if (edict_status s = edict_catalog_builder_add_file(&b, path, error); s != EDICT_OK) return s;
  return edict_catalog_builder_build(&b, out, error);
}

edict_status edict_catalogs_open_memory(const void* bytes, size_t size, edict_catalogs** out,
                                        edict_error* error) EDICT_NOEXCEPT {
  if (out == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "out is NULL");
  *out = nullptr;
  edict_catalog_builder b;
  if (edict_status s = edict_catalog_builder_add_memory(&b, bytes, size, nullptr, error);
      s != EDICT_OK) {
    return s;
  }
  return edict_catalog_builder_build(&b, out, error);
}

void edict_catalogs_free(edict_catalogs* catalogs) EDICT_NOEXCEPT { delete catalogs; }

// ---- Lookups -----------------------------------------------------------------------------------

int32_t edict_catalogs_find(const edict_catalogs* catalogs, int kind,
                            const char* name) EDICT_NOEXCEPT {
  if (name == nullptr) return -1;
  const edict::CatalogSet& set = SetOf(catalogs);
  switch (kind) {
    case EDICT_ENTRY_SETTING:
      return set.FindSetting(name);
    case EDICT_ENTRY_DATA_CLASS:
      return set.FindDataClass(name);
    case EDICT_ENTRY_PURPOSE:
      return set.FindPurpose(name);
    case EDICT_ENTRY_SCHEDULE:
      return set.FindSchedule(name);
    case EDICT_ENTRY_ATTRIBUTE:
      return set.FindAttribute(name);
    default:
      return -1;
  }
}

int32_t edict_catalogs_count(const edict_catalogs* catalogs, int kind) EDICT_NOEXCEPT {
  const edict::CatalogSet& set = SetOf(catalogs);
  switch (kind) {
    case EDICT_ENTRY_SETTING:
      return static_cast<int32_t>(set.settings().size());
    case EDICT_ENTRY_DATA_CLASS:
      return static_cast<int32_t>(set.data_classes().size());
    case EDICT_ENTRY_PURPOSE:
      return static_cast<int32_t>(set.purposes().size());
    case EDICT_ENTRY_SCHEDULE:
      return static_cast<int32_t>(set.schedules().size());
    case EDICT_ENTRY_ATTRIBUTE:
      return static_cast<int32_t>(set.attributes().size());
    default:
      return -1;
  }
}

const char* edict_catalogs_name(const edict_catalogs* catalogs, int kind,
                                int32_t id) EDICT_NOEXCEPT {
  const edict::CatalogSet& set = SetOf(catalogs);
  switch (kind) {
    case EDICT_ENTRY_SETTING:
      if (const auto* e = At(set.settings(), id)) return CStr(e->id);
      return nullptr;
    case EDICT_ENTRY_DATA_CLASS:
      if (const auto* e = At(set.data_classes(), id)) return CStr(e->id);
      return nullptr;
    case EDICT_ENTRY_PURPOSE:
      if (const auto* e = At(set.purposes(), id)) return CStr(e->id);
      return nullptr;
    case EDICT_ENTRY_SCHEDULE:
      if (const auto* e = At(set.schedules(), id)) return CStr(e->id);
      return nullptr;
    case EDICT_ENTRY_ATTRIBUTE:
      if (const auto* e = AttributeAt(set, id)) return CStr(e->name);
      return nullptr;
    default:
      return nullptr;
  }
}

int edict_catalogs_setting_type(const edict_catalogs* catalogs, int32_t setting) EDICT_NOEXCEPT {
  const edict::SettingSpec* spec = At(SetOf(catalogs).settings(), setting);
  return spec == nullptr ? -1 : static_cast<int>(spec->type);
}

const char* edict_catalogs_setting_symbol(const edict_catalogs* catalogs, int32_t setting,
                                          int32_t index) EDICT_NOEXCEPT {
  const edict::SettingSpec* spec = At(SetOf(catalogs).settings(), setting);
  if (spec == nullptr || index < 0 || index >= spec->value_count) return nullptr;
  return CStr(spec->values[index]);
}

int32_t edict_catalogs_setting_symbol_index(const edict_catalogs* catalogs, int32_t setting,
                                            const char* symbol) EDICT_NOEXCEPT {
  const edict::SettingSpec* spec = At(SetOf(catalogs).settings(), setting);
  if (spec == nullptr || symbol == nullptr) return -1;
  for (int32_t i = 0; i < spec->value_count; ++i) {
    if (spec->values[i] == symbol) return i;
  }
  return -1;
}

int edict_catalogs_attribute_type(const edict_catalogs* catalogs,
                                  int32_t attribute) EDICT_NOEXCEPT {
  const edict::AttributeSpec* spec = AttributeAt(SetOf(catalogs), attribute);
  if (spec == nullptr) return -1;
  switch (spec->type) {
    case edict::AttributeType::kBool:
      return EDICT_ATTRIBUTE_BOOL;
    case edict::AttributeType::kEnum:
      return EDICT_ATTRIBUTE_ENUM;
    case edict::AttributeType::kIntRange:
      return EDICT_ATTRIBUTE_INTEGER;
    case edict::AttributeType::kStringSet:
      return EDICT_ATTRIBUTE_STRING_SET;
  }
  return -1;
}

const char* edict_catalogs_attribute_value(const edict_catalogs* catalogs, int32_t attribute,
                                           int32_t index) EDICT_NOEXCEPT {
  const edict::AttributeSpec* spec = AttributeAt(SetOf(catalogs), attribute);
  if (spec == nullptr || spec->type != edict::AttributeType::kEnum || index < 0 ||
      static_cast<size_t>(index) >= spec->values.size()) {
    return nullptr;
  }
  return CStr(spec->values[static_cast<size_t>(index)]);
}

edict_status edict_catalogs_attribute_range(const edict_catalogs* catalogs, int32_t attribute,
                                            int64_t* min, int64_t* max) EDICT_NOEXCEPT {
  const edict::AttributeSpec* spec = AttributeAt(SetOf(catalogs), attribute);
  if (spec == nullptr) return EDICT_ERR_UNKNOWN_ID;
  if (spec->type != edict::AttributeType::kIntRange || min == nullptr || max == nullptr) {
    return EDICT_ERR_INVALID_ARGUMENT;
  }
  *min = spec->min;
  *max = spec->max;
  return EDICT_OK;
}

// ---- Products
// ------------------------------------------------------------------------------------

void edict_product_info_init(edict_product_info* info) EDICT_NOEXCEPT {
  if (info == nullptr) return;
  std::memset(info, 0, sizeof(*info));
  info->struct_size = sizeof(edict_product_info);
}

int32_t edict_catalogs_product_count(const edict_catalogs* catalogs) EDICT_NOEXCEPT {
  return static_cast<int32_t>(SetOf(catalogs).products().size());
}

edict_status edict_catalogs_product(const edict_catalogs* catalogs, int32_t index,
                                    edict_product_info* info) EDICT_NOEXCEPT {
  // Every field of the first release (0.2) is required; fields appended later are filled
  // only when the caller's struct_size says they are there.
  constexpr size_t kFirstReleaseSize =
      offsetof(edict_product_info, setting_count) + sizeof(info->setting_count);
  if (info == nullptr || info->struct_size < kFirstReleaseSize) {
    return EDICT_ERR_INVALID_ARGUMENT;
  }
  const edict::ProductSpec* p = At(SetOf(catalogs).products(), index);
  if (p == nullptr) return EDICT_ERR_UNKNOWN_ID;
  info->id = CStr(p->id);
  info->vendor = CStr(p->vendor);
  info->display_name = CStr(p->display_name);
  info->version = p->version;
  info->hash = p->hash;
  info->origin = CStr(p->origin);
  info->first_setting = p->first_setting;
  info->setting_count = p->setting_count;
  return EDICT_OK;
}

const edict_catalogs* edict_policy_catalogs(const edict_policy* policy) EDICT_NOEXCEPT {
  return policy == nullptr ? nullptr : &policy->catalogs;
}

// ---- Context builders -----------------------------------------------------------------------

edict_status edict_context_builder_new(const edict_catalogs* catalogs,
                                       edict_context_builder** out) EDICT_NOEXCEPT {
  if (out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  *out = new (std::nothrow) edict_context_builder();
  if (*out == nullptr) return EDICT_ERR_NO_MEMORY;
  (*out)->catalogs = catalogs != nullptr ? *catalogs : kBuiltin;
  (*out)->Rebuild();
  return EDICT_OK;
}

void edict_context_builder_free(edict_context_builder* builder) EDICT_NOEXCEPT { delete builder; }

edict_status edict_context_builder_set_base(edict_context_builder* builder,
                                            const edict_context* ctx) EDICT_NOEXCEPT {
  if (builder == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  if (edict_status s = ToContext(ctx, &storage); s != EDICT_OK) return s;
  builder->base = storage.ctx;
  builder->groups.assign(storage.ctx.groups.begin(), storage.ctx.groups.end());
  builder->region.assign(storage.ctx.region.data(), storage.ctx.region.size());
  builder->Rebuild();
  return EDICT_OK;
}

edict_status edict_context_builder_set_bool(edict_context_builder* builder, const char* name,
                                            int value) EDICT_NOEXCEPT {
  if (builder == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  edict_context_builder::Attribute a;
  if (edict_status s = FindTyped(builder, name, edict::AttributeType::kBool, &a.attribute);
      s != EDICT_OK) {
    return s;
  }
  a.number = value != 0 ? 1 : 0;
  return Put(builder, std::move(a));
}

edict_status edict_context_builder_set_enum(edict_context_builder* builder, const char* name,
                                            const char* value) EDICT_NOEXCEPT {
  if (builder == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  edict_context_builder::Attribute a;
  if (edict_status s = FindTyped(builder, name, edict::AttributeType::kEnum, &a.attribute);
      s != EDICT_OK) {
    return s;
  }
  if (value == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  const edict::AttributeSpec& spec =
      builder->catalogs.get().attributes()[static_cast<size_t>(a.attribute)];
  a.number = -1;
  for (size_t i = 0; i < spec.values.size(); ++i) {
    if (spec.values[i] == value) a.number = static_cast<int64_t>(i);
  }
  if (a.number < 0) return EDICT_ERR_INVALID_ARGUMENT;
  return Put(builder, std::move(a));
}

edict_status edict_context_builder_set_integer(edict_context_builder* builder, const char* name,
                                               int64_t value) EDICT_NOEXCEPT {
  if (builder == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  edict_context_builder::Attribute a;
  if (edict_status s = FindTyped(builder, name, edict::AttributeType::kIntRange, &a.attribute);
      s != EDICT_OK) {
    return s;
  }
  const edict::AttributeSpec& spec =
      builder->catalogs.get().attributes()[static_cast<size_t>(a.attribute)];
  if (value < spec.min || value > spec.max) return EDICT_ERR_INVALID_ARGUMENT;
  a.number = value;
  return Put(builder, std::move(a));
}

edict_status edict_context_builder_set_strings(edict_context_builder* builder, const char* name,
                                               const char* const* values,
                                               size_t count) EDICT_NOEXCEPT {
  if (builder == nullptr || (values == nullptr && count != 0)) return EDICT_ERR_INVALID_ARGUMENT;
  edict_context_builder::Attribute a;
  if (edict_status s = FindTyped(builder, name, edict::AttributeType::kStringSet, &a.attribute);
      s != EDICT_OK) {
    return s;
  }
  for (size_t i = 0; i < count; ++i) {
    if (values[i] == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  }
  a.strings.assign(values, values + count);
  return Put(builder, std::move(a));
}

edict_status edict_context_builder_unset(edict_context_builder* builder,
                                         const char* name) EDICT_NOEXCEPT {
  if (builder == nullptr || name == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  const int attribute = builder->catalogs.get().FindAttribute(name);
  if (attribute < 0) return EDICT_ERR_UNKNOWN_ID;
  for (size_t i = 0; i < builder->attributes.size(); ++i) {
    if (builder->attributes[i].attribute == attribute) {
      builder->attributes.erase(builder->attributes.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  builder->Rebuild();
  return EDICT_OK;
}

}  // extern "C"
