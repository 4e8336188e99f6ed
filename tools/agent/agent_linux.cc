// edict-agent on Linux: POSIX file primitives, the Linux ports (files, flock, syslog, managed
// JSON, dconf), and the daemon's events from inotify, a signalfd and the test's stop fd.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ports/linux/dconf_store.h"
#include "ports/linux/linux_audit.h"
#include "ports/linux/linux_identity.h"
#include "ports/linux/linux_instance_lock.h"
#include "ports/linux/linux_state_store.h"
#include "ports/linux/managed_json_store.h"
#include "ports/linux/posix_io.h"
#include "ports/linux/safe_dir.h"
#include "tools/agent/agent.h"
#include "tools/agent/platform.h"

namespace edict::agent {
namespace platform {
namespace {

absl::Status Errno(int e, absl::string_view what, absl::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(e),
                      absl::StrCat(what, " ", path, ": ", std::strerror(e)));
}

}  // namespace

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

bool StatFile(const std::string& path, FileStat* out) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  out->regular = S_ISREG(st.st_mode);
  out->size = st.st_size;
  out->mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  out->ino = st.st_ino;
  out->ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  return true;
}

absl::StatusOr<std::string> ReadCapped(const std::string& path, size_t cap) {
  return ports::posix::ReadRegularFile(AT_FDCWD, path, cap, path);
}

