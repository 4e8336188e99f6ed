// Directories the agent writes into or prunes, and spool entries, on Windows: the counterpart
// of ports/linux/safe_dir.h. A safe directory is a directory that is not a reparse point
// (symbolic link, junction, mount point), nor reached through one below a trusted root;
// ownership and ACLs are the installer's (the spool is created SYSTEM + Administrators only),
// except for configuration the agent trusts (product catalogues): CheckAdminOnlyWritable is
// the counterpart of sshd's StrictModes for it.

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

// Whether only the administrators may change directory or file `path` (opened without
// following a reparse point; security read from that handle): PermissionDenied ("refusing
// directory PATH: reason", "refusing file PATH: reason") if it is a reparse point, if its
// owner is not SYSTEM, Administrators, TrustedInstaller or the process's own user, or if its
// DACL is NULL or has an effective (not inherit-only) allow ACE granting a write-type right
// (write/append data, add file/subdirectory, delete child, DELETE, WRITE_DAC, WRITE_OWNER,
// GENERIC_WRITE, GENERIC_ALL) to any other SID (CREATOR OWNER and OWNER RIGHTS stand for the
// owner, already checked). The process's own user is trusted as the Linux rule trusts the
// agent's uid: the service runs as SYSTEM. NotFound if missing.
absl::Status CheckAdminOnlyWritable(const std::string& path);

// The owner and DACL rules of CheckAdminOnlyWritable on a security descriptor (a
// PSECURITY_DESCRIPTOR holding at least the owner and the DACL) for `kind` ("directory",
// "file") `path`, which only names it in the message. Separate so that tests can give it
// descriptors a file system emulation cannot store.
absl::Status CheckAdminOnlySecurity(const void* security_descriptor, absl::string_view kind,
                                    const std::string& path);

// Reads regular file `path` without following a reparse point: NotFound if absent;
// FailedPrecondition ("... is a directory, not a regular file") for a directory, reparse
// point or device; ResourceExhausted if larger than `cap` (nothing read); at most `cap` + 1
// bytes otherwise (a file growing while read shows above the cap). With `admin_only`, the
// open file must also pass CheckAdminOnlyWritable's owner and DACL rules (checked on the
// handle that is read, so a swap between check and read is impossible).
absl::StatusOr<std::string> ReadRegularFile(const std::string& path, size_t cap,
                                            bool admin_only = false);

}  // namespace edict::ports::win

#endif  // EDICT_PORTS_WINDOWS_WIN_SAFE_DIR_H_
