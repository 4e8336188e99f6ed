// edict-agent on Windows: Win32 file primitives, the Windows ports (state files under
// %ProgramData%\edict, named mutex, Event Log + JSON-lines audit, MachineGuid, registry
// policy store), and the daemon's events from ReadDirectoryChangesW (polling when it is
// unavailable), the stop/reload event handles and the console control handler.
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ports/windows/registry_store.h"
#include "ports/windows/win_audit.h"
#include "ports/windows/win_dir_watch.h"
#include "ports/windows/win_identity.h"
#include "ports/windows/win_instance_lock.h"
#include "ports/windows/win_io.h"
#include "ports/windows/win_safe_dir.h"
#include "ports/windows/win_state_store.h"
#include "tools/agent/agent.h"
#include "tools/agent/platform.h"

namespace edict::agent {
namespace platform {
namespace {

using ports::win::Narrow;
using ports::win::Widen;
using ports::win::Win32ErrorStatus;

// FILETIME (100 ns since 1601) to ns since the Unix epoch.
int64_t UnixNanos(const FILETIME& ft) {
  const int64_t t = (static_cast<int64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
  return (t - 116444736000000000LL) * 100;
}

// SYSTEM and Administrators only (plus the creator): the spool is where policy enters.
constexpr char kSpoolSddl[] = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)";

}  // namespace

std::string JoinPath(const std::string& a, const std::string& b) {
  return ports::win::JoinPath(a, b);
}

bool StatFile(const std::string& path, FileStat* out) {
  WIN32_FILE_ATTRIBUTE_DATA d;
  if (!::GetFileAttributesExW(Widen(path).c_str(), GetFileExInfoStandard, &d)) return false;
  out->regular = (d.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT |
                                        FILE_ATTRIBUTE_DEVICE)) == 0;
  out->size = (static_cast<int64_t>(d.nFileSizeHigh) << 32) | d.nFileSizeLow;
  out->mtime_ns = UnixNanos(d.ftLastWriteTime);
  out->ino = 0;
  // ChangeTime also moves when the owner or DACL changes: as the POSIX ctime on Linux, it lets
  // the daemon notice a catalogue made acceptable (or not) by its security alone. 0 if unread.
  out->ctime_ns = 0;
  HANDLE h =
      ::CreateFileW(Widen(path).c_str(), FILE_READ_ATTRIBUTES,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h != INVALID_HANDLE_VALUE) {
    FILE_BASIC_INFO basic;
    if (::GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof(basic))) {
      FILETIME ft;
      ft.dwLowDateTime = basic.ChangeTime.LowPart;
      ft.dwHighDateTime = static_cast<DWORD>(basic.ChangeTime.HighPart);
      out->ctime_ns = UnixNanos(ft);
    }
    ::CloseHandle(h);
  }
  return true;
}

absl::StatusOr<std::string> ReadCapped(const std::string& path, size_t cap) {
  return ports::win::ReadRegularFile(path, cap);
}

absl::StatusOr<std::string> ReadTrusted(const std::string& path, size_t cap) {
  return ports::win::ReadRegularFile(path, cap, /*admin_only=*/true);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  WIN32_FIND_DATAW fd;
  HANDLE h = ::FindFirstFileW(Widen(ports::win::JoinPath(dir, "*")).c_str(), &fd);
  if (h == INVALID_HANDLE_VALUE) return out;
  do {
    const std::string name = Narrow(fd.cFileName);
    if (name != "." && name != "..") out.push_back(name);
  } while (::FindNextFileW(h, &fd));
  ::FindClose(h);
  return out;
}

