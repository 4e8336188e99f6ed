// Validation rules of product catalogues; see catalog_validate.h and docs/catalogs.md.
#include "policy/catalog/catalog_validate.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flatbuffers/reflection.h"
#include "policy/catalog.h"
#include "policy/duration.h"
#include "policy/embed/catalog_bfbs_generated.h"

namespace edict::catalogs {
namespace {

namespace cfb = catalog_fb;
namespace fb = edict::fb;

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxProductIdBytes = 32;
constexpr size_t kMaxSymbolBytes = 64;
constexpr size_t kMaxValues = 63;  // flags fit in a 64-bit word, as in the built-in tables
constexpr size_t kMaxTextBytes = 4096;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLower(c) || IsDigit(c) || (c >= 'A' && c <= 'Z'); }

// [a-z][a-z0-9_]*
bool IsName(absl::string_view s) {
  if (s.empty() || !IsLower(s[0])) return false;
  for (char c : s) {
    if (!(IsLower(c) || IsDigit(c) || c == '_')) return false;
  }
  return true;
}

// [A-Za-z0-9][A-Za-z0-9_.-]*: enum and flags symbols (no '|', which joins flags).
bool IsSymbol(absl::string_view s) {
  if (s.empty() || s.size() > kMaxSymbolBytes || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!(IsAlnum(c) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

// Dotted segments of [A-Za-z0-9_-] (the rule every native store applies to keys).
bool IsDottedKey(absl::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (absl::string_view seg : absl::StrSplit(s, '.')) {
    if (seg.empty()) return false;
    for (char c : seg) {
      if (!(IsAlnum(c) || c == '_' || c == '-')) return false;
    }
  }
  return true;
}

// /dir/.../key: directories of [A-Za-z0-9_-], key lower-case letters, digits and single
// dashes starting with a letter (GSettings' key-name rule, as ports/linux/dconf_store.cc).
bool IsDconfKey(absl::string_view s) {
  if (s.size() < 2 || s.size() > 1024 || s[0] != '/' || s.back() == '/') return false;
  std::vector<absl::string_view> segs = absl::StrSplit(s.substr(1), '/');
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (segs[i].empty()) return false;
    for (char c : segs[i]) {
      if (!(IsAlnum(c) || c == '_' || c == '-')) return false;
    }
  }
  absl::string_view key = segs.back();
  if (key.empty() || !IsLower(key[0]) || key.back() == '-' ||
      key.find("--") != absl::string_view::npos)
    return false;
  for (char c : key) {
    if (!(IsLower(c) || IsDigit(c) || c == '-')) return false;
  }
  return true;
}

absl::string_view Sv(const flatbuffers::String* s) {
  return s ? absl::string_view(s->c_str(), s->size()) : absl::string_view();
}

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF), as the JSON reader
// (policy/compiler/json.h) and FlatBuffers' printer (flatbuffers::FromUTF8) require.
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    uint32_t cp = c, min = 0;
    if (c >= 0x80) {
      if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
      } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
      } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
      } else {
        return false;
      }
      if (s.size() - i < len) return false;
      for (size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
      }
      if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    }
    i += len;
  }
  return true;
}

// The name of the first field of `table` (schema object `obj`) holding a string that is not
// UTF-8, directly or in a table or vector below it; empty if there is none. Generic over the
// embedded schema, so a field added to catalog.fbs is covered without a change here.
std::string FirstNonUtf8(const reflection::Schema& schema, const reflection::Object& obj,
                         const flatbuffers::Table& table) {
  for (const reflection::Field* f : *obj.fields()) {
    const reflection::Type& type = *f->type();
    bool ok = true;
    if (type.base_type() == reflection::String) {
      const flatbuffers::String* s = flatbuffers::GetFieldS(table, *f);
      ok = s == nullptr || IsUtf8(absl::string_view(s->c_str(), s->size()));
    } else if (type.base_type() == reflection::Obj) {
      const reflection::Object& sub = *schema.objects()->Get(type.index());
      const flatbuffers::Table* t = sub.is_struct() ? nullptr : flatbuffers::GetFieldT(table, *f);
      ok = t == nullptr || FirstNonUtf8(schema, sub, *t).empty();
    } else if (type.base_type() == reflection::Vector && type.element() == reflection::String) {
      const auto* v = flatbuffers::GetFieldV<flatbuffers::Offset<flatbuffers::String>>(table, *f);
      for (flatbuffers::uoffset_t i = 0; ok && v != nullptr && i < v->size(); ++i)
        ok = IsUtf8(absl::string_view(v->Get(i)->c_str(), v->Get(i)->size()));
    } else if (type.base_type() == reflection::Vector && type.element() == reflection::Obj) {
      const reflection::Object& sub = *schema.objects()->Get(type.index());
      const auto* v =
          sub.is_struct()
              ? nullptr
              : flatbuffers::GetFieldV<flatbuffers::Offset<flatbuffers::Table>>(table, *f);
      for (flatbuffers::uoffset_t i = 0; ok && v != nullptr && i < v->size(); ++i)
        ok = FirstNonUtf8(schema, sub, *v->Get(i)).empty();
    }
    if (!ok) return f->name()->str();
  }
  return "";
}

