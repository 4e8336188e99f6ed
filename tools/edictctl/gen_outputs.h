// Generators of `edictctl gen` (cmd_gen.cc): files derived from a verified product
// catalogue (docs/catalogs.md) or the built-in catalogue. Each returns the files to write,
// with paths relative to the output directory, or an error saying why the catalogue cannot be
// rendered in that form. Pure functions: no I/O.
#ifndef EDICT_TOOLS_EDICTCTL_GEN_OUTPUTS_H_
#define EDICT_TOOLS_EDICTCTL_GEN_OUTPUTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "policy/catalog/catalog_file.h"

namespace edict::ctl::gen {

struct OutputFile {
  std::string path;  // relative to the output directory, '/' separated
  std::string content;
};
using Outputs = std::vector<OutputFile>;

// <product>.md: Markdown reference (gen_docs.cc).
absl::StatusOr<Outputs> Docs(const catalogs::CatalogView& view);
// <product>.policy.schema.json: JSON Schema (draft 2020-12) of policy JSON using this
// catalogue's settings (gen_schema.cc).
absl::StatusOr<Outputs> JsonSchema(const catalogs::CatalogView& view);
// <product>.admx and en-US/<product>.adml (gen_xml.cc).
absl::StatusOr<Outputs> Admx(const catalogs::CatalogView& view);
// <schema id>.gschema.xml: GSettings schemas of the dconf mapping (gen_xml.cc).
absl::StatusOr<Outputs> Gschema(const catalogs::CatalogView& view);

// ---- The built-in catalogue (`--builtin`) -------------------------------------------------

// A built-in style catalogue: verified with the FlatBuffers verifier (identifier EDCT), no
// product table. Its settings are the five seed products', told apart by the first segment
// of their ids; the agent writes them to native stores under its own names (below).
struct BuiltinCatalog {
  const catalog_fb::Catalog* catalog = nullptr;
  uint64_t hash = 0;  // catalogs::Fnv1a64 of the bytes
};
// The binary catalogue embedded in the build (policy/catalog.h kBuiltinCatalogBytes).
absl::string_view BuiltinCatalogBytes();
// Verifies `bytes` (8-byte aligned, outliving the result); InvalidArgument if they do not
// verify or have a product table.
absl::StatusOr<BuiltinCatalog> OpenBuiltin(absl::string_view bytes);

// settings.md: the reference of the built-in catalogue (docs/settings.md; no product table;
// products by id prefix; each entry's `seed` as links to docs/requirements.md rules)
// (gen_docs.cc).
absl::StatusOr<Outputs> BuiltinDocs(const BuiltinCatalog& builtin);
// The same from the embedded catalogue, or from other bytes of a built-in style catalogue
// (InvalidArgument if they do not verify or have a product).
absl::StatusOr<Outputs> BuiltinDocs();
absl::StatusOr<Outputs> BuiltinDocs(absl::string_view bytes);
// edict.policy.schema.json: JSON Schema of policy JSON using the built-in settings, data
// classes, purposes, schedules and compliance tags (gen_schema.cc).
absl::StatusOr<Outputs> BuiltinJsonSchema(const BuiltinCatalog& builtin);
// edict.admx and en-US/edict.adml: one policy per built-in setting an admin may set, under
// Software\Policies\edict\edict (the agent's default registry_vendor and registry_product)
// with the setting id as value name, in one category per product (gen_xml.cc).
absl::StatusOr<Outputs> BuiltinAdmx(const BuiltinCatalog& builtin);
// org.edict.gschema.xml: GSettings schemas of the agent's dconf keys for built-in settings:
// id "a.b_c.d_e" -> key d-e in /org/edict/a/b-c/ (the default dconf_path_prefix; '_' written
// as '-'), one schema per directory (gen_xml.cc).
absl::StatusOr<Outputs> BuiltinGschema(const BuiltinCatalog& builtin);

// ---- Shared helpers (gen_docs.cc) -------------------------------------------------------

// The string or "" for null.
std::string Str(const flatbuffers::String* s);
// The allowed values of an Enum or Flags setting (empty otherwise).
std::vector<std::string> Values(const catalog_fb::Setting& s);
// `s` as a JSON string literal with quotes (valid UTF-8 assumed: catalogues are verified).
// `s` as a JSON string literal: json::Quote, the tree's one JSON escaper.
std::string JsonString(absl::string_view s);
// `s` with &, <, >, " and ' escaped for XML text and attributes.
std::string XmlEscape(absl::string_view s);
// "user, admin" / "nobody (fixed)".
std::string SettersText(uint8_t setters);
// Obligation names as in policy JSON ("notify_user, show_indicator"), "" for none.
std::string ObligationsText(uint32_t bits);
// Whether a policy (admin) rule may set `s`: not fixed and the Admin setter.
bool AdminMaySet(const catalog_fb::Setting& s);
// The name part of a "<product>.<name>" id.
std::string NamePart(absl::string_view id);
// Built-in purpose ids (a product's data-use rules may name them, e.g. "security").
std::vector<std::string> BuiltinPurposeIds();
// The first segment of a dotted id ("groove" for "groove.directory.public").
std::string ProductPrefix(absl::string_view id);
// The products of a built-in style catalogue: the first segments of its setting ids, in
// order of first appearance.
std::vector<std::string> ProductPrefixes(const catalog_fb::Catalog& c);

}  // namespace edict::ctl::gen

#endif  // EDICT_TOOLS_EDICTCTL_GEN_OUTPUTS_H_
