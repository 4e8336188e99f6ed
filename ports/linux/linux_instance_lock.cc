#include "ports/linux/linux_instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ports/io_status.h"
#include "ports/linux/posix_io.h"

namespace edict::ports {
namespace {

class LinuxInstanceLock : public InstanceLock {
 public:
  LinuxInstanceLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~LinuxInstanceLock() override {
    // Clear the pid so a reader never blames a process that no longer holds the lock.
    (void)::ftruncate(fd_, 0);
    ::close(fd_);
  }
  LinuxInstanceLock(const LinuxInstanceLock&) = delete;
  LinuxInstanceLock& operator=(const LinuxInstanceLock&) = delete;

  std::string Name() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InstanceLock>> AcquireLinuxInstanceLock(
    const LinuxInstanceLockOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) return absl::InvalidArgumentError("instance lock path is empty");
  posix::PosixIo io(nullptr);
  if (absl::Status s = io.MakeDirs(posix::DirName(path), 0755); !s.ok()) return s;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return IoErrorStatus(errno, "open lock file", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error != EWOULDBLOCK) return IoErrorStatus(error, "lock", path);
    std::string holder;
    absl::StatusOr<std::string> text = posix::PosixIo::ReadFile(path, 64);
    int pid = 0;
    if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) && pid > 0) {
      holder = absl::StrCat(" (pid ", pid, ")");
    }
    return absl::FailedPreconditionError(
        absl::StrCat("another edict instance holds ", path, holder));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd);
    return IoErrorStatus(error, "write pid to", path);
  }
  return std::unique_ptr<InstanceLock>(new LinuxInstanceLock(path, fd));
}

}  // namespace edict::ports
