// Shared bookkeeping for native stores that write whole files: the ownership record in a
// StateStore, the foreign-file check, widen-write-remove-narrow ordering. Internal.

#ifndef EDICT_PORTS_LINUX_OWNED_FILES_H_
#define EDICT_PORTS_LINUX_OWNED_FILES_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ports/linux/posix_io.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"

namespace edict::ports::posix {

inline constexpr char kFileSet[] = "file";
inline constexpr char kKeySet[] = "key";

// Loads the record: empty if never written, the previous generation if the current one is
// corrupt; DataLoss only if no generation is usable.
absl::StatusOr<OwnershipRecord> LoadOwnershipRecord(StateStore* state, const std::string& name);

// Saves `record`, skipping the write when it equals `previous`.
absl::Status SaveOwnershipRecord(StateStore* state, const std::string& name,
                                 const OwnershipRecord& record, const OwnershipRecord& previous);

// FailedPrecondition if any of `paths` exists but is not recorded as ours.
absl::Status CheckNotForeign(const std::map<std::string, std::string>& files,
                             const OwnershipRecord& owned);

// Writes each file atomically (0644, parent directories 0755) unless it already has exactly
// that content. Sets *changed if anything was written.
absl::Status WriteFiles(PosixIo& io, const std::map<std::string, std::string>& files,
                        bool* changed);

// Removes every recorded file not in `keep` (missing ones are fine) and the temporaries of
// all recorded files, and syncs their directories. Sets *changed if anything was removed.
absl::Status RemoveStaleFiles(PosixIo& io, const OwnershipRecord& owned,
                              const std::map<std::string, std::string>& keep, bool* changed);

}  // namespace edict::ports::posix

#endif  // EDICT_PORTS_LINUX_OWNED_FILES_H_
