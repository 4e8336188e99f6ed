// `edictctl gen docs`: the Markdown reference of a product catalogue or of the built-in
// catalogue (docs/settings.md); and the helpers the other generators share (gen_outputs.h).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_validate.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/json.h"
#include "policy/condition.h"
#include "tools/edictctl/gen_outputs.h"

namespace edict::ctl::gen {

namespace cfb = catalog_fb;
namespace cat = catalogs;

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::vector<std::string> Values(const cfb::Setting& s) {
  std::vector<std::string> out;
  if (s.values() != nullptr) {
    for (const flatbuffers::String* v : *s.values()) out.push_back(v->str());
  }
  return out;
}

std::string JsonString(absl::string_view s) {
  return json::Quote(std::string_view(s.data(), s.size()));
}

std::string XmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows no other control characters than tab, LF and CR.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string SettersText(uint8_t setters) {
  std::vector<std::string> out;
  if (setters & cfb::Setter_User) out.push_back("user");
  if (setters & cfb::Setter_Admin) out.push_back("admin");
  if (setters & cfb::Setter_Organiser) out.push_back("organiser");
  return out.empty() ? "nobody (fixed)" : absl::StrJoin(out, ", ");
}

std::string ObligationsText(uint32_t bits) {
  std::vector<std::string> out;
  for (int i = 0; i < kObligationCount; ++i) {
    if (bits & (1u << i)) out.emplace_back(kObligationNames[i]);
  }
  return absl::StrJoin(out, ", ");
}

bool AdminMaySet(const cfb::Setting& s) {
  return !s.fixed() && (s.setters() & cfb::Setter_Admin) != 0;
}

std::string NamePart(absl::string_view id) {
  const size_t dot = id.find('.');
  return std::string(dot == absl::string_view::npos ? id : id.substr(dot + 1));
}

std::string ProductPrefix(absl::string_view id) { return std::string(id.substr(0, id.find('.'))); }

std::vector<std::string> ProductPrefixes(const cfb::Catalog& c) {
  std::vector<std::string> out;
  if (c.settings() == nullptr) return out;
  for (const cfb::Setting* s : *c.settings()) {
    std::string p = ProductPrefix(Str(s->id()));
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> BuiltinPurposeIds() {
  std::vector<std::string> out;
  for (const PurposeSpec& p : catalog::kPurposes) out.emplace_back(p.id);
  return out;
}

namespace {

// A Markdown table cell: no line breaks, pipes escaped.
std::string Cell(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"|", "\\|"}, {"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

std::string Code(absl::string_view s) { return s.empty() ? "" : absl::StrCat("`", s, "`"); }

void Row(std::string* out, const std::vector<std::string>& cells) {
  std::vector<std::string> escaped;
  for (const std::string& c : cells) escaped.push_back(Cell(c));
  absl::StrAppend(out, "| ", absl::StrJoin(escaped, " | "), " |\n");
}

void Header(std::string* out, const std::vector<std::string>& cells) {
  Row(out, cells);
  std::vector<std::string> dashes(cells.size(), "---");
  absl::StrAppend(out, "|", absl::StrJoin(dashes, "|"), "|\n");
}

std::string RegistryTypeText(const cfb::Setting& s, cfb::RegistryType t) {
  if (t != cfb::RegistryType_Auto) return cfb::EnumNameRegistryType(t);
  switch (s.type()) {
    case cfb::SettingType_Bool:
      return "DWord";
    case cfb::SettingType_Integer:
    case cfb::SettingType_Duration:
      return "DWord (QWord beyond 32 bits)";
    case cfb::SettingType_Flags:
      return "MultiString";
    default:
      return "String";
  }
}

std::string DefaultText(const cfb::Setting& s) {
  const std::string d = Str(s.default_());
  if (s.type() == cfb::SettingType_Flags && d.empty()) return "none";
  if (s.type() == cfb::SettingType_String && d.empty()) return "empty";
  return Code(d);
}

// A condition in the words of policy JSON's "when" (keys from the attribute table).
std::string ConditionText(const fb::Condition* c) {
  const std::string when = compiler::WhenJson(c);
  return when == "{}" ? "always" : Code(when);
}

// How a catalogue is presented: a product catalogue, or the built-in catalogue (no product
// table; five products told apart by id prefix; `seed` cites docs/requirements.md rules).
struct Style {
  bool builtin = false;
};

// A `seed` field ("R3.4, R3.5": rule numbers of docs/requirements.md) as Markdown links to
// the rules' anchors; the reference is written next to requirements.md (docs/settings.md).
std::string RequirementLinks(const flatbuffers::String* seed) {
  std::vector<std::string> links;
  for (absl::string_view id : absl::StrSplit(Str(seed), ',', absl::SkipWhitespace())) {
    id = absl::StripAsciiWhitespace(id);
    links.push_back(absl::StrCat("[", id, "](requirements.md#", id, ")"));
  }
  return absl::StrJoin(links, ", ");
}

// Appends the requirement column's header or cell in the built-in style.
void AddRequirementHeader(const Style& style, std::vector<std::string>* cells) {
  if (style.builtin) cells->push_back("requirement");
}
template <typename T>
void AddRequirement(const Style& style, const T& e, std::vector<std::string>* cells) {
  if (style.builtin) cells->push_back(RequirementLinks(e.seed()));
}

// Ranks ids in catalogue order; an id the catalogue does not define (a product's rule may
// name a built-in purpose) ranks after them, in order of first use.
class Ranks {
 public:
  template <typename T>
  explicit Ranks(const flatbuffers::Vector<flatbuffers::Offset<T>>* v) {
    if (v == nullptr) return;
    for (const T* e : *v) rank_.emplace(Str(e->id()), static_cast<int>(rank_.size()));
  }
  int Of(const std::string& id) {
    return rank_.emplace(id, static_cast<int>(rank_.size())).first->second;
  }

 private:
  std::map<std::string, int> rank_;
};

// The products of the built-in catalogue: the first segments of its setting and schedule
// ids, in order of first appearance.
void ProductsSection(const cfb::Catalog& c, std::string* out) {
  struct Product {
    std::string id;
    std::vector<int> settings;
    std::vector<std::string> schedules;
  };
  std::vector<Product> products;
  auto find = [&](absl::string_view id) -> Product& {
    const std::string prefix = ProductPrefix(id);
    for (Product& p : products) {
      if (p.id == prefix) return p;
    }
    products.push_back(Product{prefix, {}, {}});
    return products.back();
  };
  if (c.settings() != nullptr) {
    for (const cfb::Setting* s : *c.settings()) find(Str(s->id())).settings.push_back(s->num());
  }
  if (c.schedules() != nullptr) {
    for (const cfb::Schedule* s : *c.schedules()) {
      find(Str(s->id())).schedules.push_back(Code(Str(s->id())));
    }
  }
  absl::StrAppend(out, "## Products\n\n", "The built-in catalogue has no product table: it holds ",
                  products.size(),
                  " products, each the first segment of its setting and schedule ids. Data "
                  "classes and purposes are shared.\n\n");
  Header(out, {"product", "settings", "setting nums", "schedules"});
  for (const Product& p : products) {
    std::string nums;
    if (!p.settings.empty()) {
      const bool dense =
          p.settings.back() - p.settings.front() + 1 == static_cast<int>(p.settings.size());
      nums = dense ? absl::StrCat(p.settings.front(), "..", p.settings.back())
                   : absl::StrJoin(p.settings, ", ");
    }
    Row(out, {Code(p.id), absl::StrCat(p.settings.size()), nums, absl::StrJoin(p.schedules, ", ")});
  }
  absl::StrAppend(out, "\n");
}

void SettingsSection(const cfb::Catalog& c, const Style& style, std::string* out) {
  absl::StrAppend(out, "## Settings\n\n",
                  "Policy rules (`settings[]` of policy JSON) may set the settings an admin "
                  "may set; values are written in policy JSON as: Bool `true`/`false`; Enum "
                  "one of the allowed values as a string; Flags an array of allowed values; "
                  "Integer a JSON integer; Duration `\"30m\"`, `\"12h\"`, `\"7d\"`, `\"45s\"` "
                  "or integer seconds; String a string.\n\n");
  std::vector<std::string> header = {
      "id", "num", "type", "default", "allowed values", "who may set it", "scope", "description"};
  AddRequirementHeader(style, &header);
  Header(out, header);
  if (c.settings() == nullptr) return;
  for (const cfb::Setting* s : *c.settings()) {
    std::string desc = Str(s->description());
    if (s->deprecated()) desc = absl::StrCat("**Deprecated.** ", desc);
    if (s->at_account_creation()) absl::StrAppend(&desc, " Only when the account is created.");
    if (s->obligations_if_enabled() != 0) {
      absl::StrAppend(&desc, " When enabled: ", ObligationsText(s->obligations_if_enabled()), ".");
    }
    if (s->atomic_group()) absl::StrAppend(&desc, " Atomic group `", Str(s->atomic_group()), "`.");
    if (s->caveat()) absl::StrAppend(&desc, " Note: ", Str(s->caveat()), ".");
    if (s->source()) absl::StrAppend(&desc, " Source: ", Str(s->source()), ".");
    std::vector<std::string> values;
    for (const std::string& v : Values(*s)) values.push_back(Code(v));
    std::vector<std::string> cells = {Code(Str(s->id())),
                                      absl::StrCat(s->num()),
                                      cfb::EnumNameSettingType(s->type()),
                                      DefaultText(*s),
                                      absl::StrJoin(values, ", "),
                                      SettersText(s->setters()),
                                      cfb::EnumNameScope(s->scope()),
                                      desc};
    AddRequirement(style, *s, &cells);
    Row(out, cells);
  }
}

void NativeSection(const cfb::Catalog& c, std::string* out) {
  const cfb::Product* p = c.product();
  absl::StrAppend(out, "\n## Native names\n\n",
                  "Where the agent writes each setting in native policy stores (docs/catalogs.md, "
                  "\"Native mappings\"). Registry values live under `HKLM\\SOFTWARE\\Policies\\",
                  Str(p->vendor()), "\\", Str(p->display_name()),
                  "` (recommended values under its `Recommended` subkey); dconf keys are locked "
                  "for mandatory values.\n\n");
  Header(out, {"id", "registry value", "registry type", "dconf key", "managed JSON key"});
  for (const cfb::Setting* s : *c.settings()) {
    const cat::NativeNames n = cat::EffectiveNative(*s);
    Row(out, {Code(Str(s->id())), Code(n.registry_value), RegistryTypeText(*s, n.registry_type),
              Code(n.dconf_key), Code(n.managed_key)});
  }
}

void AttributesSection(const cfb::Catalog& c, std::string* out) {
  if (c.attributes() == nullptr || c.attributes()->size() == 0) return;
  absl::StrAppend(out, "\n## Context attributes\n\n");
  Header(out, {"name", "type", "values", "description"});
  for (const cfb::ContextAttribute* a : *c.attributes()) {
    std::string domain;
    if (a->type() == cfb::AttributeType_Enum && a->values()) {
      std::vector<std::string> v;
      for (const flatbuffers::String* s : *a->values()) v.push_back(Code(s->str()));
      domain = absl::StrJoin(v, ", ");
    } else if (a->type() == cfb::AttributeType_IntRange) {
      domain = absl::StrCat(a->min(), " to ", a->max());
    } else if (a->type() == cfb::AttributeType_Bool) {
      domain = "`true`, `false`";
    } else {
      domain = "a set of strings";
    }
    std::string desc = Str(a->description());
    if (a->source()) absl::StrAppend(&desc, " Source: ", Str(a->source()), ".");
    Row(out, {Code(Str(a->name())), cfb::EnumNameAttributeType(a->type()), domain, desc});
  }
}

template <typename T>
void SimpleSection(const char* title, const flatbuffers::Vector<flatbuffers::Offset<T>>* v,
                   const Style& style, std::string* out) {
  if (v == nullptr || v->size() == 0) return;
  constexpr bool kObligations = std::is_same_v<T, cfb::DataClass>;
  absl::StrAppend(out, "\n## ", title, "\n\n");
  std::vector<std::string> header = {"id", "num"};
  if (kObligations) header.push_back("always attached");
  header.push_back("description");
  AddRequirementHeader(style, &header);
  Header(out, header);
  for (const T* e : *v) {
    std::string desc = Str(e->description());
    if (e->source()) absl::StrAppend(&desc, " Source: ", Str(e->source()), ".");
    std::vector<std::string> cells = {Code(Str(e->id())), absl::StrCat(e->num())};
    if constexpr (kObligations) cells.push_back(ObligationsText(e->obligations()));
    cells.push_back(desc);
    AddRequirement(style, *e, &cells);
    Row(out, cells);
  }
}

void DefaultsSections(const cfb::Catalog& c, const Style& style, std::string* out) {
  if (c.data_use_defaults() && c.data_use_defaults()->size() > 0) {
    absl::StrAppend(out,
                    "\n## Built-in data-use rules\n\nCells without a rule are denied. Fixed "
                    "cells cannot be changed by any policy. Within a cell (data class, purpose) "
                    "the most specific matching rule wins; rules are listed by cell, most "
                    "specific first.\n\n");
    std::vector<std::string> header = {"data class",  "purpose", "effect", "when",
                                       "obligations", "fixed",   "note"};
    AddRequirementHeader(style, &header);
    Header(out, header);
    Ranks classes(c.data_classes()), purposes(c.purposes());
    struct Rule {
      int data_class, purpose, specificity;
      const cfb::DataUseDefault* d;
    };
    std::vector<Rule> rules;
    for (const cfb::DataUseDefault* d : *c.data_use_defaults()) {
      rules.push_back({classes.Of(Str(d->data_class())), purposes.Of(Str(d->purpose())),
                       Specificity(d->when()), d});
    }
    std::stable_sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) {
      if (a.data_class != b.data_class) return a.data_class < b.data_class;
      if (a.purpose != b.purpose) return a.purpose < b.purpose;
      return a.specificity > b.specificity;
    });
    for (const Rule& r : rules) {
      const cfb::DataUseDefault* d = r.d;
      std::vector<std::string> cells = {Code(Str(d->data_class())),
                                        Code(Str(d->purpose())),
                                        d->effect() == fb::Effect_Allow ? "allow" : "deny",
                                        ConditionText(d->when()),
                                        ObligationsText(d->obligations()),
                                        d->fixed() ? "yes" : "",
                                        Str(d->note())};
      AddRequirement(style, *d, &cells);
      Row(out, cells);
    }
  }
  if (c.schedule_defaults() && c.schedule_defaults()->size() > 0) {
    absl::StrAppend(out,
                    "\n## Built-in schedule intervals\n\nPer schedule, the most specific "
                    "matching rule wins; listed most specific first.\n\n");
    std::vector<std::string> header = {"schedule", "interval", "when", "note"};
    AddRequirementHeader(style, &header);
    Header(out, header);
    Ranks schedules(c.schedules());
    struct Rule {
      int schedule, specificity;
      const cfb::ScheduleDefault* d;
    };
    std::vector<Rule> rules;
    for (const cfb::ScheduleDefault* d : *c.schedule_defaults()) {
      rules.push_back({schedules.Of(Str(d->schedule())), Specificity(d->when()), d});
    }
    std::stable_sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) {
      if (a.schedule != b.schedule) return a.schedule < b.schedule;
      return a.specificity > b.specificity;
    });
    for (const Rule& r : rules) {
      std::vector<std::string> cells = {Code(Str(r.d->schedule())), Code(Str(r.d->interval())),
                                        ConditionText(r.d->when()), Str(r.d->note())};
      AddRequirement(style, *r.d, &cells);
      Row(out, cells);
    }
  }
  if (c.compliance_tags() && c.compliance_tags()->size() > 0) {
    absl::StrAppend(out, "\n## Compliance tags\n\n");
    Header(out, {"id", "forbids", "description"});
    for (const cfb::ComplianceTag* t : *c.compliance_tags()) {
      std::vector<std::string> forbids;
      if (t->forbids()) {
        for (const cfb::Forbid* f : *t->forbids()) {
          forbids.push_back(absl::StrCat(Code(Str(f->setting())), " = ", Code(Str(f->value()))));
        }
      }
      Row(out, {Code(Str(t->id())), absl::StrJoin(forbids, ", "), Str(t->description())});
    }
  }
}

// Everything after the title and introduction.
void Body(const cfb::Catalog& c, const Style& style, std::string* out) {
  if (style.builtin) ProductsSection(c, out);
  SettingsSection(c, style, out);
  if (!style.builtin) NativeSection(c, out);  // built-in settings use the agent's own names
  AttributesSection(c, out);
  SimpleSection("Data classes", c.data_classes(), style, out);
  SimpleSection("Purposes", c.purposes(), style, out);
  SimpleSection("Schedules", c.schedules(), style, out);
  DefaultsSections(c, style, out);
}

}  // namespace