// Collects problems with their place.
class Checker {
 public:
  explicit Checker(const cfb::Catalog& cat) : cat_(cat) {}

  std::vector<Problem> Run() {
    CheckProduct();
    CheckSettings();
    CheckEntries(cat_.data_classes(), "data_classes", "data class", &classes_);
    CheckEntries(cat_.purposes(), "purposes", "purpose", &purposes_);
    CheckEntries(cat_.schedules(), "schedules", "schedule", &schedules_);
    CheckDataUse();
    CheckScheduleDefaults();
    CheckComplianceTags();
    CheckAttributes();
    CheckUtf8();
    return std::move(problems_);
  }

 private:
  void Add(std::string section, int index, std::string field, std::string message) {
    problems_.push_back({std::move(section), index, std::move(field), std::move(message)});
  }

  // An id this catalogue defines: <product>.<name>.
  bool CheckOwnId(absl::string_view id, const std::string& section, int index,
                  absl::string_view what) {
    const std::string shown = absl::StrCat(what, " \"", id, "\"");
    if (id.size() > kMaxIdBytes) {
      Add(section, index, "id", absl::StrCat(shown, ": longer than ", kMaxIdBytes, " bytes"));
      return false;
    }
    const size_t dot = id.find('.');
    if (dot == absl::string_view::npos || !IsName(id.substr(0, dot)) ||
        !IsName(id.substr(dot + 1))) {
      Add(section, index, "id",
          absl::StrCat(shown, ": an id is <product>.<name>, each [a-z][a-z0-9_]*"));
      return false;
    }
    if (!product_.empty() && id.substr(0, dot) != product_) {
      Add(section, index, "id",
          absl::StrCat(shown, " is outside product \"", product_, "\": ids must start with \"",
                       product_, ".\""));
      return false;
    }
    return true;
  }

  void CheckText(const flatbuffers::String* s, const std::string& section, int index,
                 const char* field, bool required, absl::string_view id) {
    if (s == nullptr || s->size() == 0) {
      if (required) Add(section, index, field, absl::StrCat(id, ": \"", field, "\" is empty"));
      return;
    }
    if (s->size() > kMaxTextBytes) {
      Add(section, index, field,
          absl::StrCat(id, ": \"", field, "\" is longer than ", kMaxTextBytes, " bytes"));
    }
  }

