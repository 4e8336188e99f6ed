// Loading a policy for the command line: policy JSON is compiled with the policy
// compiler, anything else is taken as payload bytes; either is then activated into a heap
// arena that the returned LoadedPolicy owns.
#ifndef EDICT_TOOLS_CLI_POLICY_H_
#define EDICT_TOOLS_CLI_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kernel/kernel.h"

namespace edict::cli {

// An activated policy: the payload bytes, the arena and the snapshot indexing them.
// Immutable after construction; not copyable or movable (the snapshot points into both
// buffers), so it is handed out in a unique_ptr.
class LoadedPolicy {
 public:
  LoadedPolicy(const LoadedPolicy&) = delete;
  LoadedPolicy& operator=(const LoadedPolicy&) = delete;

  // Every function takes the catalogue set to compile and activate against; it must
  // outlive the LoadedPolicy (the snapshot borrows it).

  // Activates payload bytes (EDP1). Errors are those of Snapshot::ArenaSize/Activate.
  static absl::StatusOr<std::unique_ptr<LoadedPolicy>> FromPayload(
      std::string payload, const CatalogSet& catalogs = CatalogSet::Builtin());
  // Compiles policy JSON text, then activates it. On compile errors: InvalidArgument
  // whose message holds every diagnostic as "filename:line:col: message", one per line.
  static absl::StatusOr<std::unique_ptr<LoadedPolicy>> FromJson(
      std::string_view json_text, std::string_view filename,
      const CatalogSet& catalogs = CatalogSet::Builtin());
  // Reads `path`: a name ending in ".json" is compiled (at most kMaxPolicyJsonBytes), anything
  // else is payload bytes (at most kMaxPayloadBytes); errors are ReadInputFile's
  // (tools/cli/files.h).
  static absl::StatusOr<std::unique_ptr<LoadedPolicy>> FromFile(
      const std::string& path, const CatalogSet& catalogs = CatalogSet::Builtin());
  // No policy: the defaults of `catalogs` (serial 0), Snapshot::Defaults(catalogs, arena).
  static absl::StatusOr<std::unique_ptr<LoadedPolicy>> Defaults(const CatalogSet& catalogs);

  const Snapshot& snapshot() const { return *snapshot_; }

 private:
  LoadedPolicy() = default;

  std::string payload_;
  std::unique_ptr<std::max_align_t[]> arena_;
  const Snapshot* snapshot_ = nullptr;
};

}  // namespace edict::cli

#endif  // EDICT_TOOLS_CLI_POLICY_H_
