#include "ports/linux/safe_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ports/io_status.h"
#include "ports/linux/posix_io.h"

namespace edict::ports::posix {
namespace {

absl::Status Refuse(absl::string_view path, absl::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat("refusing directory ", path, ": ", why));
}

// StrictModes on an open directory.
absl::Status CheckOpenDir(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return IoErrorStatus(errno, "stat", path);
  if (!S_ISDIR(st.st_mode)) {
    return Refuse(path, absl::StrCat("it is ", FileTypeName(st.st_mode), ", not a directory"));
  }
  const uid_t euid = ::geteuid();
  if (st.st_uid != euid && st.st_uid != 0) {
    return Refuse(path, absl::StrCat("it is owned by uid ", st.st_uid, ", not by the agent's uid ",
                                     euid, " or root"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse(path,
                  absl::StrFormat("it is %s-writable (mode %04o)",
                                  (st.st_mode & S_IWOTH) ? "world" : "group", st.st_mode & 07777));
  }
  return absl::OkStatus();
}

// openat(dirfd, name, O_DIRECTORY | O_NOFOLLOW) with a message saying why it failed; creates
// the directory first when `create`.
absl::StatusOr<int> OpenDirAt(int dirfd, const std::string& name, const std::string& path,
                              bool create, mode_t mode) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      if (absl::Status s = CheckOpenDir(fd, path); !s.ok()) {
        ::close(fd);
        return s;
      }
      return fd;
    }
    const int e = errno;
    if (e == ENOENT && create && attempt == 0) {
      if (::mkdirat(dirfd, name.c_str(), mode) != 0 && errno != EEXIST) {
        return IoErrorStatus(errno, "mkdir", path);
      }
      continue;
    }
    if (e == ELOOP || e == ENOTDIR) {
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) return Refuse(path, "it is a symbolic link");
        return Refuse(path, absl::StrCat("it is ", FileTypeName(st.st_mode), ", not a directory"));
      }
      return Refuse(path, "a component of its path is not a directory");
    }
    return IoErrorStatus(e, "open directory", path);
  }
  return IoErrorStatus(ENOENT, "open directory", path);
}

}  // namespace

const char* FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "a special file";
}

absl::StatusOr<SafeDir> SafeDir::Open(const std::string& path, bool create, mode_t mode) {
  absl::StatusOr<int> fd = OpenDirAt(AT_FDCWD, path, path, create, mode);
  if (!fd.ok()) return fd.status();
  return SafeDir(*fd, path);
}

SafeDir::SafeDir(SafeDir&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}

SafeDir& SafeDir::operator=(SafeDir&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
  }
  return *this;
}

SafeDir::~SafeDir() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<SafeDir> SafeDir::Sub(const std::string& name, bool create, mode_t mode) const {
  const std::string path = JoinPath(path_, name);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("not a single path component: ", path));
  }
  absl::StatusOr<int> fd = OpenDirAt(fd_, name, path, create, mode);
  if (!fd.ok()) return fd.status();
  return SafeDir(*fd, path);
}

std::vector<std::string> SafeDir::List() const {
  std::vector<std::string> out;
  const int fd = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return out;
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

absl::Status SafeDir::RenameTo(const std::string& name, const SafeDir& to,
                               const std::string& to_name) const {
  if (::renameat(fd_, name.c_str(), to.fd_, to_name.c_str()) != 0) {
    return IoErrorStatus(errno, absl::StrCat("rename ", JoinPath(path_, name), " to"),
                         JoinPath(to.path_, to_name));
  }
  return absl::OkStatus();
}

absl::Status SafeDir::Unlink(const std::string& name) const {
  if (::unlinkat(fd_, name.c_str(), 0) != 0) {
    return IoErrorStatus(errno, "remove", JoinPath(path_, name));
  }
  return absl::OkStatus();
}

absl::Status CheckSafeDir(const std::string& path) { return SafeDir::Open(path).status(); }

absl::Status CheckSafeDirTree(const std::string& root, absl::string_view rel) {
  const int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return IoErrorStatus(errno, "open directory", root);
  }
  // The root is trusted configuration: its descriptor is used unchecked.
  std::string path = root;
  int fd = root_fd;
  absl::Status result;
  for (absl::string_view part : absl::StrSplit(rel, '/', absl::SkipEmpty())) {
    const std::string name(part);
    path = JoinPath(path, name);
    absl::StatusOr<int> next = OpenDirAt(fd, name, path, /*create=*/false, 0);
    ::close(fd);
    fd = -1;
    if (!next.ok()) {
      if (absl::IsNotFound(next.status())) break;
      result = next.status();
      break;
    }
    fd = *next;
  }
  if (fd >= 0) ::close(fd);
  return result;
}

absl::StatusOr<std::string> ReadRegularFile(int dirfd, const std::string& path, size_t cap,
                                            absl::string_view display, bool strict_modes) {
  // Not even opened unless it looks like a regular file (opening a device can have effects).
  struct stat lst;
  if (::fstatat(dirfd, path.c_str(), &lst, AT_SYMLINK_NOFOLLOW) != 0) {
    return IoErrorStatus(errno, "stat", display);
  }
  if (!S_ISREG(lst.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(display, " is ", FileTypeName(lst.st_mode), ", not a regular file"));
  }
  // It may have been swapped since: O_NONBLOCK (a FIFO does not block the open), O_NOFOLLOW,
  // and the descriptor's own type decides.
  const int fd = ::openat(dirfd, path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    struct stat st;
    if ((e == ELOOP || e == ENXIO || e == EWOULDBLOCK) &&
        ::fstatat(dirfd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(display, " is ", FileTypeName(st.st_mode), ", not a regular file"));
    }
    return IoErrorStatus(e, "open", display);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return IoErrorStatus(e, "stat", display);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(display, " is ", FileTypeName(st.st_mode), ", not a regular file"));
  }
  if (strict_modes) {
    const uid_t euid = ::geteuid();
    std::string why;
    if (st.st_uid != euid && st.st_uid != 0) {
      why = absl::StrCat("it is owned by uid ", st.st_uid, ", not by the agent's uid ", euid,
                         " or root");
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      why = absl::StrFormat("it is %s-writable (mode %04o)",
                            (st.st_mode & S_IWOTH) ? "world" : "group", st.st_mode & 07777);
    }
    if (!why.empty()) {
      ::close(fd);
      return absl::PermissionDeniedError(absl::StrCat("refusing file ", display, ": ", why));
    }
  }
  if (static_cast<uint64_t>(st.st_size) > cap) {
    ::close(fd);
    return absl::ResourceExhaustedError(absl::StrCat(
        display, " is ", st.st_size, " bytes, larger than the limit of ", cap, " bytes"));
  }
  // A regular file never blocks; clear O_NONBLOCK anyway so reads behave as usual.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::string out;
  char buf[65536];
  // At most cap + 1 bytes: a file that grew after the fstat still shows as over the cap.
  while (out.size() <= cap) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return IoErrorStatus(e, "read", display);
    }
    if (n == 0) break;
    out.append(buf, std::min<size_t>(static_cast<size_t>(n), cap + 1 - out.size()));
  }
  ::close(fd);
  return out;
}

}  // namespace edict::ports::posix
