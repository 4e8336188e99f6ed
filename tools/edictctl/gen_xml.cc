// `edictctl gen admx` (Group Policy templates) and `edictctl gen gschema` (GSettings schemas
// for the dconf mapping) from a product catalogue, native names as catalog_validate.h
// EffectiveNative gives them (docs/catalogs.md, "Native mappings"); or from the built-in
// catalogue, with the names the agent gives built-in settings in its registry and dconf
// stores (gen_outputs.h BuiltinAdmx, BuiltinGschema).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_validate.h"
#include "tools/edictctl/gen_outputs.h"

namespace edict::ctl::gen {
namespace {

namespace cfb = catalog_fb;
namespace cat = catalogs;

constexpr char kPolicyNs[] = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions";

// Letters and digits only ("Acme Networks" -> "AcmeNetworks"), for ADMX names.
std::string Identifier(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) out += c;
  }
  return out.empty() ? "edict" : out;
}

// As ports/windows/registry_store.h accepts vendor and product names.
bool IsRegistryName(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' || c == '.' ||
          c == '-'))
      return false;
  }
  return true;
}

std::string FirstSentence(const std::string& s) {
  const size_t end = s.find(". ");
  std::string out = end == std::string::npos ? s : s.substr(0, end + 1);
  if (out.size() > 200) out = out.substr(0, 197) + "...";
  return out;
}

// Default of an Integer or Duration setting in seconds / as a number (0 if unparsable, which
// a verified catalogue never is).
int64_t NumericDefault(const cfb::Setting& s) {
  int64_t v = 0;
  if (!cat::ParseSettingValue(s, Str(s.default_()), &v)) return 0;
  return v;
}

bool IsQWord(const cfb::Setting& s, cfb::RegistryType t) {
  if (t == cfb::RegistryType_QWord) return true;
  if (t != cfb::RegistryType_Auto || s.type() == cfb::SettingType_Bool) return false;
  const int64_t d = NumericDefault(s);
  return d < 0 || d > int64_t{0xffffffff};
}

std::string ExplainText(const cfb::Setting& s) {
  std::string out = Str(s.description());
  if (s.caveat()) absl::StrAppend(&out, "\n\nNote: ", Str(s.caveat()), ".");
  const std::vector<std::string> values = Values(s);
  if (s.type() == cfb::SettingType_Enum) {
    absl::StrAppend(&out, "\n\nAllowed values: ", absl::StrJoin(values, ", "), ".");
  } else if (s.type() == cfb::SettingType_Flags) {
    absl::StrAppend(&out, "\n\nOne value per line, each of: ", absl::StrJoin(values, ", "), ".");
  } else if (s.type() == cfb::SettingType_Duration) {
    absl::StrAppend(&out, "\n\nIn seconds.");
  }
  const std::string d = Str(s.default_());
  absl::StrAppend(&out, "\n\nDefault: ", d.empty() ? "(none)" : d, ".");
  absl::StrAppend(&out, "\n\nedict setting ", Str(s.id()),
                  "; also set by: ", SettersText(s.setters()), ".");
  if (s.deprecated()) absl::StrAppend(&out, "\n\nDeprecated: it will be removed.");
  return out;
}

struct AdmxParts {
  std::string policies;       // <policy> elements
  std::string strings;        // <string> elements of the ADML
  std::string presentations;  // <presentation> elements of the ADML
  std::set<std::string> string_ids;
  std::string duplicate;  // the first string id defined twice, if any
};

void AddString(AdmxParts* p, const std::string& id, const std::string& text) {
  if (!p->string_ids.insert(id).second && p->duplicate.empty()) p->duplicate = id;
  absl::StrAppend(&p->strings, "      <string id=\"", id, "\">", XmlEscape(text), "</string>\n");
}