absl::StatusOr<std::string> ReadTrusted(const std::string& path, size_t cap) {
  return ports::posix::ReadRegularFile(AT_FDCWD, path, cap, path, /*strict_modes=*/true);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

absl::Status CheckAgentDir(const std::string& path) {
  absl::Status s = ports::posix::CheckSafeDir(path);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::Status CheckTrustedDir(const std::string& path) { return CheckAgentDir(path); }

absl::Status CheckAgentDirs(const AgentConfig& config) {
  using ports::posix::CheckSafeDirTree;
  for (const std::string& dir : {config.spool_dir, JoinPath(config.spool_dir, "processed"),
                                 JoinPath(config.spool_dir, "rejected"), config.state_dir,
                                 ports::posix::DirName(config.audit_file)}) {
    if (absl::Status s = CheckAgentDir(dir); !s.ok()) return s;
  }
  // Native stores: every directory below native_root down to where the files are written.
  std::vector<std::string> native;
  if (config.managed_json) {
    std::vector<std::string> dirs;
    for (const JsonTarget& t : config.managed_json_targets) {
      dirs.push_back(t.dir.empty() ? absl::StrCat("etc/", t.name, "/policies") : t.dir);
    }
    if (config.managed_json_targets.empty()) {
      dirs = {"etc/chromium/policies", "etc/opt/chrome/policies"};
    }
    for (const std::string& d : dirs) {
      native.push_back(d + "/managed");
      native.push_back(d + "/recommended");
    }
  }
  if (config.dconf) {
    native.push_back(absl::StrCat("etc/dconf/db/", config.dconf_db, ".d/locks"));
    native.push_back("etc/dconf/profile");
  }
  for (const std::string& rel : native) {
    if (absl::Status s = CheckSafeDirTree(config.native_root, rel); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status MakeSpoolDir(const std::string& path) {
  return ports::posix::SafeDir::Open(path, /*create=*/true, 0750).status();
}

absl::Status MoveToSubdir(const std::string& dir, const std::string& name, const std::string& sub,
                          const std::string& new_name) {
  auto from = ports::posix::SafeDir::Open(dir);
  if (!from.ok()) return from.status();
  auto to = from->Sub(sub, /*create=*/true, 0750);
  if (!to.ok()) return to.status();
  return from->RenameTo(name, *to, new_name);
}

absl::Status RemoveEntry(const std::string& dir, const std::string& name) {
  auto d = ports::posix::SafeDir::Open(dir);
  if (!d.ok()) return d.status();
  return d->Unlink(name);
}

absl::Status PruneSubdir(const std::string& dir, const std::string& sub, int keep) {
  auto parent = ports::posix::SafeDir::Open(dir);
  if (!parent.ok()) return absl::IsNotFound(parent.status()) ? absl::OkStatus() : parent.status();
  auto d = parent->Sub(sub);
  if (!d.ok()) return absl::IsNotFound(d.status()) ? absl::OkStatus() : d.status();
  std::vector<std::string> names;
  for (std::string& n : d->List()) {
    if (!n.empty() && n[0] != '.') names.push_back(std::move(n));
  }
  if (static_cast<int>(names.size()) <= keep) return absl::OkStatus();
  std::sort(names.begin(), names.end());  // "<20-digit ns>-<seq>-<name>": oldest first
  absl::Status result;
  for (size_t i = 0; i + keep < names.size(); ++i) {
    absl::Status s = d->Unlink(names[i]);
    if (result.ok() && !s.ok()) result = s;
  }
  return result;
}

absl::StatusOr<std::unique_ptr<ports::InstanceLock>> AcquireLock(const AgentConfig& config) {
  ports::LinuxInstanceLockOptions lo;
  lo.path = config.lock_file;
  return ports::AcquireLinuxInstanceLock(lo);
}

absl::StatusOr<std::unique_ptr<ports::StateStore>> OpenStateStore(const AgentConfig& config,
                                                                  ports::FaultInjector* faults) {
  ports::LinuxStateStoreOptions so;
  so.root = config.state_dir;
  so.faults = faults;
  return ports::OpenLinuxStateStore(so);
}

absl::StatusOr<std::vector<std::unique_ptr<ports::AuditSink>>> OpenAuditSinks(
    const AgentConfig& config, ports::FaultInjector* faults) {
  std::vector<std::unique_ptr<ports::AuditSink>> sinks;
  ports::JsonLinesAuditOptions ao;
  ao.path = config.audit_file;
  ao.max_file_bytes = config.audit_max_bytes;
  ao.keep_files = config.audit_keep_files;
  ao.sync_each_event = config.audit_sync;
  ao.faults = faults;
  auto file_sink = ports::OpenJsonLinesAuditSink(ao);
  if (!file_sink.ok()) return file_sink.status();
  sinks.push_back(*std::move(file_sink));
  if (config.audit_syslog) {
    auto sys = ports::OpenSyslogAuditSink({});
    if (sys.ok()) sinks.push_back(*std::move(sys));
  }
  return sinks;
}

absl::Status OpenNativeStores(const AgentConfig& config, ports::StateStore* state,
                              ports::FaultInjector* faults,
                              std::vector<std::unique_ptr<ports::NativePolicyStore>>* stores,
                              std::vector<transport::NativeTarget>* targets) {
  if (config.registry) {
    return absl::InvalidArgumentError("registry: the registry store exists on Windows only");
  }
  if (config.managed_json) {
    ports::ManagedJsonOptions mo;
    mo.root = config.native_root;
    for (const JsonTarget& t : config.managed_json_targets) {
      mo.targets.push_back({t.name, t.dir, t.prefix, t.recommended});
    }
    mo.file_name = config.managed_json_file;
    mo.state = state;
    mo.faults = faults;
    auto store = ports::OpenManagedJsonStore(std::move(mo));
    if (!store.ok()) return store.status();
    stores->push_back(*std::move(store));
    targets->push_back({stores->back().get(), transport::NativeKeyStyle::kCatalog});
  }
  if (config.dconf) {
    ports::DconfOptions dopt;
    dopt.root = config.native_root;
    dopt.db = config.dconf_db;
    dopt.priority = config.dconf_priority;
    dopt.profile = config.dconf_profile;
    dopt.path_prefix = config.dconf_path_prefix;
    if (!config.dconf_update) dopt.update_command.clear();
    dopt.state = state;
    dopt.faults = faults;
    auto store = ports::OpenDconfStore(std::move(dopt));
    if (!store.ok()) return store.status();
    stores->push_back(*std::move(store));
    targets->push_back({stores->back().get(), transport::NativeKeyStyle::kGSettings});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ports::DeviceIdentity>> ReadMachineIdentity(
    const AgentConfig& config, ports::DeviceIdentityConfig identity) {
  ports::LinuxDeviceIdentityOptions o;
  o.machine_id_path = config.machine_id_file;
  o.config = std::move(identity);
  return ports::ReadLinuxDeviceIdentity(o);
}

namespace {

// inotify on the spool, SIGHUP/SIGTERM/SIGINT through a signalfd (blocked while it lives),
// and an optional stop fd (readable means stop).
class LinuxSpoolWatcher : public SpoolWatcher {
 public:
  explicit LinuxSpoolWatcher(int stop_fd) : stop_fd_(stop_fd) {
    sigemptyset(&mask_);
    sigaddset(&mask_, SIGHUP);
    sigaddset(&mask_, SIGTERM);
    sigaddset(&mask_, SIGINT);
  }
  ~LinuxSpoolWatcher() override {
    if (ifd_ >= 0) ::close(ifd_);
    if (sfd_ >= 0) ::close(sfd_);
    if (blocked_) ::pthread_sigmask(SIG_UNBLOCK, &mask_, nullptr);
  }

  absl::Status Init() {
    if (::pthread_sigmask(SIG_BLOCK, &mask_, nullptr) != 0) {
      return absl::InternalError("cannot block signals");
    }
    blocked_ = true;
    sfd_ = ::signalfd(-1, &mask_, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd_ < 0) return Errno(errno, "signalfd", "");
    return absl::OkStatus();
  }

  absl::Status Watch(const std::string& dir) override {
    if (ifd_ >= 0) ::close(ifd_);
    ifd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd_ < 0) return Errno(errno, "inotify_init1", "");
    const int wd = ::inotify_add_watch(ifd_, dir.c_str(),
                                       IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY |
                                           IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
    if (wd < 0) return Errno(errno, "inotify_add_watch", dir);
    return absl::OkStatus();
  }

  absl::StatusOr<Wake> Wait(absl::Duration timeout) override {
    Wake wake;
    pollfd fds[3] = {{sfd_, POLLIN, 0}, {ifd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int nfds = stop_fd_ >= 0 ? 3 : 2;
    const int timeout_ms =
        timeout == absl::InfiniteDuration()
            ? -1
            : static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(timeout) + 1, 3600000));
    const int n = ::poll(fds, nfds, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return wake;
      return Errno(errno, "poll", "");
    }
    if (nfds == 3 && (fds[2].revents & (POLLIN | POLLHUP))) {
      wake.stop = true;
      return wake;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(sfd_, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
        if (si.ssi_signo == SIGHUP) {
          wake.reload = true;
        } else {
          wake.stop = true;
        }
      }
      if (wake.stop || wake.reload) return wake;
    }
    if (fds[1].revents & POLLIN) {
      alignas(struct inotify_event) char buf[16384];
      for (;;) {
        const ssize_t len = ::read(ifd_, buf, sizeof(buf));
        if (len <= 0) break;
        for (char* p = buf; p < buf + len;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(p);
          p += sizeof(inotify_event) + ev->len;
          if (ev->mask & IN_Q_OVERFLOW) {
            wake.rescan = true;
            continue;
          }
          if (ev->len == 0) continue;
          Change c;
          c.name = ev->name;
          c.removed = (ev->mask & (IN_DELETE | IN_MOVED_FROM)) != 0;
          c.closed = (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0;
          wake.changes.push_back(std::move(c));
        }
      }
    }
    return wake;
  }

 private:
  int stop_fd_;
  sigset_t mask_;
  bool blocked_ = false;
  int sfd_ = -1;
  int ifd_ = -1;
};

}  // namespace
}  // namespace platform

absl::Status Agent::Run(int stop_fd) {
  platform::LinuxSpoolWatcher watcher(stop_fd);
  if (absl::Status s = watcher.Init(); !s.ok()) return s;
  return RunLoop(watcher);
}

}  // namespace edict::agent