  void CheckProduct() {
    const cfb::Product* p = cat_.product();
    if (p == nullptr) {
      Add("", -1, "",
          "a product catalogue needs \"product\": {\"id\", \"vendor\", \"display_name\"}");
      return;
    }
    const absl::string_view id = Sv(p->id());
    if (!IsName(id) || id.size() > kMaxProductIdBytes) {
      Add("product", -1, "id",
          absl::StrCat("product id \"", id, "\" must be [a-z][a-z0-9_]*, at most ",
                       kMaxProductIdBytes, " bytes"));
    } else if (std::count(BuiltinProductIds().begin(), BuiltinProductIds().end(), id) != 0) {
      Add("product", -1, "id",
          absl::StrCat("product id \"", id, "\" belongs to the built-in catalogue"));
    } else {
      product_ = std::string(id);
    }
    CheckText(p->vendor(), "product", -1, "vendor", true, "product");
    CheckText(p->display_name(), "product", -1, "display_name", true, "product");
    // Vendor and display name name the product's registry key (<vendor>\<display name>
    // under the policy root, docs/catalogs.md "Native mappings"): one key name each.
    for (const auto& [text, field] :
         {std::pair<const flatbuffers::String*, const char*>{p->vendor(), "vendor"},
          {p->display_name(), "display_name"}}) {
      const absl::string_view v = Sv(text);
      const bool control = std::any_of(v.begin(), v.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      });
      if (!v.empty() && (v.size() > 255 || v == "." || v == ".." || control ||
                         v.find('\\') != absl::string_view::npos)) {
        Add("product", -1, field,
            absl::StrCat("product ", field, " \"", v,
                         "\" must be one registry key name: at most 255 bytes, no backslash or "
                         "control character, not \".\" or \"..\""));
      }
    }
    if (cat_.version() == 0) Add("version", -1, "", "\"version\" must be 1 or more");
  }

  // Nums: unique and strictly increasing in array order (a removed entry leaves a gap).
  template <typename T>
  void CheckNum(const T* e, const std::string& section, int index, int* last) {
    if (static_cast<int>(e->num()) <= *last) {
      Add(section, index, "num",
          absl::StrCat(Sv(e->id()), ": num ", e->num(), " must be greater than the previous ",
                       "entry's (", *last, "): nums are unique and ascending"));
    }
    *last = std::max(*last, static_cast<int>(e->num()));
  }

  void CheckSettings() {
    const auto* v = cat_.settings();
    if (v == nullptr || v->size() == 0) {
      Add("settings", -1, "", "a catalogue needs at least one setting");
      return;
    }
    int last = -1;
    std::map<std::string, std::vector<int>> groups;
    std::map<std::string, std::string> registry, dconf, managed;
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      const cfb::Setting* s = v->Get(i);
      const int at = static_cast<int>(i);
      const std::string id(Sv(s->id()));
      CheckOwnId(id, "settings", at, "setting");
      const bool fresh = settings_.emplace(id, at).second;
      if (!fresh) Add("settings", at, "id", absl::StrCat("duplicate setting id \"", id, "\""));
      CheckNum(s, "settings", at, &last);
      CheckText(s->description(), "settings", at, "description", true, id);
      CheckText(s->caveat(), "settings", at, "caveat", false, id);
      CheckText(s->source(), "settings", at, "source", false, id);
      if (s->type() < cfb::SettingType_MIN || s->type() > cfb::SettingType_MAX) {
        Add("settings", at, "type", absl::StrCat(id, ": unknown type ", int(s->type())));
        continue;
      }
      if (s->scope() < cfb::Scope_MIN || s->scope() > cfb::Scope_MAX)
        Add("settings", at, "scope", absl::StrCat(id, ": unknown scope ", int(s->scope())));
      if ((s->setters() & ~cfb::Setter_ANY) != 0)
        Add("settings", at, "setters", absl::StrCat(id, ": unknown setter bits"));
      if ((s->obligations_if_enabled() & ~fb::Obligation_ANY) != 0)
        Add("settings", at, "obligations_if_enabled",
            absl::StrCat(id, ": unknown obligation bits"));
      const bool enumerated =
          s->type() == cfb::SettingType_Enum || s->type() == cfb::SettingType_Flags;
      const size_t nvalues = s->values() ? s->values()->size() : 0;
      if (enumerated && nvalues == 0) {
        Add("settings", at, "type", absl::StrCat(id, ": an Enum or Flags setting lists values"));
      } else if (!enumerated && s->values() != nullptr) {
        Add("settings", at, "values",
            absl::StrCat(id, ": only Enum and Flags settings list values"));
      } else if (nvalues > kMaxValues) {
        Add("settings", at, "values", absl::StrCat(id, ": at most ", kMaxValues, " values"));
      }
      std::set<absl::string_view> seen;
      for (flatbuffers::uoffset_t k = 0; k < nvalues; ++k) {
        const absl::string_view sym = Sv(s->values()->Get(k));
        if (!IsSymbol(sym)) {
          Add("settings", at, "values",
              absl::StrCat(id, ": value \"", sym, "\" must be [A-Za-z0-9][A-Za-z0-9_.-]*, at most ",
                           kMaxSymbolBytes, " bytes"));
        } else if (!seen.insert(sym).second) {
          Add("settings", at, "values", absl::StrCat(id, ": value \"", sym, "\" listed twice"));
        }
      }
      int64_t def = 0;
      if (!(enumerated && nvalues == 0) && !ParseSettingValue(*s, Sv(s->default_()), &def)) {
        Add("settings", at, s->default_() ? "default" : "",
            absl::StrCat(id, ": default \"", Sv(s->default_()), "\" is not a valid ",
                         cfb::EnumNameSettingType(s->type()), " value"));
      }
      if (s->fixed() != (s->setters() == 0)) {
        Add("settings", at, "fixed",
            absl::StrCat(id, ": \"fixed\" exactly when no \"setters\" are given"));
      }
      if (s->at_account_creation() && !(s->setters() & cfb::Setter_User)) {
        Add("settings", at, "at_account_creation",
            absl::StrCat(id, ": at_account_creation needs the User setter"));
      }
      if (s->atomic_group()) groups[s->atomic_group()->str()].push_back(at);
      if (fresh) CheckNative(*s, at, &registry, &dconf, &managed);
    }
    for (const auto& [name, members] : groups) {
      if (members.size() < 2) {
        Add("settings", members[0], "atomic_group",
            absl::StrCat("atomic group \"", name, "\" needs two or more settings"));
      }
    }
  }

  void CheckNative(const cfb::Setting& s, int at, std::map<std::string, std::string>* registry,
                   std::map<std::string, std::string>* dconf,
                   std::map<std::string, std::string>* managed) {
    const std::string id(Sv(s.id()));
    const cfb::NativeMapping* m = s.native();
    if (m != nullptr) {
      if (m->registry_value() && !IsDottedKey(Sv(m->registry_value())))
        Add("settings", at, "native",
            absl::StrCat(id, ": registry_value \"", Sv(m->registry_value()),
                         "\" must be dot-separated [A-Za-z0-9_-] segments"));
      if (m->managed_key() && !IsDottedKey(Sv(m->managed_key())))
        Add("settings", at, "native",
            absl::StrCat(id, ": managed_key \"", Sv(m->managed_key()),
                         "\" must be dot-separated [A-Za-z0-9_-] segments"));
      if (m->dconf_key() && !IsDconfKey(Sv(m->dconf_key())))
        Add("settings", at, "native",
            absl::StrCat(id, ": dconf_key \"", Sv(m->dconf_key()),
                         "\" must be /dir/.../key, the key lower-case letters, digits and "
                         "single dashes"));
      const auto rt = m->registry_type();
      bool fits = true;
      switch (rt) {
        case cfb::RegistryType_Auto:
          break;
        case cfb::RegistryType_DWord:
        case cfb::RegistryType_QWord:
          fits = s.type() == cfb::SettingType_Bool || s.type() == cfb::SettingType_Integer ||
                 s.type() == cfb::SettingType_Duration;
          break;
        case cfb::RegistryType_String:
          fits = s.type() == cfb::SettingType_Enum || s.type() == cfb::SettingType_String;
          break;
        case cfb::RegistryType_MultiString:
          fits = s.type() == cfb::SettingType_Flags;
          break;
        default:
          Add("settings", at, "native", absl::StrCat(id, ": unknown registry_type ", int(rt)));
          fits = true;
          break;
      }
      if (!fits) {
        Add("settings", at, "native",
            absl::StrCat(id, ": registry_type ", cfb::EnumNameRegistryType(rt), " cannot hold a ",
                         cfb::EnumNameSettingType(s.type()), " setting"));
      }
    }
    const NativeNames n = EffectiveNative(s);
    auto unique = [&](std::map<std::string, std::string>* seen, const std::string& name,
                      const char* store) {
      auto [it, fresh] = seen->emplace(name, id);
      if (!fresh) {
        Add("settings", at, "native",
            absl::StrCat(id, ": ", store, " name \"", name, "\" is also ", it->second, "'s"));
      }
    };
    unique(registry, n.registry_value, "registry value");
    unique(dconf, n.dconf_key, "dconf key");
    unique(managed, n.managed_key, "managed JSON key");
  }

  template <typename T>
  void CheckEntries(const flatbuffers::Vector<flatbuffers::Offset<T>>* v, const char* section,
                    const char* what, std::map<std::string, int>* ids) {
    if (v == nullptr) return;
    int last = -1;
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      const T* e = v->Get(i);
      const int at = static_cast<int>(i);
      const std::string id(Sv(e->id()));
      CheckOwnId(id, section, at, what);
      if (!ids->emplace(id, at).second)
        Add(section, at, "id", absl::StrCat("duplicate ", what, " id \"", id, "\""));
      CheckNum(e, section, at, &last);
      CheckText(e->description(), section, at, "description", true, id);
      CheckText(e->source(), section, at, "source", false, id);
    }
  }

  void CheckWhen(const fb::Condition* c, const char* section, int at) {
    if (c == nullptr) return;
    if (c->groups() && c->groups()->size() != 0)
      Add(section, at, "when", "built-in rules of a catalogue cannot name groups");
    if (c->regions() && c->regions()->size() > 1)
      Add(section, at, "when", "built-in rules of a catalogue name at most one region");
  }

  void CheckDataUse() {
    const auto* v = cat_.data_use_defaults();
    if (v == nullptr) return;
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      const cfb::DataUseDefault* d = v->Get(i);
      const int at = static_cast<int>(i);
      const std::string cls(Sv(d->data_class())), pur(Sv(d->purpose()));
      if (!classes_.count(cls))
        Add("data_use_defaults", at, "data_class",
            absl::StrCat("unknown data class \"", cls, "\" (not defined by this catalogue)"));
      if (!purposes_.count(pur) && catalog::FindPurpose(std::string_view(pur)) < 0)
        Add("data_use_defaults", at, "purpose",
            absl::StrCat("unknown purpose \"", pur,
                         "\" (neither this catalogue's nor a built-in one)"));
      if (d->effect() != fb::Effect_Allow && d->effect() != fb::Effect_Deny)
        Add("data_use_defaults", at, "effect", "unknown effect");
      CheckWhen(d->when(), "data_use_defaults", at);
      CheckText(d->note(), "data_use_defaults", at, "note", false, cls + "/" + pur);
    }
  }

  void CheckScheduleDefaults() {
    const auto* v = cat_.schedule_defaults();
    if (v == nullptr) return;
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      const cfb::ScheduleDefault* d = v->Get(i);
      const int at = static_cast<int>(i);
      if (!schedules_.count(std::string(Sv(d->schedule()))))
        Add("schedule_defaults", at, "schedule",
            absl::StrCat("unknown schedule \"", Sv(d->schedule()), "\""));
      int64_t secs = 0;
      if (!ParseCatalogDuration(Sv(d->interval()), &secs) || secs <= 0)
        Add("schedule_defaults", at, "interval",
            absl::StrCat("interval \"", Sv(d->interval()), "\" is not a positive duration"));
      CheckWhen(d->when(), "schedule_defaults", at);
    }
  }

  void CheckComplianceTags() {
    const auto* v = cat_.compliance_tags();
    if (v == nullptr) return;
    std::set<std::string> tags;
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      const cfb::ComplianceTag* t = v->Get(i);
      const int at = static_cast<int>(i);
      const std::string id(Sv(t->id()));
      CheckOwnId(id, "compliance_tags", at, "compliance tag");
      if (!tags.insert(id).second)
        Add("compliance_tags", at, "id", absl::StrCat("duplicate compliance tag \"", id, "\""));
      if (t->forbids() == nullptr) continue;
      for (const cfb::Forbid* f : *t->forbids()) {
        auto s = settings_.find(std::string(Sv(f->setting())));
        int64_t value = 0;
        if (s == settings_.end()) {
          Add("compliance_tags", at, "forbids",
              absl::StrCat(id, ": unknown setting \"", Sv(f->setting()), "\""));
        } else if (!ParseSettingValue(*cat_.settings()->Get(s->second), Sv(f->value()), &value)) {
          Add("compliance_tags", at, "forbids",
              absl::StrCat(id, ": \"", Sv(f->value()), "\" is not a value of ", s->first));
        }
      }
    }
  }

  void CheckAttributes() {
    const auto* v = cat_.attributes();
    if (v == nullptr) return;
    std::set<std::string> names;
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      const cfb::ContextAttribute* a = v->Get(i);
      const int at = static_cast<int>(i);
      const std::string name(Sv(a->name()));
      if (product_.empty()) {
        // The built-in catalogue: its rows are the built-in condition terms, named as the
        // `when` keys, each with the kernel encoding it uses.
        if (!IsName(name))
          Add("attributes", at, "name",
              absl::StrCat("built-in attribute \"", name, "\": a name is [a-z][a-z0-9_]*"));
        if (a->term() == cfb::BuiltinTerm_None || a->term() > cfb::BuiltinTerm_MAX)
          Add("attributes", at, "term",
              absl::StrCat(name, ": a built-in attribute names its built-in term"));
      } else if (a->term() != cfb::BuiltinTerm_None) {
        Add("attributes", at, "term",
            absl::StrCat(name, ": only the built-in catalogue has built-in terms"));
      } else {
        // Reported against "name": the attribute's id.
        const size_t before = problems_.size();
        CheckOwnId(name, "attributes", at, "attribute");
        for (size_t k = before; k < problems_.size(); ++k) problems_[k].field = "name";
      }
      if (!names.insert(name).second)
        Add("attributes", at, "name", absl::StrCat("duplicate attribute \"", name, "\""));
      CheckText(a->description(), "attributes", at, "description", true, name);
      CheckText(a->source(), "attributes", at, "source", false, name);
      const size_t nvalues = a->values() ? a->values()->size() : 0;
      switch (a->type()) {
        case cfb::AttributeType_Enum: {
          if (nvalues == 0)
            Add("attributes", at, "type", absl::StrCat(name, ": an Enum attribute lists values"));
          if (nvalues > kMaxValues)
            Add("attributes", at, "values",
                absl::StrCat(name, ": at most ", kMaxValues, " values"));
          std::set<absl::string_view> seen;
          for (flatbuffers::uoffset_t k = 0; k < nvalues; ++k) {
            const absl::string_view sym = Sv(a->values()->Get(k));
            if (!IsSymbol(sym) || !seen.insert(sym).second)
              Add("attributes", at, "values",
                  absl::StrCat(name, ": value \"", sym, "\" is malformed or listed twice"));
          }
          break;
        }
        case cfb::AttributeType_IntRange:
          if (a->min() > a->max())
            Add("attributes", at, "min",
                absl::StrCat(name, ": min ", a->min(), " is greater than max ", a->max()));
          break;
        case cfb::AttributeType_Bool:
        case cfb::AttributeType_StringSet:
          break;
        default:
          Add("attributes", at, "type", absl::StrCat(name, ": unknown type ", int(a->type())));
          continue;
      }
      if (a->type() != cfb::AttributeType_Enum && a->values() != nullptr)
        Add("attributes", at, "values", absl::StrCat(name, ": only Enum attributes list values"));
      if (a->type() != cfb::AttributeType_IntRange && (a->min() != 0 || a->max() != 0))
        Add("attributes", at, "min",
            absl::StrCat(name, ": only IntRange attributes have min and max"));
    }
  }

  // Every string is UTF-8. A source cannot hold anything else (its JSON is strict UTF-8),
  // but a hand-made binary could, and CatalogToJson cannot print it (`edictctl catalog
  // inspect --json` failed on a catalogue that opened): finding of the `catalog` fuzz
  // target, fuzz/README.md. Walks the embedded schema, so every string field is covered.
  void CheckUtf8() {
    const reflection::Schema& schema = *reflection::GetSchema(cfb::CatalogBinarySchema::data());
    const reflection::Object& root = *schema.root_table();
    // The generated table derives privately from flatbuffers::Table; it is one.
    const auto& table = *reinterpret_cast<const flatbuffers::Table*>(&cat_);
    for (const reflection::Field* f : *root.fields()) {
      const reflection::Type& type = *f->type();
      const std::string section = f->name()->str();
      if (type.base_type() == reflection::Vector && type.element() == reflection::Obj) {
        const reflection::Object& sub = *schema.objects()->Get(type.index());
        const auto* v = flatbuffers::GetFieldV<flatbuffers::Offset<flatbuffers::Table>>(table, *f);
        for (flatbuffers::uoffset_t i = 0; !sub.is_struct() && v != nullptr && i < v->size(); ++i) {
          const std::string field = FirstNonUtf8(schema, sub, *v->Get(i));
          if (!field.empty())
            Add(section, static_cast<int>(i), field,
                absl::StrCat("\"", field, "\" is not valid UTF-8"));
        }
      } else if (type.base_type() == reflection::Obj) {
        const reflection::Object& sub = *schema.objects()->Get(type.index());
        const flatbuffers::Table* t = sub.is_struct() ? nullptr : flatbuffers::GetFieldT(table, *f);
        const std::string field = t ? FirstNonUtf8(schema, sub, *t) : "";
        if (!field.empty())
          Add(section, -1, field, absl::StrCat("\"", field, "\" is not valid UTF-8"));
      }
    }
  }

  const cfb::Catalog& cat_;
  std::string product_;
  std::map<std::string, int> settings_, classes_, purposes_, schedules_;
  std::vector<Problem> problems_;
};

}  // namespace