// One <policy>: `name` is its ADMX name (and the prefix of its string ids); the value
// `registry_value` of type `registry_type` under `key`.
void AdmxPolicy(const cfb::Setting& s, const std::string& name, const std::string& registry_value,
                cfb::RegistryType registry_type, const std::string& key,
                const std::string& category, const std::string& supported, AdmxParts* p) {
  const std::string value_name = XmlEscape(registry_value);
  const bool qword = IsQWord(s, registry_type);
  const bool has_elements = s.type() != cfb::SettingType_Bool;
  AddString(
      p, name,
      absl::StrCat(s.deprecated() ? "(Deprecated) " : "", FirstSentence(Str(s.description()))));
  AddString(p, name + "_help", ExplainText(s));
  absl::StrAppend(&p->policies, "    <policy name=\"", name,
                  "\" class=\"Machine\" displayName=\"$(string.", name,
                  ")\" explainText=\"$(string.", name, "_help)\"",
                  has_elements ? absl::StrCat(" presentation=\"$(presentation.", name, ")\"") : "",
                  " key=\"", XmlEscape(key), "\"",
                  has_elements ? "" : absl::StrCat(" valueName=\"", value_name, "\""), ">\n");
  absl::StrAppend(&p->policies, "      <parentCategory ref=\"", category, "\" />\n",
                  "      <supportedOn ref=\"", supported, "\" />\n");
  const std::string label = absl::StrCat(Str(s.id()), ":");
  const std::string d = Str(s.default_());
  std::string presentation;
  switch (s.type()) {
    case cfb::SettingType_Bool: {
      const char* tag = qword ? "longDecimal" : "decimal";
      absl::StrAppend(&p->policies, "      <enabledValue><", tag,
                      " value=\"1\" /></enabledValue>\n", "      <disabledValue><", tag,
                      " value=\"0\" /></disabledValue>\n");
      break;
    }
    case cfb::SettingType_Enum: {
      const std::vector<std::string> values = Values(s);
      absl::StrAppend(&p->policies, "      <elements>\n        <enum id=\"", name,
                      "\" valueName=\"", value_name, "\" required=\"true\">\n");
      size_t default_index = 0;
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] == d) default_index = i;
        const std::string sid = absl::StrCat(name, "_v", i);
        AddString(p, sid, values[i]);
        absl::StrAppend(&p->policies, "          <item displayName=\"$(string.", sid,
                        ")\"><value><string>", XmlEscape(values[i]), "</string></value></item>\n");
      }
      absl::StrAppend(&p->policies, "        </enum>\n      </elements>\n");
      presentation =
          absl::StrCat("<dropdownList refId=\"", name, "\" noSort=\"true\" defaultItem=\"",
                       default_index, "\">", XmlEscape(label), "</dropdownList>");
      break;
    }
    case cfb::SettingType_Integer:
    case cfb::SettingType_Duration: {
      const int64_t def = NumericDefault(s);
      if (qword) {
        absl::StrAppend(&p->policies, "      <elements>\n        <longDecimal id=\"", name,
                        "\" valueName=\"", value_name,
                        "\" required=\"true\" minValue=\"0\" maxValue=\"18446744073709551615\" />\n"
                        "      </elements>\n");
        presentation = absl::StrCat("<longDecimalTextBox refId=\"", name, "\"",
                                    def >= 0 ? absl::StrCat(" defaultValue=\"", def, "\"") : "",
                                    ">", XmlEscape(label), "</longDecimalTextBox>");
      } else {
        absl::StrAppend(&p->policies, "      <elements>\n        <decimal id=\"", name,
                        "\" valueName=\"", value_name,
                        "\" required=\"true\" minValue=\"0\" maxValue=\"4294967295\" />\n"
                        "      </elements>\n");
        presentation = absl::StrCat("<decimalTextBox refId=\"", name, "\" defaultValue=\"", def,
                                    "\">", XmlEscape(label), "</decimalTextBox>");
      }
      break;
    }
    case cfb::SettingType_String:
      absl::StrAppend(&p->policies, "      <elements>\n        <text id=\"", name,
                      "\" valueName=\"", value_name, "\" />\n      </elements>\n");
      presentation = absl::StrCat(
          "<textBox refId=\"", name, "\"><label>", XmlEscape(label), "</label>",
          d.empty() ? "" : absl::StrCat("<defaultValue>", XmlEscape(d), "</defaultValue>"),
          "</textBox>");
      break;
    case cfb::SettingType_Flags:
      absl::StrAppend(&p->policies, "      <elements>\n        <multiText id=\"", name,
                      "\" valueName=\"", value_name, "\" />\n      </elements>\n");
      presentation =
          absl::StrCat("<multiTextBox refId=\"", name, "\">", XmlEscape(label), "</multiTextBox>");
      break;
  }
  absl::StrAppend(&p->policies, "    </policy>\n");
  if (!presentation.empty()) {
    absl::StrAppend(&p->presentations, "      <presentation id=\"", name, "\">\n        ",
                    presentation, "\n      </presentation>\n");
  }
}

