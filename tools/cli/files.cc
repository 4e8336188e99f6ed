// The command line's capped input reader and safe output writer (tools/cli/files.h).
#include "tools/cli/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef _WIN32
#include <io.h>
#include <process.h>
#include <windows.h>
#else
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/cli/strings.h"

namespace edict::cli {
namespace {

#ifdef _WIN32
using StatBuf = struct _stat64;
inline int StatPath(const char* p, StatBuf* st) { return ::_stat64(p, st); }
inline int StatFd(int fd, StatBuf* st) { return ::_fstat64(fd, st); }
inline bool IsReg(unsigned m) { return (m & _S_IFMT) == _S_IFREG; }
inline bool IsDir(unsigned m) { return (m & _S_IFMT) == _S_IFDIR; }
constexpr int kReadFlags = _O_RDONLY | _O_BINARY | _O_NOINHERIT;
inline int ReadFd(int fd, char* buf, size_t n) {
  return ::_read(fd, buf, static_cast<unsigned>(n));
}
inline int CloseFd(int fd) { return ::_close(fd); }
#else
using StatBuf = struct stat;
inline int StatFd(int fd, StatBuf* st) { return ::fstat(fd, st); }
inline bool IsReg(mode_t m) { return S_ISREG(m); }
inline bool IsDir(mode_t m) { return S_ISDIR(m); }
constexpr int kReadFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
inline ssize_t ReadFd(int fd, char* buf, size_t n) { return ::read(fd, buf, n); }
inline int CloseFd(int fd) { return ::close(fd); }
#endif

constexpr char kStdinName[] = "standard input";

// What a non-regular file is, for messages.
std::string_view KindOf(unsigned mode) {
#ifdef _WIN32
  switch (mode & _S_IFMT) {
    case _S_IFDIR:
      return "a directory";
    case _S_IFCHR:
      return "a device";
    case _S_IFIFO:
      return "a pipe";
  }
#else
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
#endif
  return "not a regular file";
}

absl::Status ErrnoError(int e, std::string_view name, std::string_view what = "") {
  return absl::Status(absl::ErrnoToStatusCode(e), Cat(name, ": ", what, std::strerror(e)));
}

absl::Status NotRegularForReading(std::string_view name, unsigned mode) {
  if (IsDir(mode)) return absl::FailedPreconditionError(Cat(name, ": is a directory, not a file"));
  return absl::FailedPreconditionError(Cat(name, ": is ", KindOf(mode), ", not a regular file"));
}

absl::Status TooLarge(std::string_view name, size_t cap, std::string_view what, int64_t size) {
  std::string msg = Cat(name, ": larger than the ", HumanBytes(cap), " limit for ", what);
  if (size >= 0) AppendTo(&msg, " (it is ", HumanBytes(static_cast<uint64_t>(size)), ")");
  return absl::ResourceExhaustedError(msg);
}

// An open input: a regular file (or standard input) checked against `cap`.
struct Input {
  int fd = -1;
  bool owned = false;  // close it
  std::string name;
  int64_t size = -1;  // the file system's size of a regular file, else -1
  ~Input() {
    if (owned && fd >= 0) CloseFd(fd);
  }
};

absl::Status OpenInput(const std::string& path, bool allow_stdin, bool follow, size_t cap,
                       std::string_view what, Input* in) {
  StatBuf st;
  if (allow_stdin && path == "-") {
    in->fd = 0;
    in->name = kStdinName;
#ifdef _WIN32
    ::_setmode(0, _O_BINARY);
#endif
    if (StatFd(0, &st) != 0) return ErrnoError(errno, in->name);
    if (IsDir(st.st_mode)) return NotRegularForReading(in->name, st.st_mode);
    if (IsReg(st.st_mode)) in->size = static_cast<int64_t>(st.st_size);
  } else {
    in->name = path;
    // stat() first so that a FIFO or device is never even opened; then the descriptor is
    // checked again (the name may have been replaced in between). O_NONBLOCK: even that
    // open cannot block.
    if (path.empty()) return absl::InvalidArgumentError("empty file name");
#ifdef _WIN32
    (void)follow;
    // The CRT's stat fails on a trailing separator ("C:\\Temp\\"), which names a directory
    // all the same; look at the name without it (but keep a root such as "C:\\").
    std::string stat_name = path;
    while (stat_name.size() > 3 && (stat_name.back() == '\\' || stat_name.back() == '/'))
      stat_name.pop_back();
    if (StatPath(stat_name.c_str(), &st) != 0) return ErrnoError(errno, path);
#else
    if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0) {
      return ErrnoError(errno, path);
    }
    if (S_ISLNK(st.st_mode)) {
      return absl::FailedPreconditionError(Cat(path, ": is a symbolic link; not followed"));
    }
#endif
    if (!IsReg(st.st_mode)) return NotRegularForReading(path, st.st_mode);
#ifdef _WIN32
    in->fd = ::_open(path.c_str(), kReadFlags);
#else
    in->fd = ::open(path.c_str(), kReadFlags | (follow ? 0 : O_NOFOLLOW));
#endif
    if (in->fd < 0) return ErrnoError(errno, path);
    in->owned = true;
    if (StatFd(in->fd, &st) != 0) return ErrnoError(errno, path);
    if (!IsReg(st.st_mode)) return NotRegularForReading(path, st.st_mode);
#ifndef _WIN32
    const int flags = ::fcntl(in->fd, F_GETFL);
    if (flags >= 0) ::fcntl(in->fd, F_SETFL, flags & ~O_NONBLOCK);
#endif
    in->size = static_cast<int64_t>(st.st_size);
  }
  if (in->size >= 0 && static_cast<uint64_t>(in->size) > cap) {
    return TooLarge(in->name, cap, what, in->size);
  }
  return absl::OkStatus();
}

// One read(), retried on EINTR; -1 with errno set on error.
long ReadSome(int fd, char* buf, size_t n) {
  while (true) {
    const auto r = ReadFd(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    return static_cast<long>(r);
  }
}

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1024) return Cat(bytes, bytes == 1 ? " byte" : " bytes");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  uint64_t units[6];
  units[0] = 1024;
  for (int u = 1; u < 6; ++u) units[u] = units[u - 1] * 1024;
  // Exact in some unit (every cap is): the largest such unit, "4092 KiB", "4 MiB".
  for (int u = 5; u >= 0; --u) {
    if (bytes % units[u] == 0) return Cat(bytes / units[u], " ", kUnits[u]);
  }
  // Otherwise the largest unit giving at least 10 of it, one decimal, rounded up so that a size
  // just over a limit never reads as the limit: "4096.1 KiB", "190.8 MiB".
  int u = 0;
  while (u + 1 < 6 && bytes / units[u + 1] >= 10) ++u;
  const double tenths = std::ceil(static_cast<double>(bytes) * 10 / static_cast<double>(units[u]));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f %s", tenths / 10, kUnits[u]);
  return buf;
}

