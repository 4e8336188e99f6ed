// Product catalogues on the endpoint (issue 18): the agent's catalogue directories, read
// into one CatalogSet at start and again whenever they change (docs/agent.md "Product
// catalogues"). Internal to tools/agent; used by the daemon and by `status`/`query`.
#ifndef EDICT_TOOLS_AGENT_CATALOGS_H_
#define EDICT_TOOLS_AGENT_CATALOGS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policy/catalog/catalog_set.h"

namespace edict::agent {

// One loaded product catalogue.
struct LoadedCatalog {
  std::string product;
  uint32_t version = 0;
  uint64_t hash = 0;  // catalogs::FormatHash for display
  std::string file;
};

struct CatalogLoad {
  // The built-in set plus every catalogue found; null when `errors` is not empty (then
  // nothing of this load may be used: the caller keeps what it had).
  std::shared_ptr<const CatalogSet> set;
  std::vector<LoadedCatalog> catalogs;  // in product id order (the set's)
  std::vector<std::string> errors;      // each names the directory or file and the reason
};

// Bounds on what one load reads, so that memory stays bounded whatever the directories
// hold: at most this many catalogue files, and this many bytes of them in all (past either,
// the load fails and nothing of it is used).
inline constexpr size_t kMaxCatalogFiles = 256;
inline constexpr size_t kMaxCatalogTotalBytes = size_t{64} << 20;

// Reads `dirs` in order: a missing directory is skipped; each existing one must pass the
// agent's trusted-directory check (platform::CheckTrustedDir: not a link, owned by the
// agent's user or root, not group- or world-writable; Windows: not a reparse point, owned by
// SYSTEM, Administrators, TrustedInstaller or the agent's user, no one else granted a write
// right by the DACL); in each, the entries named `*.edcat` (others ignored), sorted by name,
// are read with the capped reader (regular files only, never followed, at most
// catalogs::kMaxBinaryBytes) and must pass the same owner and write rules
// (platform::ReadTrusted). The same product in two files is an error naming both. Without
// any catalogue the set is CatalogSet::Builtin() (not owned).
CatalogLoad LoadCatalogs(const std::vector<std::string>& dirs);

// What decides whether the directories changed: each directory's and each `*.edcat` entry's
// type, size, modification time and inode. Cheap (stat only); compared by the daemon loop.
std::string CatalogFingerprint(const std::vector<std::string>& dirs);

}  // namespace edict::agent

#endif  // EDICT_TOOLS_AGENT_CATALOGS_H_