absl::Status CheckAgentDir(const std::string& path) {
  absl::Status s = ports::win::CheckSafeDir(path);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::Status CheckTrustedDir(const std::string& path) {
  // CheckSafeDir first: it also refuses a file where a directory should be.
  absl::Status s = ports::win::CheckSafeDir(path);
  if (s.ok()) s = ports::win::CheckAdminOnlyWritable(path);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::Status CheckAgentDirs(const AgentConfig& config) {
  // The registry store has no directories; the rest are the agent's own.
  for (const std::string& dir : {config.spool_dir, JoinPath(config.spool_dir, "processed"),
                                 JoinPath(config.spool_dir, "rejected"), config.state_dir,
                                 ports::win::DirName(config.audit_file)}) {
    if (dir.empty()) continue;
    if (absl::Status s = CheckAgentDir(dir); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status MakeSpoolDir(const std::string& path) {
  (void)ports::win::WinIo(nullptr).MakeDirs(path, kSpoolSddl);
  return ports::win::CheckSafeDir(path);
}

absl::Status MoveToSubdir(const std::string& dir, const std::string& name, const std::string& sub,
                          const std::string& new_name) {
  if (absl::Status s = ports::win::CheckSafeDir(dir); !s.ok()) return s;
  const std::string to_dir = JoinPath(dir, sub);
  if (absl::Status s = MakeSpoolDir(to_dir); !s.ok()) return s;
  const std::string from = JoinPath(dir, name);
  // Renaming a reparse point moves the link itself, never its target.
  if (!::MoveFileExW(Widen(from).c_str(), Widen(JoinPath(to_dir, new_name)).c_str(),
                     MOVEFILE_WRITE_THROUGH)) {
    return Win32ErrorStatus(::GetLastError(), "rename", from);
  }
  return absl::OkStatus();
}

absl::Status RemoveEntry(const std::string& dir, const std::string& name) {
  if (absl::Status s = ports::win::CheckSafeDir(dir); !s.ok()) return s;
  const std::string path = JoinPath(dir, name);
  if (!::DeleteFileW(Widen(path).c_str())) {
    return Win32ErrorStatus(::GetLastError(), "delete", path);
  }
  return absl::OkStatus();
}

absl::Status PruneSubdir(const std::string& dir, const std::string& sub, int keep) {
  const std::string path = JoinPath(dir, sub);
  for (const std::string& d : {dir, path}) {
    absl::Status s = ports::win::CheckSafeDir(d);
    if (absl::IsNotFound(s)) return absl::OkStatus();
    if (!s.ok()) return s;
  }
  std::vector<std::string> names;
  for (std::string& n : ListDir(path)) {
    if (!n.empty() && n[0] != '.') names.push_back(std::move(n));
  }
  if (static_cast<int>(names.size()) <= keep) return absl::OkStatus();
  std::sort(names.begin(), names.end());  // "<20-digit ns>-<seq>-<name>": oldest first
  absl::Status result;
  for (size_t i = 0; i + keep < names.size(); ++i) {
    const std::string f = JoinPath(path, names[i]);
    if (!::DeleteFileW(Widen(f).c_str()) && result.ok()) {
      result = Win32ErrorStatus(::GetLastError(), "delete", f);
    }
  }
  return result;
}

absl::StatusOr<std::unique_ptr<ports::InstanceLock>> AcquireLock(const AgentConfig& config) {
  ports::WindowsInstanceLockOptions lo;
  lo.name = config.lock_file;
  return ports::AcquireWindowsInstanceLock(lo);
}

absl::StatusOr<std::unique_ptr<ports::StateStore>> OpenStateStore(const AgentConfig& config,
                                                                  ports::FaultInjector* faults) {
  ports::WindowsStateStoreOptions so;
  so.root = config.state_dir;
  so.faults = faults;
  return ports::OpenWindowsStateStore(so);
}

absl::StatusOr<std::vector<std::unique_ptr<ports::AuditSink>>> OpenAuditSinks(
    const AgentConfig& config, ports::FaultInjector* faults) {
  std::vector<std::unique_ptr<ports::AuditSink>> sinks;
  ports::WindowsJsonLinesAuditOptions ao;
  ao.path = config.audit_file;
  ao.max_file_bytes = config.audit_max_bytes;
  ao.keep_files = config.audit_keep_files;
  ao.sync_each_event = config.audit_sync;
  ao.faults = faults;
  auto file_sink = ports::OpenWindowsJsonLinesAuditSink(ao);
  if (!file_sink.ok()) return file_sink.status();
  sinks.push_back(*std::move(file_sink));
  if (config.audit_syslog) {
    auto log = ports::OpenEventLogAuditSink({});
    if (log.ok()) sinks.push_back(*std::move(log));
  }
  return sinks;
}

absl::Status OpenNativeStores(const AgentConfig& config, ports::StateStore* state,
                              ports::FaultInjector* faults,
                              std::vector<std::unique_ptr<ports::NativePolicyStore>>* stores,
                              std::vector<transport::NativeTarget>* targets) {
  if (config.managed_json || config.dconf) {
    return absl::InvalidArgumentError(
        "managed_json and dconf exist on Linux only; Windows uses the registry store");
  }
  if (config.registry) {
    ports::RegistryPolicyOptions ro;
    ro.local_machine = config.registry_local_machine;
    ro.base_key = config.registry_key;
    ro.vendor = config.registry_vendor;
    ro.product = config.registry_product;
    ro.state = state;
    ro.faults = faults;
    auto store = ports::OpenRegistryPolicyStore(std::move(ro));
    if (!store.ok()) return store.status();
    stores->push_back(*std::move(store));
    targets->push_back({stores->back().get(), transport::NativeKeyStyle::kCatalog});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ports::DeviceIdentity>> ReadMachineIdentity(
    const AgentConfig&, ports::DeviceIdentityConfig identity) {
  ports::WindowsDeviceIdentityOptions o;
  o.config = std::move(identity);
  return ports::ReadWindowsDeviceIdentity(o);
}

namespace {

// Ctrl+C, Ctrl+Break, console close and system shutdown set this event (not logoff: a
// service keeps running when a user logs off).
HANDLE ConsoleStopEvent() {
  static HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  return event;
}

BOOL WINAPI OnConsoleControl(DWORD type) {
  if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT ||
      type == CTRL_SHUTDOWN_EVENT) {
    ::SetEvent(ConsoleStopEvent());
    return TRUE;
  }
  return FALSE;
}

// How often the spool is listed when ReadDirectoryChangesW is not available.
constexpr DWORD kPollMs = 1000;

class WinSpoolWatcher : public SpoolWatcher {
 public:
  WinSpoolWatcher(HANDLE stop, HANDLE reload) : stop_(stop), reload_(reload) {
    ::ResetEvent(ConsoleStopEvent());
    ::SetConsoleCtrlHandler(OnConsoleControl, TRUE);
  }
  ~WinSpoolWatcher() override { ::SetConsoleCtrlHandler(OnConsoleControl, FALSE); }

  absl::Status Watch(const std::string& dir) override {
    dir_.reset();
    auto w = ports::OpenDirectoryWatcher(dir);
    if (w.ok()) {
      dir_ = *std::move(w);
    }
    // Otherwise Wait polls: the agent keeps working on a spool that cannot be watched.
    return absl::OkStatus();
  }

  absl::StatusOr<Wake> Wait(absl::Duration timeout) override {
    Wake wake;
    HANDLE handles[4];
    DWORD n = 0;
    const DWORD stop_end = [&] {
      if (stop_) handles[n++] = stop_;
      handles[n++] = ConsoleStopEvent();
      return n;
    }();
    const DWORD reload_at = reload_ ? n : MAXDWORD;
    if (reload_) handles[n++] = reload_;
    const DWORD dir_at = dir_ ? n : MAXDWORD;
    if (dir_) handles[n++] = dir_->event();
    DWORD ms = INFINITE;
    if (timeout != absl::InfiniteDuration()) {
      ms = static_cast<DWORD>(std::min<int64_t>(absl::ToInt64Milliseconds(timeout) + 1, 3600000));
    }
    if (!dir_) ms = std::min(ms, kPollMs);
    const DWORD r = ::WaitForMultipleObjects(n, handles, FALSE, ms);
    if (r == WAIT_TIMEOUT) {
      wake.rescan = !dir_;
      return wake;
    }
    if (r == WAIT_FAILED) return Win32ErrorStatus(::GetLastError(), "WaitForMultipleObjects", "");
    const DWORD i = r - WAIT_OBJECT_0;
    if (i < stop_end) {
      wake.stop = true;
    } else if (i == reload_at) {
      wake.reload = true;
    } else if (i == dir_at) {
      std::vector<ports::DirectoryChange> changes;
      bool overflow = false;
      if (absl::Status s = dir_->Collect(&changes, &overflow); !s.ok()) {
        dir_.reset();  // the watch died (e.g. the directory was replaced): poll from now on
        overflow = true;
      }
      wake.rescan = overflow;
      for (ports::DirectoryChange& c : changes) {
        Change out;
        out.name = std::move(c.name);
        using A = ports::DirectoryChange::Action;
        out.removed = c.action == A::kRemoved || c.action == A::kRenamedFrom;
        out.closed = c.action == A::kRenamedTo;
        wake.changes.push_back(std::move(out));
      }
    }
    return wake;
  }

  bool ChecksWriters() const override { return true; }
  bool MayHaveWriter(const std::string& path) override { return ports::FileHasWriter(path); }

 private:
  HANDLE stop_;
  HANDLE reload_;
  std::unique_ptr<ports::DirectoryWatcher> dir_;
};

}  // namespace
}  // namespace platform

absl::Status Agent::Run(void* stop_event, void* reload_event) {
  platform::WinSpoolWatcher watcher(static_cast<HANDLE>(stop_event),
                                    static_cast<HANDLE>(reload_event));
  return RunLoop(watcher);
}

}  // namespace edict::agent