absl::StatusOr<std::string> ReadInputFile(const std::string& path, size_t cap,
                                          const ReadOptions& options) {
  Input in;
  if (absl::Status s =
          OpenInput(path, options.allow_stdin, options.follow_symlinks, cap, options.what, &in);
      !s.ok()) {
    return s;
  }
  std::string out;
  if (in.size > 0) out.reserve(static_cast<size_t>(in.size));
  char buf[65536];
  while (true) {
    const long n = ReadSome(in.fd, buf, sizeof buf);
    if (n < 0) return ErrnoError(errno, in.name, "cannot read: ");
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > cap) {
      return TooLarge(in.name, cap, options.what, -1);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

absl::Status ForEachInputLine(const std::string& path, size_t max_line,
                              const std::function<void(size_t, std::string_view)>& on_line) {
  Input in;
  // The stream as a whole is not capped (SIZE_MAX): only its lines are.
  if (absl::Status s = OpenInput(path, /*allow_stdin=*/true, /*follow=*/true, SIZE_MAX, "", &in);
      !s.ok()) {
    return s;
  }
  std::string line;
  size_t line_no = 0;
  char buf[65536];
  while (true) {
    const long n = ReadSome(in.fd, buf, sizeof buf);
    if (n < 0) return ErrnoError(errno, in.name, "cannot read: ");
    if (n == 0) break;
    const char* p = buf;
    const char* const end = buf + n;
    while (p < end) {
      const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
      const char* nl = static_cast<const char*>(found);
      const char* seg_end = nl != nullptr ? nl : end;
      if (line.size() + static_cast<size_t>(seg_end - p) > max_line) {
        return absl::ResourceExhaustedError(Cat(in.name, ": line ", line_no + 1,
                                                " is longer than the ", HumanBytes(max_line),
                                                " limit for one line"));
      }
      line.append(p, seg_end);
      if (nl == nullptr) break;
      on_line(++line_no, line);
      line.clear();
      p = nl + 1;
    }
  }
  if (!line.empty()) on_line(++line_no, line);
  return absl::OkStatus();
}

// ---- Writing ------------------------------------------------------------------------------

namespace {

#ifdef _WIN32
// What is at `path`: 0 nothing, 1 a regular file, or an error naming what else it is.
absl::StatusOr<int> ProbeOutput(const std::string& path) {
  HANDLE h = ::CreateFileA(path.c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           nullptr, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD e = ::GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return 0;
    return absl::UnavailableError(Cat(path, ": cannot open (Windows error ", e, ")"));
  }
  const DWORD type = ::GetFileType(h);
  BY_HANDLE_FILE_INFORMATION info;
  const bool have_info = ::GetFileInformationByHandle(h, &info) != 0;
  ::CloseHandle(h);
  std::string_view kind;
  if (type != FILE_TYPE_DISK) {
    kind = type == FILE_TYPE_PIPE ? "a pipe" : "a device";
  } else if (have_info && (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
    return absl::FailedPreconditionError(
        Cat(path, ": is a symbolic link or reparse point; refusing to write through it"));
  } else if (have_info && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    kind = "a directory";
  } else {
    return 1;
  }
  return absl::FailedPreconditionError(
      Cat(path, ": is ", kind, ", not a regular file; refusing to replace it"));
}
#else
absl::StatusOr<int> ProbeOutput(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    return ErrnoError(errno, path);
  }
  if (S_ISREG(st.st_mode)) return 1;
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        Cat(path, ": is a symbolic link; refusing to write through it (name the file itself)"));
  }
  return absl::FailedPreconditionError(
      Cat(path, ": is ", KindOf(st.st_mode), ", not a regular file; refusing to replace it"));
}
#endif

int Pid() {
#ifdef _WIN32
  return ::_getpid();
#else
  return static_cast<int>(::getpid());
#endif
}

bool IsTerminal(int fd) {
#ifdef _WIN32
  return ::_isatty(fd) != 0;
#else
  return ::isatty(fd) != 0;
#endif
}

// Writes all of `data` to `fd`; false with errno set on failure.
bool WriteAll(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
#ifdef _WIN32
    const int n = ::_write(fd, data.data() + done,
                           static_cast<unsigned>(std::min<size_t>(data.size() - done, 1 << 30)));
#else
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
#endif
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Creates `path` (which must not exist), writes `data` with `mode` and flushes it to disk.
// On failure the file is removed.
absl::Status CreateAndWrite(const std::string& path, std::string_view data, int mode) {
#ifdef _WIN32
  const int fd = ::_open(path.c_str(), _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY | _O_NOINHERIT,
                         _S_IREAD | _S_IWRITE);
  (void)mode;
#else
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
#endif
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(Cat(path, ": already exists; refusing to overwrite it"));
    }
    return ErrnoError(errno, path, "cannot create: ");
  }
  bool ok = true;
  const char* what = "cannot write: ";
#ifdef _WIN32
  ok = WriteAll(fd, data);
  if (ok) {
    what = "cannot sync: ";
    ok = ::_commit(fd) == 0;
  }
#else
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    ok = false;
    what = "cannot set the mode: ";
  }
  if (ok && !WriteAll(fd, data)) ok = false;
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    what = "cannot sync: ";
  }