absl::StatusOr<Outputs> Docs(const cat::CatalogView& view) {
  const cfb::Catalog& c = view.catalog();
  const cfb::Product* p = c.product();
  const std::string product(view.product_id());
  std::string out = absl::StrCat("# ", Str(p->display_name()), " settings reference\n\n");
  absl::StrAppend(&out, "Generated by `edictctl gen docs` from the catalogue of product `", product,
                  "` (", Str(p->display_name()), " by ", Str(p->vendor()), "), version ",
                  c.version(), ", ", cat::FormatHash(view.hash()),
                  ". Do not edit: change the catalogue source and regenerate.\n\n");
  Body(c, Style{}, &out);
  return Outputs{{product + ".md", std::move(out)}};
}

absl::string_view BuiltinCatalogBytes() {
  return absl::string_view(reinterpret_cast<const char*>(catalog::kBuiltinCatalogBytes),
                           catalog::kBuiltinCatalogSize);
}

absl::StatusOr<BuiltinCatalog> OpenBuiltin(absl::string_view bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0) {
    return absl::InvalidArgumentError("the built-in catalogue is not 8-byte aligned");
  }
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!cfb::VerifyCatalogBuffer(verifier)) {  // also checks the identifier, EDCT
    return absl::InvalidArgumentError("the built-in catalogue does not verify");
  }
  const cfb::Catalog* c = cfb::GetCatalog(data);
  if (c->product() != nullptr) {
    return absl::InvalidArgumentError(
        "the built-in catalogue has a product table (render it with --catalog)");
  }
  return BuiltinCatalog{c, cat::Fnv1a64(bytes)};
}

absl::StatusOr<Outputs> BuiltinDocs() { return BuiltinDocs(BuiltinCatalogBytes()); }

absl::StatusOr<Outputs> BuiltinDocs(absl::string_view bytes) {
  absl::StatusOr<BuiltinCatalog> builtin = OpenBuiltin(bytes);
  if (!builtin.ok()) return builtin.status();
  return BuiltinDocs(*builtin);
}

absl::StatusOr<Outputs> BuiltinDocs(const BuiltinCatalog& builtin) {
  const cfb::Catalog& c = *builtin.catalog;
  std::string out = "# edict built-in catalogue settings reference\n\n";
  absl::StrAppend(
      &out,
      "Generated by `edictctl gen docs --builtin` from the built-in catalogue "
      "(`policy/catalog/catalog.json`, embedded in the build as a binary catalogue), version ",
      c.version(),
      ". Requirement links are the rules of [requirements.md](requirements.md) each entry "
      "implements (its `seed`). Do not edit: a test fails when this file is stale; regenerate "
      "it with `cmake --build build --target update-docs`.\n\n");
  Body(c, Style{/*builtin=*/true}, &out);
  return Outputs{{"settings.md", std::move(out)}};
}

}  // namespace edict::ctl::gen
