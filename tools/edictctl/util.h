// Helpers shared by edictctl's commands: time arguments, document kinds, the size a payload
// may have to be signable.
#ifndef EDICT_TOOLS_EDICTCTL_UTIL_H_
#define EDICT_TOOLS_EDICTCTL_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_set.h"
#include "tools/cli/files.h"
#include "transport/describe.h"
#include "transport/trust.h"

namespace edict::ctl {

// The room a bundle envelope needs besides its payload, with up to Limits::max_signatures
// signatures (about 140 bytes each, plus the table), rounded up.
inline constexpr size_t kSignatureReserveBytes = size_t{4} << 10;  // 4 KiB
// The largest payload `edictctl sign` turns into a bundle within the endpoints' bundle cap
// (with any number of signatures up to the cap): `compile` refuses larger payloads.
inline constexpr size_t kMaxSignablePayloadBytes =
    transport::Limits{}.max_bundle_bytes - kSignatureReserveBytes;
static_assert(cli::kMaxPayloadBytes == transport::Limits{}.max_bundle_bytes,
              "a payload read on its own has the bundle's cap");

// Parses an RFC 3339 time argument ("2027-01-15T08:00:00Z") within the range policy JSON
// allows (compiler::kMinTime to kMaxTime: 1970-01-01T00:00:01Z to 9999-12-31T23:59:59Z).
// On failure `why` says what is wrong, naming `option`.
bool ParseTimeArg(std::string_view option, const std::string& text, int64_t* out, std::string* why);

// "a bundle (EDB1)", "a trust document (EDT1)", "a compiled payload (EDP1)", or "not an edict
// bundle, trust document or payload" for kUnknown.
std::string_view DocumentName(transport::DocumentKind kind);

// Empty if `bytes` carry the file identifier of `want` (or no edict identifier at all: that
// is left to the parser); else "PATH is a bundle (EDB1), not a trust document".
std::string WrongDocument(const std::string& path, const std::string& bytes,
                          transport::DocumentKind want);

// Prints `rows` as left-aligned columns, two spaces in, trailing blanks trimmed.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Reads and verifies the binary catalogue at `path` (cli::ReadInputFile, at most
// catalogs::kMaxBinaryBytes, then CatalogFile::FromBytes). The error message names the path
// and the reason.
absl::StatusOr<catalogs::CatalogFile> ReadCatalogFile(const std::string& path);

// The catalogue set of `--catalog` files: the built-in catalogue plus each binary
// catalogue (read as ReadCatalogFile does, then CatalogSet::Create with the path as its
// origin). Every error message names the file. No paths: CatalogSet::Builtin() (not owned;
// the returned pointer then has a no-op deleter).
absl::StatusOr<std::shared_ptr<const CatalogSet>> LoadCatalogSet(
    const std::vector<std::string>& paths);

}  // namespace edict::ctl

#endif  // EDICT_TOOLS_EDICTCTL_UTIL_H_
