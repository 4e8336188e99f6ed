// File helpers shared by edictctl's key, trust and bundle commands.
#include "tools/edictctl/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _WIN32
// Windows CRT: binary mode (no CRLF/^Z translation) and a non-inheritable handle stand in for
// O_CLOEXEC; _commit is fsync; POSIX mode bits do not exist (the file gets the directory's ACL).
#include <io.h>
#define O_CLOEXEC (_O_BINARY | _O_NOINHERIT)
static inline int fsync(int fd) { return ::_commit(fd); }
static inline int fchmod(int, int) { return 0; }
#endif

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace edict::ctl {

// Reads at most `cap` bytes of `path`; a larger file is refused from its size, before
// anything is read or allocated.
bool ReadCapped(const std::string& path, size_t cap, std::string* out, std::string* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = absl::StrCat(path, ": ", std::strerror(errno));
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > cap) {
    ::close(fd);
    *err = absl::StrCat(path, ": ", st.st_size, " bytes; the cap is ", cap);
    return false;
  }
  out->clear();
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = absl::StrCat(path, ": ", std::strerror(errno));
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    if (out->size() + static_cast<size_t>(n) > cap) {
      ::close(fd);
      *err = absl::StrCat(path, ": more than ", cap, " bytes");
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// Writes `data` to `path` with exactly `mode` (fchmod, so the umask cannot widen or
// narrow it); with `exclusive`, an existing file is an error.
bool WriteFileMode(const std::string& path, const std::string& data, int mode, bool exclusive,
                   std::string* err) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, static_cast<mode_t>(mode));
  if (fd < 0) {
    *err = absl::StrCat(path, ": ", std::strerror(errno));
    return false;
  }
  bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      ok = false;
    else
      done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) *err = absl::StrCat(path, ": write failed: ", std::strerror(errno));
  return ok;
}

}  // namespace edict::ctl
