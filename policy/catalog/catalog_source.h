// Product catalogue sources: JSON (policy/catalog/catalog.fbs, docs/catalogs.md) to a
// validated binary catalogue (.edcat), and back.
//
// The JSON is read twice: by edict's strict JSON reader (policy/compiler/json.h: RFC 8259,
// UTF-8, duplicate keys, depth; every value located) and by FlatBuffers' JSON parser
// against the schema embedded at build time (types, field names, enum names). Then the
// rules of catalog_validate.h run on the result and each problem is located through the
// first reading. No I/O, no exceptions.
#ifndef EDICT_POLICY_CATALOG_CATALOG_SOURCE_H_
#define EDICT_POLICY_CATALOG_CATALOG_SOURCE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "policy/catalog/catalog_file.h"

namespace edict::catalogs {

// Largest catalogue source accepted (4 MiB): ten thousand settings with descriptions fit
// in about 3 MiB.
inline constexpr size_t kMaxSourceBytes = size_t{4} << 20;

// Compiles a catalogue source into binary catalogue bytes (identifier "EDCT").
//
// Deterministic and canonical: the bytes depend only on the catalogue's content, not on
// key order, white space or escapes in the source, so for every result `b`,
// BuildCatalog(CatalogToJson(b)) == b.
//
// On error: InvalidArgument whose message is every problem found, one per line, each
// "FILENAME:LINE:COL: reason" (`filename` is only used there). Syntax and schema errors
// stop at the first; the catalogue rules report all.
absl::StatusOr<std::string> BuildCatalog(absl::string_view json_text, absl::string_view filename);

// The canonical source JSON of a verified catalogue: schema field order, two-space
// indent, default values omitted, trailing newline.
absl::StatusOr<std::string> CatalogToJson(const CatalogView& view);

}  // namespace edict::catalogs

#endif  // EDICT_POLICY_CATALOG_CATALOG_SOURCE_H_