#endif
  const int err = errno;
  if (CloseFd(fd) != 0 && ok) {
    ok = false;
    what = "cannot close: ";
  }
  if (!ok) {
    std::remove(path.c_str());
    return ErrnoError(err != 0 ? err : EIO, path, what);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOutputPath(const std::string& path, const WriteOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("empty output file name");
  if (path == "-") {
    if (!options.allow_stdout) {
      return absl::InvalidArgumentError(
          "'-' (standard output) cannot be used here: name a file (./- for a file named '-')");
    }
    if (options.binary && IsTerminal(1)) {
      return absl::FailedPreconditionError(
          "standard output is a terminal; refusing to write binary data to it (redirect it, "
          "or name a file)");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int> what = ProbeOutput(path);
  if (!what.ok()) return what.status();
  if (*what == 1 && options.exclusive) {
    return absl::AlreadyExistsError(Cat(path, ": already exists; refusing to overwrite it"));
  }
  return absl::OkStatus();
}

absl::Status WriteOutputFile(const std::string& path, std::string_view data,
                             const WriteOptions& options) {
  if (absl::Status s = CheckOutputPath(path, options); !s.ok()) return s;
  if (IsStdout(path, options)) {
    std::fflush(stdout);
#ifdef _WIN32
    ::_setmode(1, _O_BINARY);
#endif
    if (!WriteAll(1, data)) return ErrnoError(errno, "standard output", "cannot write: ");
    return absl::OkStatus();
  }
  if (options.exclusive) return CreateAndWrite(path, data, options.mode);

  // Replace atomically: a temporary file next to `path`, then a rename over it.
  const std::string tmp = Cat(path, ".tmp.", Pid());
  if (absl::Status s = CreateAndWrite(tmp, data, options.mode); !s.ok()) return s;
  // Checked again just before the rename: what was checked above may have been replaced.
  absl::StatusOr<int> what = ProbeOutput(path);
  if (!what.ok()) {
    std::remove(tmp.c_str());
    return what.status();
  }
#ifdef _WIN32
  if (!::MoveFileExA(tmp.c_str(), path.c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    const DWORD e = ::GetLastError();
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        Cat(path, ": cannot rename ", tmp, " to it (Windows error ", e, ")"));
  }
#else
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError(err, path, Cat("cannot rename ", tmp, " to it: "));
  }
  // Make the rename durable too.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
#endif
  return absl::OkStatus();
}

}  // namespace edict::cli
