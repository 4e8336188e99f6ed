#include "ports/linux/linux_audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ports/io_status.h"
#include "ports/linux/posix_io.h"

namespace edict::ports {
namespace {

using posix::PosixIo;

class JsonLinesAuditSink : public AuditSink {
 public:
  explicit JsonLinesAuditSink(const JsonLinesAuditOptions& options)
      : options_(options), io_(options.faults) {}

  ~JsonLinesAuditSink() override {
    absl::MutexLock lock(&mu_);
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Open() {
    absl::MutexLock lock(&mu_);
    return OpenLocked();
  }

  absl::Status Record(const AuditEvent& event) override {
    std::string line = FormatAuditJson(event);
    line.push_back('\n');
    absl::MutexLock lock(&mu_);
    if (fd_ < 0) {
      if (absl::Status s = OpenLocked(); !s.ok()) return s;
    }
    if (size_ > 0 && size_ + line.size() > options_.max_file_bytes) {
      if (absl::Status s = RotateLocked(); !s.ok()) return s;
    }
    if (absl::Status s = io_.Check(IoOp::kWrite, options_.path, "write"); !s.ok()) return s;
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        absl::Status s = IoErrorStatus(errno, "write", options_.path);
        // Drop a partial line so the file stays parseable line by line.
        if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
          size_ += done;
        }
        return s;
      }
      done += static_cast<size_t>(n);
    }
    size_ += line.size();
    if (options_.sync_each_event) {
      if (absl::Status s = io_.Check(IoOp::kFsync, options_.path, "fsync"); !s.ok()) return s;
      if (::fdatasync(fd_) != 0) return IoErrorStatus(errno, "fsync", options_.path);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (absl::Status s = io_.MakeDirs(posix::DirName(options_.path), 0750); !s.ok()) return s;
    if (absl::Status s = io_.Check(IoOp::kOpen, options_.path, "open"); !s.ok()) return s;
    // A link or FIFO planted as the audit file is refused, never followed or blocked on.
    fd_ = ::open(options_.path.c_str(),
                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);
    if (fd_ < 0) {
      if (errno == ELOOP || errno == ENXIO) {
        return absl::FailedPreconditionError(
            absl::StrCat("audit file ", options_.path, " is not a regular file"));
      }
      return IoErrorStatus(errno, "open", options_.path);
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
      const int error = errno;
      ::close(fd_);
      fd_ = -1;
      return IoErrorStatus(error, "stat", options_.path);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("audit file ", options_.path, " is not a regular file"));
    }
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) (void)::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
    size_ = static_cast<size_t>(st.st_size);
    return absl::OkStatus();
  }

  std::string Rotated(int n) const { return absl::StrCat(options_.path, ".", n); }

  // path.(k-1) is dropped, path.i -> path.(i+1), path -> path.1, fresh path.
  absl::Status RotateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (options_.keep_files <= 1) {
      // Nothing kept: start the file over.
      if (absl::Status s = io_.Check(IoOp::kOpen, options_.path, "truncate"); !s.ok()) return s;
      if (::ftruncate(fd_, 0) != 0) return IoErrorStatus(errno, "truncate", options_.path);
      size_ = 0;
      return absl::OkStatus();
    }
    const int last = options_.keep_files - 1;
    if (absl::Status s = io_.Unlink(Rotated(last), /*missing_ok=*/true); !s.ok()) return s;
    for (int i = last - 1; i >= 1; --i) {
      if (!PosixIo::Exists(Rotated(i))) continue;
      if (absl::Status s = io_.Rename(Rotated(i), Rotated(i + 1)); !s.ok()) return s;
    }
    if (absl::Status s = io_.Rename(options_.path, Rotated(1)); !s.ok()) return s;
    ::close(fd_);
    fd_ = -1;
    return OpenLocked();
  }

  const JsonLinesAuditOptions options_;
  PosixIo io_;
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

class SyslogAuditSink : public AuditSink {
 public:
  explicit SyslogAuditSink(SyslogAuditOptions options) : options_(std::move(options)) {
    if (!options_.emit) {
      ::openlog(options_.ident.c_str(), LOG_PID | LOG_NDELAY,
                options_.facility < 0 ? LOG_DAEMON : options_.facility);
    }
  }
  ~SyslogAuditSink() override {
    if (!options_.emit) ::closelog();
  }

  absl::Status Record(const AuditEvent& event) override {
    int priority = LOG_INFO;
    switch (event.kind) {
      case AuditKind::kRejection:
        priority = LOG_WARNING;
        break;
      case AuditKind::kError:
      case AuditKind::kStateFallback:
        priority = LOG_ERR;
        break;
      default:
        break;
    }
    std::string line = absl::StrCat("kind=", AuditKindName(event.kind), " code=", event.code);
    if (event.serial.has_value()) absl::StrAppend(&line, " serial=", *event.serial);
    line.push_back(' ');
    // One line per event: control characters would split or forge journal lines.
    const size_t limit = std::min(event.message.size(), kMaxAuditMessageBytes);
    for (size_t i = 0; i < limit; ++i) {
      const unsigned char c = static_cast<unsigned char>(event.message[i]);
      line.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
    }
    absl::MutexLock lock(&mu_);
    if (options_.emit) {
      options_.emit(priority, line);
    } else {
      ::syslog(priority, "%s", line.c_str());
    }
    return absl::OkStatus();
  }

 private:
  const SyslogAuditOptions options_;
  absl::Mutex mu_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AuditSink>> OpenJsonLinesAuditSink(
    const JsonLinesAuditOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("audit file path is empty");
  if (options.keep_files < 1) return absl::InvalidArgumentError("audit keep_files must be >= 1");
  if (options.max_file_bytes == 0) {
    return absl::InvalidArgumentError("audit max_file_bytes must be > 0");
  }
  auto sink = std::make_unique<JsonLinesAuditSink>(options);
  if (absl::Status s = sink->Open(); !s.ok()) return s;
  return std::unique_ptr<AuditSink>(std::move(sink));
}

absl::StatusOr<std::unique_ptr<AuditSink>> OpenSyslogAuditSink(SyslogAuditOptions options) {
  if (options.ident.empty()) return absl::InvalidArgumentError("syslog ident is empty");
  return std::unique_ptr<AuditSink>(new SyslogAuditSink(std::move(options)));
}

}  // namespace edict::ports