// GVariant text of a string: single quotes, \\ and \' escaped.
std::string GVariantString(absl::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += "'";
  return out;
}

bool IsGSettingsKey(absl::string_view name) {
  if (name.empty() || name.size() > 1024 || name[0] < 'a' || name[0] > 'z' || name.back() == '-' ||
      name.find("--") != absl::string_view::npos)
    return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// One <key> of a gschema: type and default as the agent writes dconf values
// (ports/linux/dconf_store.cc GVariantText: bool, int32 when it fits, string, string array).
std::string GschemaKey(const cfb::Setting& s, const std::string& key) {
  std::string type, def, choices;
  const std::string d = Str(s.default_());
  switch (s.type()) {
    case cfb::SettingType_Bool:
      type = "b";
      def = d == "true" ? "true" : "false";
      break;
    case cfb::SettingType_Integer:
    case cfb::SettingType_Duration: {
      const int64_t v = NumericDefault(s);
      const bool fits =
          v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
      type = fits ? "i" : "x";
      def = absl::StrCat(v);
      break;
    }
    case cfb::SettingType_String:
      type = "s";
      def = GVariantString(d);
      break;
    case cfb::SettingType_Enum:
    case cfb::SettingType_Flags: {
      for (const std::string& v : Values(s))
        absl::StrAppend(&choices, "        <choice value=\"", XmlEscape(v), "\"/>\n");
      if (s.type() == cfb::SettingType_Enum) {
        type = "s";
        def = GVariantString(d);
      } else {
        type = "as";
        std::vector<std::string> items;
        if (!d.empty()) {
          for (absl::string_view v : absl::StrSplit(d, '|')) items.push_back(GVariantString(v));
        }
        def = absl::StrCat("[", absl::StrJoin(items, ", "), "]");
      }
      break;
    }
  }
  std::string out = absl::StrCat("    <key name=\"", key, "\" type=\"", type, "\">\n");
  if (!choices.empty()) absl::StrAppend(&out, "      <choices>\n", choices, "      </choices>\n");
  absl::StrAppend(&out, "      <default>", XmlEscape(def), "</default>\n");
  absl::StrAppend(&out, "      <summary>", XmlEscape(FirstSentence(Str(s.description()))),
                  "</summary>\n");
  std::string desc = Str(s.description());
  if (s.caveat()) absl::StrAppend(&desc, " Note: ", Str(s.caveat()), ".");
  if (s.type() == cfb::SettingType_Duration) absl::StrAppend(&desc, " In seconds.");
  absl::StrAppend(&desc, " edict setting ", Str(s.id()), " (set by: ", SettersText(s.setters()),
                  s.deprecated() ? "; deprecated" : "", ").");
  absl::StrAppend(&out, "      <description>", XmlEscape(desc), "</description>\n    </key>\n");
  return out;
}

// What one ADMX/ADML pair declares besides its policies.
struct AdmxDoc {
  std::string file;    // base name: <file>.admx, en-US/<file>.adml
  std::string source;  // "catalogue acmevpn version 3 (fnv1a64:...)", for the comments
  std::string prefix;  // target prefix
  std::string ns;      // target namespace
  std::string revision;
  std::string supported;  // supportedOn definition name (its string is added by the caller)
  std::string display;    // ADML displayName
  std::string description;
  std::vector<std::pair<std::string, std::string>> categories;  // name, parent ("" for none)
};

absl::StatusOr<Outputs> AdmxFiles(const AdmxDoc& d, const AdmxParts& parts) {
  if (!parts.duplicate.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("two ADML strings would have the id \"", parts.duplicate, "\""));
  }
  std::string categories;
  for (const auto& [name, parent] : d.categories) {
    absl::StrAppend(&categories, "    <category name=\"", name, "\" displayName=\"$(string.", name,
                    ")\"");
    if (parent.empty()) {
      absl::StrAppend(&categories, " />\n");
    } else {
      absl::StrAppend(&categories, ">\n      <parentCategory ref=\"", parent,
                      "\" />\n    </category>\n");
    }
  }
  std::string admx = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", "<!-- Generated by edictctl gen admx from ",
      d.source, ". Do not edit. -->\n",
      "<policyDefinitions xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"",
      d.revision, "\" schemaVersion=\"1.0\" xmlns=\"", kPolicyNs, "\">\n",
      "  <policyNamespaces>\n    <target prefix=\"", d.prefix, "\" namespace=\"", d.ns,
      "\" />\n  </policyNamespaces>\n", "  <resources minRequiredRevision=\"", d.revision,
      "\" />\n", "  <supportedOn>\n    <definitions>\n      <definition name=\"", d.supported,
      "\" displayName=\"$(string.", d.supported, ")\" />\n    </definitions>\n  </supportedOn>\n",
      "  <categories>\n", categories, "  </categories>\n", "  <policies>\n", parts.policies,
      "  </policies>\n</policyDefinitions>\n");
  std::string adml = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", "<!-- Generated by edictctl gen admx from ",
      d.source, ". Do not edit. -->\n",
      "<policyDefinitionResources xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"",
      d.revision, "\" schemaVersion=\"1.0\" xmlns=\"", kPolicyNs, "\">\n", "  <displayName>",
      XmlEscape(d.display), "</displayName>\n", "  <description>", XmlEscape(d.description),
      "</description>\n  <resources>\n    <stringTable>\n", parts.strings,
      "    </stringTable>\n    <presentationTable>\n", parts.presentations,
      "    </presentationTable>\n  </resources>\n</policyDefinitionResources>\n");
  return Outputs{{d.file + ".admx", std::move(admx)},
                 {"en-US/" + d.file + ".adml", std::move(adml)}};
}

}  // namespace

