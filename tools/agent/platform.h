// What edict-agent needs from the OS, implemented once per platform (agent_linux.cc,
// agent_windows.cc): file primitives for the spool, the ports wired from the configuration,
// and the daemon's event source. The rest (agent.cc, agent_spool.cc, agent_daemon.cc, ...)
// is platform-neutral.
// Internal to tools/agent.
#ifndef EDICT_TOOLS_AGENT_PLATFORM_H_
#define EDICT_TOOLS_AGENT_PLATFORM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ports/audit.h"
#include "ports/device_identity.h"
#include "ports/fault_injector.h"
#include "ports/instance_lock.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"
#include "tools/agent/config.h"
#include "transport/activation.h"

namespace edict::agent::platform {

// ---- Files ----------------------------------------------------------------------------------

// `a` + separator + `b` (the platform's separator; `a` may already end in one).
std::string JoinPath(const std::string& a, const std::string& b);

// What decides whether a spool file changed: type, size, mtime and the file's identity
// (inode; 0 where the platform has none cheaply).
struct FileStat {
  bool regular = false;
  int64_t size = 0;
  int64_t mtime_ns = 0;  // since the Unix epoch
  uint64_t ino = 0;
  // Status change time (mode, owner, links; POSIX ctime; Windows: ChangeTime, which an owner
  // or DACL change moves), 0 where unknown. Not part of == (a spool file's settle check is
  // about content); catalogue change detection reads it so that a chmod (an ACL change)
  // making a catalogue acceptable or not is noticed.
  int64_t ctime_ns = 0;
  bool operator==(const FileStat& o) const {
    return regular == o.regular && size == o.size && mtime_ns == o.mtime_ns && ino == o.ino;
  }
};

// Does not follow symbolic links (a link is not a regular file).
bool StatFile(const std::string& path, FileStat* out);
// At most `cap` + 1 bytes of `path` (a file that grows past the cap while being read shows as
// a size above it). Never blocks on a FIFO or device and never follows a symbolic link in the
// last component: NotFound if it does not exist; FailedPrecondition ("... is a FIFO, not a
// regular file") for anything but a regular file; ResourceExhausted if the file system says
// it is larger than `cap` (nothing is read).
absl::StatusOr<std::string> ReadCapped(const std::string& path, size_t cap);
// ReadCapped for a file the agent trusts as configuration (a product catalogue): also
// refused (PermissionDenied, "refusing file PATH: reason") if it is owned by another user
// than the agent's or root, or is group- or world-writable (Linux); Windows: if it is owned
// by another than SYSTEM, Administrators, TrustedInstaller or the agent's user, or its DACL
// lets anyone else write (ports/windows/win_safe_dir.h CheckAdminOnlyWritable).
absl::StatusOr<std::string> ReadTrusted(const std::string& path, size_t cap);
// Entry names of `dir` (not "." and ".."), unsorted; empty if it cannot be read.
std::vector<std::string> ListDir(const std::string& dir);

// Directories the agent writes into or prunes (the spool, its processed/ and rejected/, the
// state directory, the audit file's directory, the native stores' directories) must not be
// reached through a symbolic link (Windows: a reparse point) nor be writable by anyone but
// the agent's user and the administrators (Linux: owned by the agent's euid or root, not
// group- or world-writable; ports/linux/safe_dir.h, ports/windows/win_safe_dir.h).
// PermissionDenied ("refusing directory PATH: reason") otherwise; OK if it does not exist.
absl::Status CheckAgentDir(const std::string& path);
// A directory of configuration the agent trusts (a catalogue directory): CheckAgentDir, and
// on Windows also the owner and DACL rules of ReadTrusted (there CheckAgentDir checks only
// for reparse points). OK if it does not exist.
absl::Status CheckTrustedDir(const std::string& path);
// CheckAgentDir for every directory `config` makes the agent write into or prune.
absl::Status CheckAgentDirs(const AgentConfig& config);
// Creates the spool directory if missing (readable by the agent's admins only) and checks it.
absl::Status MakeSpoolDir(const std::string& path);
// Moves entry `name` of the spool `dir` to `sub`/`new_name` (`sub`, one component of `dir`,
// created if missing), both directories checked and reached without following links.
absl::Status MoveToSubdir(const std::string& dir, const std::string& name, const std::string& sub,
                          const std::string& new_name);
// Removes entry `name` of `dir` (a link itself, never its target).
absl::Status RemoveEntry(const std::string& dir, const std::string& name);
// Keeps the `keep` last (by name) entries of `dir`/`sub` not starting with '.', removing the
// others; nothing if the directory is missing or refused by CheckAgentDir (that status).
absl::Status PruneSubdir(const std::string& dir, const std::string& sub, int keep);

// ---- Ports ----------------------------------------------------------------------------------

// The single-instance lock named by config.lock_file (a lock file, or a mutex name).
absl::StatusOr<std::unique_ptr<ports::InstanceLock>> AcquireLock(const AgentConfig& config);
absl::StatusOr<std::unique_ptr<ports::StateStore>> OpenStateStore(const AgentConfig& config,
                                                                  ports::FaultInjector* faults);
// The audit file, plus the system log (syslog / Event Log) when config.audit_syslog.
absl::StatusOr<std::vector<std::unique_ptr<ports::AuditSink>>> OpenAuditSinks(
    const AgentConfig& config, ports::FaultInjector* faults);
// The native stores the configuration enables (InvalidArgument for one this platform lacks).
absl::Status OpenNativeStores(const AgentConfig& config, ports::StateStore* state,
                              ports::FaultInjector* faults,
                              std::vector<std::unique_ptr<ports::NativePolicyStore>>* stores,
                              std::vector<transport::NativeTarget>* targets);
// The machine's own id (machine_id_file, MachineGuid), for a config without device_id.
absl::StatusOr<std::unique_ptr<ports::DeviceIdentity>> ReadMachineIdentity(
    const AgentConfig& config, ports::DeviceIdentityConfig identity);

// ---- Daemon events --------------------------------------------------------------------------

// The daemon loop's only source of wake-ups: spool changes, stop and reload requests.
class SpoolWatcher {
 public:
  struct Change {
    std::string name;
    bool removed = false;  // deleted or moved away
    bool closed = false;   // the writer is done with it (closed after writing, or moved in)
  };
  struct Wake {
    bool stop = false;
    bool reload = false;
    bool rescan = false;  // events were lost: look at the whole directory again
    std::vector<Change> changes;
  };

  virtual ~SpoolWatcher() = default;
  // (Re)starts watching `dir`.
  virtual absl::Status Watch(const std::string& dir) = 0;
  // Waits at most `timeout` (InfiniteDuration: no limit) for something to happen.
  virtual absl::StatusOr<Wake> Wait(absl::Duration timeout) = 0;
  // Whether the platform can tell that a file still has a writer (then a file seen changing
  // without a close notification is judged by this instead of waiting out the grace period).
  virtual bool ChecksWriters() const { return false; }
  // True if some process may still have `path` open for writing (false when unknown).
  virtual bool MayHaveWriter(const std::string& /*path*/) { return false; }
};

}  // namespace edict::agent::platform

#endif  // EDICT_TOOLS_AGENT_PLATFORM_H_
