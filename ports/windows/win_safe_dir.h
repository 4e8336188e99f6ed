// Directories the agent writes into or prunes, and spool entries, on Windows: the counterpart
// of ports/linux/safe_dir.h. A safe directory is a directory that is not a reparse point
// (symbolic link, junction, mount point), nor reached through one below a trusted root;
// ownership and ACLs are the installer's (the spool is created SYSTEM + Administrators only).

#ifndef EDICT_PORTS_WINDOWS_WIN_SAFE_DIR_H_
#define EDICT_PORTS_WINDOWS_WIN_SAFE_DIR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edict::ports::win {

// PermissionDenied ("refusing directory PATH: it is a reparse point ...") for a reparse point
// or something that is not a directory; NotFound if missing.
absl::Status CheckSafeDir(const std::string& path);

// CheckSafeDir on every existing component of `rel` ("a\b" or "a/b") below `root` (root
// itself is configuration and not checked). A missing component ends the walk (OK).
absl::Status CheckSafeDirTree(const std::string& root, absl::string_view rel);

// Reads regular file `path` without following a reparse point: NotFound if absent;
// FailedPrecondition ("... is a directory, not a regular file") for a directory, reparse
// point or device; ResourceExhausted if larger than `cap` (nothing read); at most `cap` + 1
// bytes otherwise (a file growing while read shows above the cap).
absl::StatusOr<std::string> ReadRegularFile(const std::string& path, size_t cap);

}  // namespace edict::ports::win

#endif  // EDICT_PORTS_WINDOWS_WIN_SAFE_DIR_H_