absl::StatusOr<Outputs> Admx(const cat::CatalogView& view) {
  const cfb::Catalog& c = view.catalog();
  const cfb::Product* prod = c.product();
  const std::string product(view.product_id());
  const std::string vendor = Str(prod->vendor());
  const std::string display = Str(prod->display_name());
  if (!IsRegistryName(vendor) || !IsRegistryName(display)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the registry key Software\\Policies\\", vendor, "\\", display,
        " needs a vendor and display name of letters, digits, spaces, '_', '.' and '-' only "
        "(as the agent's registry store accepts)"));
  }
  const std::string key = absl::StrCat("Software\\Policies\\", vendor, "\\", display);
  const std::string vendor_cat = Identifier(vendor);
  AdmxDoc doc;
  doc.file = product;
  doc.source = absl::StrCat("catalogue ", product, " version ", c.version(), " (",
                            cat::FormatHash(view.hash()), ")");
  doc.prefix = product;
  doc.ns = absl::StrCat(vendor_cat, ".Policies.", product);
  doc.revision = absl::StrCat(c.version(), ".0");
  doc.supported = absl::StrCat("SUPPORTED_", product);
  doc.display = display;
  doc.description = absl::StrCat(display, " policy settings (", vendor, ")");
  doc.categories = {{vendor_cat, ""}, {product, vendor_cat}};
  AdmxParts parts;
  AddString(&parts, vendor_cat, vendor);
  AddString(&parts, product, display);
  AddString(
      &parts, doc.supported,
      absl::StrCat(display, " with an edict agent, catalogue version ", c.version(), " or later"));
  for (const cfb::Setting* s : *c.settings()) {
    if (!AdminMaySet(*s)) continue;
    const cat::NativeNames n = cat::EffectiveNative(*s);
    AdmxPolicy(*s, NamePart(Str(s->id())), n.registry_value, n.registry_type, key, product,
               doc.supported, &parts);
  }
  return AdmxFiles(doc, parts);
}

