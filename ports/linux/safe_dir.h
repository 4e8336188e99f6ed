// Directories the agent writes into or prunes, opened without following symbolic links and
// checked like sshd's StrictModes, and spool entries opened without blocking or following
// links. The one place these rules live on Linux (the Windows counterpart is
// ports/windows/win_safe_dir.h).
//
// A safe directory: reached without a symbolic link in its last component (and in every
// component below a trusted root, CheckSafeDirTree), a directory, owned by the process's
// effective uid or by root, and neither group- nor world-writable. Anything else is refused
// with PermissionDenied naming the directory and the reason.

#ifndef EDICT_PORTS_LINUX_SAFE_DIR_H_
#define EDICT_PORTS_LINUX_SAFE_DIR_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edict::ports::posix {

// An open, checked directory (O_DIRECTORY | O_NOFOLLOW). Operations on entries are relative
// to its descriptor (openat, renameat, unlinkat), so swapping a path component for a link
// after the check changes nothing.
class SafeDir {
 public:
  // Opens and checks `path`. With `create`, a missing last component is created with `mode`
  // (its parent must exist). NotFound if missing and not created.
  static absl::StatusOr<SafeDir> Open(const std::string& path, bool create = false,
                                      mode_t mode = 0750);

  SafeDir(SafeDir&& o) noexcept;
  SafeDir& operator=(SafeDir&& o) noexcept;
  SafeDir(const SafeDir&) = delete;
  SafeDir& operator=(const SafeDir&) = delete;
  ~SafeDir();

  // The directory entry `name` (one component) of this directory, opened and checked the same
  // way; created with `mode` if missing and `create`.
  absl::StatusOr<SafeDir> Sub(const std::string& name, bool create = false,
                              mode_t mode = 0750) const;

  // Entry names (not "." and ".."), unsorted.
  std::vector<std::string> List() const;
  // renameat(this, name, to, to_name): moves the entry itself (a link is not followed).
  absl::Status RenameTo(const std::string& name, const SafeDir& to,
                        const std::string& to_name) const;
  // unlinkat of a non-directory entry (a link is removed, never its target).
  absl::Status Unlink(const std::string& name) const;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  SafeDir(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Checks an existing directory (SafeDir::Open without keeping it). NotFound if missing.
absl::Status CheckSafeDir(const std::string& path);

// Checks every existing component of `rel` ("a/b/c") below `root`, and `root` itself for
// being a directory (root is configuration: it may be reached through links and be shared,
// e.g. "/"). Components that do not exist yet end the walk (OK).
absl::Status CheckSafeDirTree(const std::string& root, absl::string_view rel);

// The type of `mode` in words ("a FIFO", "a symbolic link", "a directory", ...).
const char* FileTypeName(mode_t mode);

// Reads regular file `path` (relative to `dirfd`, or AT_FDCWD) without blocking on a FIFO
// or device and without following a symbolic link in its last component: open with
// O_NONBLOCK | O_NOFOLLOW, fstat the descriptor, then read at most `cap` bytes.
// NotFound if absent; FailedPrecondition ("... is a FIFO, not a regular file") for anything
// but a regular file; ResourceExhausted if fstat says it is larger than `cap` (nothing is
// read); other errors as IoErrorStatus. `display` names the file in messages.
// `strict_modes` (catalogue files): the open file must also be owned by the agent's euid or
// root and be neither group- nor world-writable, else PermissionDenied ("refusing file
// PATH: it is group-writable (mode 0664)").
absl::StatusOr<std::string> ReadRegularFile(int dirfd, const std::string& path, size_t cap,
                                            absl::string_view display, bool strict_modes = false);

}  // namespace edict::ports::posix

#endif  // EDICT_PORTS_LINUX_SAFE_DIR_H_
