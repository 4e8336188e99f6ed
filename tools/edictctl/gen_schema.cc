// `edictctl gen json-schema`: a JSON Schema (draft 2020-12) of policy JSON
// (docs/policy-format.md) restricted to one product catalogue: its settings (ids an admin
// may set, each with its value type), data classes, purposes (its own and the built-in
// ones), schedules and compliance tags. Editors use it to validate and complete policy
// files; what it cannot say (conflicts between rules, values a compliance tag forbids) is
// left to `edictctl compile`.
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/catalog.h"
#include "tools/edictctl/gen_outputs.h"

namespace edict::ctl::gen {
namespace {

namespace cfb = catalog_fb;

// ---- Compact JSON fragments, pretty-printed at the end ----------------------------------

using Member = std::pair<std::string, std::string>;  // key, JSON text

std::string Obj(const std::vector<Member>& members) {
  std::vector<std::string> parts;
  for (const Member& m : members) parts.push_back(absl::StrCat(JsonString(m.first), ":", m.second));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Arr(const std::vector<std::string>& items) {
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

std::string Strings(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back(JsonString(s));
  return Arr(quoted);
}

// {"enum": [...]}, or a schema nothing satisfies when there is no value at all.
std::string EnumOf(const std::vector<std::string>& values, const std::string& description = "") {
  if (values.empty()) return "false";
  std::vector<Member> m;
  if (!description.empty()) m.push_back({"description", JsonString(description)});
  m.push_back({"enum", Strings(values)});
  return Obj(m);
}

std::string Ref(const std::string& def) { return Obj({{"$ref", JsonString("#/$defs/" + def)}}); }

// End of the string starting at text[i] == '"'; returns the index after the closing quote.
size_t SkipString(const std::string& text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return i;
}

// Two-space indentation; arrays of scalars that fit stay on one line.
std::string Pretty(const std::string& text) {
  std::string out;
  int depth = 0;
  auto newline = [&] { out += '\n' + std::string(2 * static_cast<size_t>(depth), ' '); };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const size_t end = SkipString(text, i);
      out.append(text, i, end - i);
      i = end - 1;
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      if (i + 1 < text.size() && text[i + 1] == close) {
        out += c;
        out += close;
        ++i;
        continue;
      }
      if (c == '[') {  // a flat array: print it on one line if short
        size_t j = i + 1;
        bool flat = true;
        while (j < text.size() && text[j] != ']') {
          if (text[j] == '"') {
            j = SkipString(text, j);
            continue;
          }
          if (text[j] == '{' || text[j] == '[') flat = false;
          ++j;
        }
        if (flat && j - i < 80) {
          for (size_t k = i; k <= j && k < text.size(); ++k) {
            if (text[k] == '"') {
              const size_t end = SkipString(text, k);
              out.append(text, k, end - k);
              k = end - 1;
            } else {
              out += text[k];
              if (text[k] == ',') out += ' ';
            }
          }
          i = j;
          continue;
        }
      }
      out += c;
      ++depth;
      newline();
    } else if (c == '}' || c == ']') {
      --depth;
      newline();
      out += c;
    } else if (c == ',') {
      out += ',';
      newline();
    } else if (c == ':') {
      out += ": ";
    } else {
      out += c;
    }
  }
  out += '\n';
  return out;
}

// ---- The schema -------------------------------------------------------------------------

constexpr char kDurationPattern[] = "^[0-9]{1,15}[dhms]$";
// Positive: at least one non-zero digit.
constexpr char kPositiveDurationPattern[] = "^(?=[0-9]{1,15}[dhms]$)0*[1-9][0-9]*[dhms]$";
constexpr char kTimePattern[] =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{"
    "2})$";

std::string NonEmptyStrings(bool allow_empty) {
  std::vector<Member> m = {{"type", "\"array\""},
                           {"items", Obj({{"type", "\"string\""}, {"minLength", "1"}})},
                           {"uniqueItems", "true"}};
  if (!allow_empty) m.push_back({"minItems", "1"});
  return Obj(m);
}

std::string SymbolSet(const std::vector<std::string>& names) {
  return Obj({{"type", "\"array\""},
              {"items", EnumOf(names)},
              {"minItems", "1"},
              {"uniqueItems", "true"}});
}

// One property of `when` per context attribute of the catalogue, in the policy JSON
// syntax (docs/policy-format.md): Bool true/false; Enum a value or a list of values;
// StringSet a string or a list; IntRange {"min", "max"} within the attribute's bounds.
std::string AttributeSchema(const cfb::ContextAttribute& a) {
  const std::string desc = JsonString(Str(a.description()));
  switch (a.type()) {
    case cfb::AttributeType_Bool:
      return Obj({{"description", desc}, {"type", "\"boolean\""}});
    case cfb::AttributeType_Enum: {
      std::vector<std::string> values;
      if (a.values()) {
        for (const flatbuffers::String* v : *a.values()) values.push_back(Str(v));
      }
      // A built-in identity term names one value (BuiltinTerm::Identity's encoding).
      if (a.term() == cfb::BuiltinTerm_Identity) {
        return Obj({{"description", desc}, {"anyOf", Arr({EnumOf(values)})}});
      }
      return Obj({{"description", desc}, {"anyOf", Arr({EnumOf(values), SymbolSet(values)})}});
    }
    case cfb::AttributeType_IntRange: {
      const std::string bound = Obj({{"type", "\"integer\""},
                                     {"minimum", absl::StrCat(a.min())},
                                     {"maximum", absl::StrCat(a.max())}});
      return Obj({{"description", desc},
                  {"type", "\"object\""},
                  {"additionalProperties", "false"},
                  {"minProperties", "1"},
                  {"properties", Obj({{"min", bound}, {"max", bound}})}});
    }
    default:
      return Obj({{"description", desc},
                  {"anyOf", Arr({Obj({{"type", "\"string\""}, {"minLength", "1"}}),
                                 NonEmptyStrings(false)})}});
  }
}

// The keys of `when` are the rows of the attribute table: the built-in catalogue's rows
// (identity, plan, groups, ...), then `c`'s own attributes.
std::string WhenSchema(const cfb::Catalog& c) {
  std::vector<Member> properties;
  auto add = [&](const cfb::Catalog& cat) {
    if (cat.attributes() == nullptr) return;
    for (const cfb::ContextAttribute* a : *cat.attributes()) {
      const std::string name = Str(a->name());
      if (std::none_of(properties.begin(), properties.end(),
                       [&](const Member& m) { return m.first == name; })) {
        properties.push_back({name, AttributeSchema(*a)});
      }
    }
  };
  const absl::string_view bytes = BuiltinCatalogBytes();
  add(*cfb::GetCatalog(bytes.data()));  // verified when embedded (gen_catalog)
  add(c);
  return Obj({
      {"description", JsonString("Conditions under which the rule applies (all must hold); "
                                 "an empty object is the same as none. Keys with a dot are "
                                 "the catalogue's context attributes.")},
      {"type", "\"object\""},
      {"additionalProperties", "false"},
      {"properties", Obj(properties)},
  });
}

// The JSON value syntax of a setting in policy JSON (docs/policy-format.md).
std::string ValueSchema(const cfb::Setting& s) {
  const std::string desc = JsonString(Str(s.description()));
  switch (s.type()) {
    case cfb::SettingType_Bool:
      return Obj({{"description", desc}, {"type", "\"boolean\""}});
    case cfb::SettingType_Integer:
      return Obj({{"description", desc}, {"type", "\"integer\""}});
    case cfb::SettingType_Duration:
      return Obj({{"description", desc}, {"$ref", JsonString("#/$defs/duration")}});
    case cfb::SettingType_String:
      return Obj({{"description", desc}, {"type", "\"string\""}});
    case cfb::SettingType_Enum:
      return Obj({{"description", desc}, {"type", "\"string\""}, {"enum", Strings(Values(s))}});
    case cfb::SettingType_Flags:
      return Obj({{"description", desc},
                  {"type", "\"array\""},
                  {"items", Obj({{"enum", Strings(Values(s))}})},
                  {"uniqueItems", "true"}});
  }
  return "true";
}

std::string SettingRule(const cfb::Catalog& c) {
  std::vector<std::string> ids;
  std::vector<std::string> per_setting;
  const auto* settings = c.settings();
  for (size_t i = 0; settings != nullptr && i < settings->size(); ++i) {
    const cfb::Setting* s = settings->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (!AdminMaySet(*s)) continue;  // the compiler refuses rules on those
    const std::string id = Str(s->id());
    ids.push_back(id);
    std::vector<Member> then = {{"properties", Obj({{"value", ValueSchema(*s)}})}};
    if (s->deprecated()) then.push_back({"deprecated", "true"});
    per_setting.push_back(
        Obj({{"if", Obj({{"properties", Obj({{"setting", Obj({{"const", JsonString(id)}})}})},
                         {"required", Strings({"setting"})}})},
             {"then", Obj(then)}}));
  }
  std::vector<Member> rule = {
      {"type", "\"object\""},
      {"required", Strings({"setting", "level", "value"})},
      {"additionalProperties", "false"},
      {"properties",
       Obj({{"setting", EnumOf(ids,
                               "Setting id (settings only the user or organiser may set, "
                               "and fixed ones, cannot be set by policy).")},
            {"level", EnumOf({"mandatory", "recommended"})},
            {"value", "true"},
            {"when", Ref("when")},
            {"critical", Obj({{"type", "\"boolean\""}})},
            {"note", Obj({{"type", "\"string\""}})}})}};
  if (!per_setting.empty()) rule.push_back({"allOf", Arr(per_setting)});
  return Obj(rule);
}

std::string DataUseRule(const cfb::Catalog& c) {
  std::vector<std::string> classes, purposes;
  if (c.data_classes()) {
    for (const cfb::DataClass* d : *c.data_classes()) classes.push_back(Str(d->id()));
  }
  if (c.purposes()) {
    for (const cfb::Purpose* p : *c.purposes()) purposes.push_back(Str(p->id()));
  }
  // The built-in ones, unless the catalogue is the built-in one (which defines them).
  for (const std::string& p : BuiltinPurposeIds()) {
    if (std::find(purposes.begin(), purposes.end(), p) == purposes.end()) purposes.push_back(p);
  }
  std::vector<std::string> obligations;
  for (int i = 0; i < kObligationCount; ++i) obligations.emplace_back(kObligationNames[i]);
  // Cells a built-in rule fixes: no policy rule may name them.
  std::vector<std::string> fixed;
  if (c.data_use_defaults()) {
    for (const cfb::DataUseDefault* d : *c.data_use_defaults()) {
      if (!d->fixed()) continue;
      fixed.push_back(
          Obj({{"not", Obj({{"properties",
                             Obj({{"class", Obj({{"const", JsonString(Str(d->data_class()))}})},
                                  {"purpose", Obj({{"const", JsonString(Str(d->purpose()))}})}})},
                            {"required", Strings({"class", "purpose"})}})}}));
    }
  }
  std::vector<Member> rule = {
      {"type", "\"object\""},
      {"required", Strings({"class", "purpose", "effect"})},
      {"additionalProperties", "false"},
      {"properties",
       Obj({{"class", EnumOf(classes)},
            {"purpose", EnumOf(purposes)},
            {"effect", EnumOf({"allow", "deny"})},
            {"obligations",
             Obj({{"type", "\"array\""}, {"items", EnumOf(obligations)}, {"uniqueItems", "true"}})},
            {"when", Ref("when")},
            {"critical", Obj({{"type", "\"boolean\""}})},
            {"note", Obj({{"type", "\"string\""}})}})}};
  if (!fixed.empty()) rule.push_back({"allOf", Arr(fixed)});
  return Obj(rule);
}

std::string ScheduleRule(const cfb::Catalog& c) {
  std::vector<std::string> ids;
  if (c.schedules()) {
    for (const cfb::Schedule* s : *c.schedules()) ids.push_back(Str(s->id()));
  }
  return Obj(
      {{"type", "\"object\""},
       {"required", Strings({"schedule", "interval"})},
       {"additionalProperties", "false"},
       {"properties",
        Obj({{"schedule", EnumOf(ids)},
             {"interval",
              Obj({{"anyOf", Arr({Obj({{"type", "\"integer\""}, {"minimum", "1"}}),
                                  Obj({{"type", "\"string\""},
                                       {"pattern", JsonString(kPositiveDurationPattern)}})})}})},
             {"when", Ref("when")},
             {"critical", Obj({{"type", "\"boolean\""}})},
             {"note", Obj({{"type", "\"string\""}})}})}});
}

// The schema of policy JSON using catalogue `c`, with its title and description.
std::string SchemaOf(const cfb::Catalog& c, const std::string& title,
                     const std::string& description) {
  std::vector<std::string> tags;
  if (c.compliance_tags()) {
    for (const cfb::ComplianceTag* t : *c.compliance_tags()) tags.push_back(Str(t->id()));
  }
  const std::string time = Obj(
      {{"type", "\"string\""}, {"format", "\"date-time\""}, {"pattern", JsonString(kTimePattern)}});
  const std::string schema = Obj({
      {"$schema", "\"https://json-schema.org/draft/2020-12/schema\""},
      {"title", JsonString(title)},
      {"description", JsonString(description)},
      {"type", "\"object\""},
      {"required", Strings({"serial"})},
      {"additionalProperties", "false"},
      {"properties",
       Obj({{"format", Obj({{"const", "1"}})},
            {"serial",
             Obj({{"type", "\"integer\""}, {"minimum", "1"}, {"maximum", "9223372036854775807"}})},
            {"issued_at", Ref("time")},
            {"expires_at", Ref("time")},
            {"description", Obj({{"type", "\"string\""}})},
            {"target", Obj({{"type", "\"object\""},
                            {"additionalProperties", "false"},
                            {"properties", Obj({{"tenant", Obj({{"type", "\"string\""}})},
                                                {"devices", NonEmptyStrings(true)},
                                                {"groups", NonEmptyStrings(true)}})}})},
            {"compliance",
             Obj({{"type", "\"array\""}, {"items", EnumOf(tags)}, {"uniqueItems", "true"}})},
            {"settings", Obj({{"type", "\"array\""}, {"items", Ref("setting_rule")}})},
            {"data_use", Obj({{"type", "\"array\""}, {"items", Ref("data_use_rule")}})},
            {"schedules", Obj({{"type", "\"array\""}, {"items", Ref("schedule_rule")}})}})},
      {"$defs",
       Obj({{"time", time},
            {"duration", Obj({{"anyOf", Arr({Obj({{"type", "\"integer\""}, {"minimum", "0"}}),
                                             Obj({{"type", "\"string\""},
                                                  {"pattern", JsonString(kDurationPattern)}})})}})},
            {"when", WhenSchema(c)},
            {"setting_rule", SettingRule(c)},
            {"data_use_rule", DataUseRule(c)},
            {"schedule_rule", ScheduleRule(c)}})},
  });
  return Pretty(schema);
}

}  // namespace

absl::StatusOr<Outputs> JsonSchema(const catalogs::CatalogView& view) {
  const cfb::Catalog& c = view.catalog();
  const std::string product(view.product_id());
  std::string schema = SchemaOf(
      c, absl::StrCat("edict policy for ", Str(c.product()->display_name())),
      absl::StrCat("Policy JSON (docs/policy-format.md) using the settings of catalogue ", product,
                   " version ", c.version(), " (", catalogs::FormatHash(view.hash()),
                   "). Generated by edictctl gen json-schema; edictctl compile "
                   "checks what a schema cannot (conflicts, compliance tags)."));
  return Outputs{{product + ".policy.schema.json", std::move(schema)}};
}

absl::StatusOr<Outputs> BuiltinJsonSchema(const BuiltinCatalog& builtin) {
  const cfb::Catalog& c = *builtin.catalog;
  std::string schema = SchemaOf(
      c, "edict policy for the built-in catalogue",
      absl::StrCat("Policy JSON (docs/policy-format.md) using the settings of the built-in "
                   "catalogue (products ",
                   absl::StrJoin(ProductPrefixes(c), ", "), ") version ", c.version(), " (",
                   catalogs::FormatHash(builtin.hash),
                   "). Generated by edictctl gen json-schema --builtin; edictctl compile "
                   "checks what a schema cannot (conflicts, compliance tags)."));
  return Outputs{{"edict.policy.schema.json", std::move(schema)}};
}

}  // namespace edict::ctl::gen
