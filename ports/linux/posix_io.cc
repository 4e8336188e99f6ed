#include "ports/linux/posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ports/io_status.h"

namespace edict::ports::posix {

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty()) return std::string(b);
  if (a.back() == '/') return absl::StrCat(a, b);
  return absl::StrCat(a, "/", b);
}

std::string DirName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::Status PosixIo::Check(IoOp op, absl::string_view path, absl::string_view what) {
  if (faults_ == nullptr) return absl::OkStatus();
  std::optional<std::errc> error = faults_->Before(IoPoint{op, path});
  if (!error.has_value()) return absl::OkStatus();
  return IoErrorStatus(*error, what, path);
}

absl::Status PosixIo::WriteFileDurably(const std::string& path,
                                       std::initializer_list<absl::string_view> pieces,
                                       mode_t mode) {
  if (absl::Status s = Check(IoOp::kOpen, path, "create"); !s.ok()) return s;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return IoErrorStatus(errno, "create", path);
  absl::Status status;
  for (absl::string_view piece : pieces) {
    status = Check(IoOp::kWrite, path, "write");
    size_t done = 0;
    while (status.ok() && done < piece.size()) {
      const ssize_t n = ::write(fd, piece.data() + done, piece.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        status = IoErrorStatus(errno, "write", path);
      } else {
        done += static_cast<size_t>(n);
      }
    }
    if (!status.ok()) break;
  }
  if (status.ok()) status = Check(IoOp::kFsync, path, "fsync");
  if (status.ok() && ::fsync(fd) != 0) status = IoErrorStatus(errno, "fsync", path);
  if (status.ok()) status = Check(IoOp::kClose, path, "close");
  if (::close(fd) != 0 && status.ok()) status = IoErrorStatus(errno, "close", path);
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

absl::Status PosixIo::WriteFileAtomically(const std::string& path, absl::string_view content,
                                          mode_t mode) {
  const std::string dir = DirName(path);
  const std::string tmp = absl::StrCat(path, kTempSuffix);
  if (absl::Status s = WriteFileDurably(tmp, {content}, mode); !s.ok()) return s;
  if (absl::Status s = Rename(tmp, path); !s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

absl::Status PosixIo::Rename(const std::string& from, const std::string& to) {
  if (absl::Status s = Check(IoOp::kRename, to, "rename to"); !s.ok()) return s;
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return IoErrorStatus(errno, absl::StrCat("rename ", from, " to"), to);
  }
  return absl::OkStatus();
}

absl::Status PosixIo::Link(const std::string& from, const std::string& to) {
  if (absl::Status s = Check(IoOp::kLink, to, "link"); !s.ok()) return s;
  if (::link(from.c_str(), to.c_str()) != 0) {
    return IoErrorStatus(errno, absl::StrCat("link ", from, " to"), to);
  }
  return absl::OkStatus();
}

absl::Status PosixIo::Unlink(const std::string& path, bool missing_ok) {
  if (missing_ok && !Exists(path)) return absl::OkStatus();
  if (absl::Status s = Check(IoOp::kUnlink, path, "remove"); !s.ok()) return s;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT && missing_ok) return absl::OkStatus();
    return IoErrorStatus(errno, "remove", path);
  }
  return absl::OkStatus();
}

absl::Status PosixIo::FsyncDir(const std::string& dir) {
  if (absl::Status s = Check(IoOp::kFsyncDir, dir, "sync directory"); !s.ok()) return s;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoErrorStatus(errno, "open directory", dir);
  absl::Status status;
  if (::fsync(fd) != 0) status = IoErrorStatus(errno, "sync directory", dir);
  ::close(fd);
  return status;
}

absl::Status PosixIo::MakeDirs(const std::string& path, mode_t mode) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  const std::string parent = DirName(path);
  if (parent != path && parent != "." && parent != "/") {
    if (absl::Status s = MakeDirs(parent, mode); !s.ok()) return s;
  }
  if (absl::Status s = Check(IoOp::kMkdir, path, "mkdir"); !s.ok()) return s;
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return IoErrorStatus(errno, "mkdir", path);
  }
  return absl::OkStatus();
}

absl::Status PosixIo::Touch(const std::string& path, absl::Time time) {
  if (absl::Status s = Check(IoOp::kTouch, path, "set time of"); !s.ok()) return s;
  const timespec ts = absl::ToTimespec(time);
  const timespec times[2] = {ts, ts};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    return IoErrorStatus(errno, "set time of", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PosixIo::ReadFile(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoErrorStatus(errno, "open", path);
  std::string out;
  char buf[65536];
  absl::Status status;
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      status = IoErrorStatus(errno, "read", path);
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      status = absl::ResourceExhaustedError(
          absl::StrCat(path, " is larger than the limit of ", max_bytes, " bytes"));
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

std::optional<absl::Time> PosixIo::ModificationTime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return absl::TimeFromTimespec(st.st_mtim);
}

bool PosixIo::Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace edict::ports::posix