const std::vector<std::string>& BuiltinProductIds() {
  static const std::vector<std::string> kIds = [] {
    std::set<std::string> ids;
    auto add = [&](std::string_view id) {
      const size_t dot = id.find('.');
      if (dot != absl::string_view::npos) ids.emplace(id.substr(0, dot));
    };
    for (const SettingSpec& s : catalog::kSettings) add(s.id);
    for (const ScheduleSpec& s : catalog::kSchedules) add(s.id);
    return std::vector<std::string>(ids.begin(), ids.end());
  }();
  return kIds;
}

bool ParseCatalogDuration(absl::string_view s, int64_t* out) {
  return ParseDurationText(std::string_view(s.data(), s.size()), out, BareSeconds::kAccept);
}

bool ParseSettingValue(const cfb::Setting& s, absl::string_view text, int64_t* out) {
  auto index_of = [&](absl::string_view sym) -> int {
    if (!s.values()) return -1;
    for (flatbuffers::uoffset_t i = 0; i < s.values()->size(); ++i) {
      if (Sv(s.values()->Get(i)) == sym) return static_cast<int>(i);
    }
    return -1;
  };
  switch (s.type()) {
    case cfb::SettingType_Bool:
      if (text != "true" && text != "false") return false;
      *out = text == "true";
      return true;
    case cfb::SettingType_Enum: {
      const int i = index_of(text);
      *out = i;
      return i >= 0;
    }
    case cfb::SettingType_Flags: {
      int64_t bits = 0;
      if (!text.empty()) {
        for (absl::string_view sym : absl::StrSplit(text, '|')) {
          const int i = index_of(sym);
          if (i < 0 || i >= 63) return false;
          bits |= int64_t{1} << i;
        }
      }
      *out = bits;
      return true;
    }
    case cfb::SettingType_Integer:
      return !text.empty() && IsDigit(text.back()) && ParseCatalogDuration(text, out);
    case cfb::SettingType_Duration:
      return ParseCatalogDuration(text, out);
    case cfb::SettingType_String:
      *out = 0;
      return true;
  }
  return false;
}

NativeNames EffectiveNative(const cfb::Setting& s) {
  NativeNames n;
  const std::string id(Sv(s.id()));
  const cfb::NativeMapping* m = s.native();
  n.registry_value = m && m->registry_value() ? m->registry_value()->str() : id;
  n.registry_type = m ? m->registry_type() : cfb::RegistryType_Auto;
  n.managed_key = m && m->managed_key() ? m->managed_key()->str() : id;
  if (m && m->dconf_key()) {
    n.dconf_key = m->dconf_key()->str();
  } else {
    // As the agent's dconf store names keys today: /org/edict/<product>/<name>, with
    // dashes for underscores.
    n.dconf_key = "/org/edict/";
    const size_t dot = id.find('.');
    n.dconf_key += id.substr(0, dot);
    n.dconf_key += '/';
    for (char c : id.substr(dot == std::string::npos ? id.size() : dot + 1))
      n.dconf_key += c == '_' ? '-' : c;
  }
  return n;
}

std::vector<Problem> ValidateCatalog(const cfb::Catalog& cat) { return Checker(cat).Run(); }

}  // namespace edict::catalogs