absl::StatusOr<Outputs> BuiltinAdmx(const BuiltinCatalog& builtin) {
  const cfb::Catalog& c = *builtin.catalog;
  // The agent's registry store writes built-in settings under <vendor>\<product> of its
  // configuration (registry_vendor, registry_product: "edict" by default), each value named
  // by the setting id and typed by its value (ports/windows/registry_store.h).
  constexpr char kName[] = "edict";
  const std::string key = absl::StrCat("Software\\Policies\\", kName, "\\", kName);
  AdmxDoc doc;
  doc.file = kName;
  doc.source = absl::StrCat("the built-in catalogue version ", c.version(), " (",
                            cat::FormatHash(builtin.hash), ")");
  doc.prefix = kName;
  doc.ns = absl::StrCat(kName, ".Policies.", kName);
  doc.revision = absl::StrCat(c.version(), ".0");
  doc.supported = "SUPPORTED_edict";
  doc.display = "edict";
  AdmxParts parts;
  doc.categories.push_back({kName, ""});
  AddString(&parts, kName, "edict");
  AddString(
      &parts, doc.supported,
      absl::StrCat("An edict agent with built-in catalogue version ", c.version(), " or later"));
  const std::vector<std::string> products = ProductPrefixes(c);
  doc.description = absl::StrCat("edict built-in settings (", absl::StrJoin(products, ", "), ")");
  for (const std::string& p : products) {
    // A category per product: its name prefixed so that no policy name can equal it.
    const std::string category = absl::StrCat("product_", p);
    doc.categories.push_back({category, kName});
    AddString(&parts, category, p);
  }
  if (c.settings() != nullptr) {
    for (const cfb::Setting* s : *c.settings()) {
      if (!AdminMaySet(*s)) continue;
      const std::string id = Str(s->id());
      std::string name = id;  // "groove.directory.public" -> "groove_directory_public"
      std::replace(name.begin(), name.end(), '.', '_');
      AdmxPolicy(*s, name, id, cfb::RegistryType_Auto, key,
                 absl::StrCat("product_", ProductPrefix(id)), doc.supported, &parts);
    }
  }
  return AdmxFiles(doc, parts);
}

