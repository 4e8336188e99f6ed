// `edictctl gen admx` (Group Policy templates) and `edictctl gen gschema` (GSettings schemas
// for the dconf mapping) from a product catalogue; native names as catalog_validate.h
// EffectiveNative gives them (docs/catalogs.md, "Native mappings").
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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
};

void AddString(AdmxParts* p, const std::string& id, const std::string& text) {
  absl::StrAppend(&p->strings, "      <string id=\"", id, "\">", XmlEscape(text), "</string>\n");
}

void AdmxPolicy(const cfb::Setting& s, const std::string& key, const std::string& category,
                const std::string& supported, AdmxParts* p) {
  const cat::NativeNames n = cat::EffectiveNative(s);
  const std::string name = NamePart(Str(s.id()));
  const std::string value_name = XmlEscape(n.registry_value);
  const bool qword = IsQWord(s, n.registry_type);
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
  const std::string product_cat = product;
  const std::string supported = absl::StrCat("SUPPORTED_", product);
  const std::string revision = absl::StrCat(c.version(), ".0");
  AdmxParts parts;
  AddString(&parts, vendor_cat, vendor);
  AddString(&parts, product_cat, display);
  AddString(
      &parts, supported,
      absl::StrCat(display, " with an edict agent, catalogue version ", c.version(), " or later"));
  for (const cfb::Setting* s : *c.settings()) {
    if (AdminMaySet(*s)) AdmxPolicy(*s, key, product_cat, supported, &parts);
  }
  std::string admx = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
      "<!-- Generated by edictctl gen admx from catalogue ", product, " version ", c.version(),
      " (", cat::FormatHash(view.hash()), "). Do not edit. -->\n",
      "<policyDefinitions xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"",
      revision, "\" schemaVersion=\"1.0\" xmlns=\"", kPolicyNs, "\">\n",
      "  <policyNamespaces>\n    <target prefix=\"", product, "\" namespace=\"", vendor_cat,
      ".Policies.", product, "\" />\n  </policyNamespaces>\n",
      "  <resources minRequiredRevision=\"", revision, "\" />\n",
      "  <supportedOn>\n    <definitions>\n      <definition name=\"", supported,
      "\" displayName=\"$(string.", supported, ")\" />\n    </definitions>\n  </supportedOn>\n",
      "  <categories>\n    <category name=\"", vendor_cat, "\" displayName=\"$(string.", vendor_cat,
      ")\" />\n    <category name=\"", product_cat, "\" displayName=\"$(string.", product_cat,
      ")\">\n      <parentCategory ref=\"", vendor_cat, "\" />\n    </category>\n  </categories>\n",
      "  <policies>\n", parts.policies, "  </policies>\n</policyDefinitions>\n");
  std::string adml =
      absl::StrCat("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
                   "<!-- Generated by edictctl gen admx from catalogue ", product, " version ",
                   c.version(), ". Do not edit. -->\n",
                   "<policyDefinitionResources xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
                   "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"",
                   revision, "\" schemaVersion=\"1.0\" xmlns=\"", kPolicyNs, "\">\n",
                   "  <displayName>", XmlEscape(display), "</displayName>\n", "  <description>",
                   XmlEscape(absl::StrCat(display, " policy settings (", vendor, ")")),
                   "</description>\n  <resources>\n    <stringTable>\n", parts.strings,
                   "    </stringTable>\n    <presentationTable>\n", parts.presentations,
                   "    </presentationTable>\n  </resources>\n</policyDefinitionResources>\n");
  return Outputs{{product + ".admx", std::move(admx)},
                 {"en-US/" + product + ".adml", std::move(adml)}};
}

absl::StatusOr<Outputs> Gschema(const cat::CatalogView& view) {
  const cfb::Catalog& c = view.catalog();
  const std::string product(view.product_id());
  // One schema per dconf directory, in order of first use.
  std::vector<std::string> dirs;
  std::map<std::string, std::string> keys;  // dir -> <key> elements
  for (const cfb::Setting* s : *c.settings()) {
    const std::string full = cat::EffectiveNative(*s).dconf_key;
    const size_t slash = full.rfind('/');
    const std::string dir = full.substr(0, slash + 1);
    const std::string key = full.substr(slash + 1);
    if (slash == std::string::npos || slash == 0 || !IsGSettingsKey(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "setting ", Str(s->id()), ": dconf key \"", full,
          "\" is not /dir/.../key with a GSettings key name (lower-case letters, digits and "
          "single dashes, starting with a letter); give native.dconf_key in the catalogue"));
    }
    if (keys.find(dir) == keys.end()) dirs.push_back(dir);
    keys[dir] += GschemaKey(*s, key);
  }
  auto schema_id = [](const std::string& dir) {
    return absl::StrJoin(absl::StrSplit(dir.substr(1, dir.size() - 2), '/'), ".");
  };
  const std::string own_dir = absl::StrCat("/org/edict/", product, "/");
  const std::string file_id = keys.count(own_dir) ? schema_id(own_dir) : schema_id(dirs.front());
  std::string out = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
      "<!-- Generated by edictctl gen gschema from catalogue ", product, " version ", c.version(),
      " (", cat::FormatHash(view.hash()),
      "). The edict agent writes these keys into a dconf system database and locks the "
      "mandatory ones. Do not edit. -->\n<schemalist>\n");
  for (const std::string& dir : dirs) {
    absl::StrAppend(&out, "  <schema id=\"", XmlEscape(schema_id(dir)), "\" path=\"",
                    XmlEscape(dir), "\">\n", keys[dir], "  </schema>\n");
  }
  out += "</schemalist>\n";
  return Outputs{{file_id + ".gschema.xml", std::move(out)}};
}

}  // namespace edict::ctl::gen
