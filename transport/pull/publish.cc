#include "transport/pull/publish.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "transport/trust.h"

namespace edict::transport::pull {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return Errno("fsync", dir);
  return absl::OkStatus();
}

// Removes all but the newest `keep` files named prefix*suffix other than `current`.
void Prune(const std::string& dir, absl::string_view prefix, absl::string_view suffix,
           const std::string& current, int keep) {
  if (keep < 0) return;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::pair<int64_t, std::string>> files;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!absl::StartsWith(name, prefix) || !absl::EndsWith(name, suffix) || name == current) {
      continue;
    }
    struct stat st;
    if (::stat((dir + "/" + name).c_str(), &st) == 0) {
      files.emplace_back(static_cast<int64_t>(st.st_mtime), name);
    }
  }
  ::closedir(d);
  std::sort(files.begin(), files.end(), std::greater<>());
  for (size_t i = static_cast<size_t>(keep); i < files.size(); ++i) {
    ::unlink((dir + "/" + files[i].second).c_str());
  }
}

}  // namespace

// Only a regular file (or nothing) at `path` may be replaced: never a FIFO, device, socket,
// directory or symbolic link (issue 17, class 7).
absl::Status CheckReplaceable(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("lstat", path);
  }
  if (S_ISREG(st.st_mode)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(path, ": is ", S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file",
                   "; refusing to replace it"));
}

absl::Status WriteFileAtomically(const std::string& path, Bytes data, bool advance_mtime) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (auto s = CheckReplaceable(path); !s.ok()) return s;
  std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = Errno("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);  // whatever the umask: a web server must read it
  struct stat old;
  if (advance_mtime && ::stat(path.c_str(), &old) == 0) {
    // Always set the time explicitly: the file system stamps writes from a coarse clock
    // that can lag CLOCK_REALTIME across a second boundary, so comparing the precise clock
    // with the old mtime is not enough (seen in CI: the same second, the same ETag, a 304).
    struct timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    struct timespec times[2];
    times[0] = now;
    if (now.tv_sec <= old.st_mtim.tv_sec) {
      times[0].tv_sec = old.st_mtim.tv_sec + 1;
      times[0].tv_nsec = 0;
    }
    times[1] = times[0];
    if (::futimens(fd, times) != 0) {
      absl::Status s = Errno("futimens", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    absl::Status s = Errno("fsync/close", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  if (auto s = CheckReplaceable(path); !s.ok()) {  // again: it may have been replaced
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("rename", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(dir);
}

absl::StatusOr<Index> PublishToDirectory(const std::string& dir, Bytes bundle,
                                         std::optional<Bytes> trust,
                                         const PublishOptions& options) {
  auto serial = PeekBundleSerial(bundle);
  if (!serial.ok()) return serial.status();
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
  Index index;
  index.published_at = options.published_at;
  index.bundle.size = bundle.size();
  index.bundle.sha256 = Sha256::Hash(bundle);
  index.bundle.serial = *serial;
  index.bundle.path = BundleFileName(index.bundle.sha256);
  if (trust) {
    auto version = PeekTrustVersion(*trust);
    if (!version.ok()) return version.status();
    IndexEntry t;
    t.size = trust->size();
    t.sha256 = Sha256::Hash(*trust);
    t.serial = *version;
    t.path = TrustFileName(t.serial, t.sha256);
    if (auto s = WriteFileAtomically(dir + "/" + t.path, *trust); !s.ok()) return s;
    index.trust = t;
  }
  if (auto s = WriteFileAtomically(dir + "/" + index.bundle.path, bundle); !s.ok()) return s;
  std::string text = SerializeIndex(index);
  if (auto s =
          WriteFileAtomically(dir + "/" + kIndexFileName,
                              Bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                              /*advance_mtime=*/true);
      !s.ok()) {
    return s;
  }
  Prune(dir, "bundle-", ".edict", index.bundle.path, options.keep);
  if (index.trust) Prune(dir, "trust-v", ".edt", index.trust->path, options.keep);
  return index;
}

}  // namespace edict::transport::pull