namespace {

// The schemas of settings `settings` at dconf keys `paths` ("/dir/.../key"), one per dconf
// directory in order of first use, in one file: `file_id`.gschema.xml, or if that is empty
// named after the schema of `main_dir` if it has one, else of the first directory. `source`
// names the catalogue in the comment; `hint` ends the message about a key that is no
// GSettings key.
absl::StatusOr<Outputs> GschemaFile(const std::vector<const cfb::Setting*>& settings,
                                    const std::vector<std::string>& paths,
                                    const std::string& main_dir, const std::string& file_id,
                                    const std::string& source, const std::string& hint) {
  std::set<std::string> seen;
  std::vector<std::string> dirs;
  std::map<std::string, std::string> keys;  // dir -> <key> elements
  for (size_t i = 0; i < settings.size(); ++i) {
    const std::string& full = paths[i];
    const size_t slash = full.rfind('/');
    const std::string dir = full.substr(0, slash + 1);
    const std::string key = full.substr(slash + 1);
    if (slash == std::string::npos || slash == 0 || full[0] != '/' || !IsGSettingsKey(key) ||
        absl::StrContains(dir, "//")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "setting ", Str(settings[i]->id()), ": dconf key \"", full,
          "\" is not /dir/.../key with a GSettings key name (lower-case letters, digits and "
          "single dashes, starting with a letter)",
          hint));
    }
    if (!seen.insert(full).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting ", Str(settings[i]->id()), ": dconf key ", full, " is taken"));
    }
    if (keys.find(dir) == keys.end()) dirs.push_back(dir);
    keys[dir] += GschemaKey(*settings[i], key);
  }
  if (dirs.empty()) return absl::InvalidArgumentError("the catalogue has no settings");
  auto schema_id = [](const std::string& dir) {
    return absl::StrJoin(absl::StrSplit(dir.substr(1, dir.size() - 2), '/'), ".");
  };
  const std::string file = !file_id.empty()       ? file_id
                           : keys.count(main_dir) ? schema_id(main_dir)
                                                  : schema_id(dirs.front());
  std::string out =
      absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                   "<!-- Generated by edictctl gen gschema from ", source,
                   ". The edict agent writes these keys into a dconf system database and locks the "
                   "mandatory ones. Do not edit. -->\n<schemalist>\n");
  for (const std::string& dir : dirs) {
    absl::StrAppend(&out, "  <schema id=\"", XmlEscape(schema_id(dir)), "\" path=\"",
                    XmlEscape(dir), "\">\n", keys[dir], "  </schema>\n");
  }
  out += "</schemalist>\n";
  return Outputs{{file + ".gschema.xml", std::move(out)}};
}

}  // namespace

absl::StatusOr<Outputs> Gschema(const cat::CatalogView& view) {
  const cfb::Catalog& c = view.catalog();
  const std::string product(view.product_id());
  std::vector<const cfb::Setting*> settings;
  std::vector<std::string> paths;
  for (const cfb::Setting* s : *c.settings()) {
    settings.push_back(s);
    paths.push_back(cat::EffectiveNative(*s).dconf_key);
  }
  return GschemaFile(settings, paths, absl::StrCat("/org/edict/", product, "/"), "",
                     absl::StrCat("catalogue ", product, " version ", c.version(), " (",
                                  cat::FormatHash(view.hash()), ")"),
                     "; give native.dconf_key in the catalogue");
}

absl::StatusOr<Outputs> BuiltinGschema(const BuiltinCatalog& builtin) {
  const cfb::Catalog& c = *builtin.catalog;
  // As the agent's dconf store writes built-in settings (transport/native_entries.cc with
  // NativeKeyStyle::kGSettings, ports/linux/dconf_store.h): '_' becomes '-' in the id, whose
  // last segment is the key, in the directory of the other segments below the path prefix
  // (the agent's dconf_path_prefix, "/org/edict/" by default).
  constexpr char kPathPrefix[] = "/org/edict/";
  std::vector<const cfb::Setting*> settings;
  std::vector<std::string> paths;
  if (c.settings() != nullptr) {
    for (const cfb::Setting* s : *c.settings()) {
      std::string id = Str(s->id());
      std::replace(id.begin(), id.end(), '_', '-');
      const size_t dot = id.rfind('.');
      std::string dir = kPathPrefix;
      if (dot != std::string::npos) {
        absl::StrAppend(&dir, absl::StrReplaceAll(id.substr(0, dot), {{".", "/"}}), "/");
      }
      settings.push_back(s);
      paths.push_back(absl::StrCat(dir, id.substr(dot == std::string::npos ? 0 : dot + 1)));
    }
  }
  // One file for the five products: org.edict.gschema.xml (org.edict.communicator, ...).
  return GschemaFile(settings, paths, kPathPrefix, "org.edict",
                     absl::StrCat("the built-in catalogue version ", c.version(), " (",
                                  cat::FormatHash(builtin.hash), ")"),
                     " as the agent derives it from the setting id");
}

}  // namespace edict::ctl::gen
