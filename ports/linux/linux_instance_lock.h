// Linux single-instance lock: flock(2) on a lock file holding the holder's pid.

#ifndef EDICT_PORTS_LINUX_LINUX_INSTANCE_LOCK_H_
#define EDICT_PORTS_LINUX_LINUX_INSTANCE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ports/instance_lock.h"

namespace edict::ports {

struct LinuxInstanceLockOptions {
  std::string path = "/run/edict/agent.lock";
};

// Creates the parent directory and the lock file if needed, takes an exclusive flock without
// waiting and writes this process's pid into the file. If another holder exists (another
// process, or another lock object in this one): FailedPrecondition
// "another edict instance holds <path> (pid <n>)" (pid omitted if unknown). The lock is
// released when the object is destroyed or the process dies. The file is never removed
// (removing it would let two processes lock different inodes).
absl::StatusOr<std::unique_ptr<InstanceLock>> AcquireLinuxInstanceLock(
    const LinuxInstanceLockOptions& options);

}  // namespace edict::ports

#endif  // EDICT_PORTS_LINUX_LINUX_INSTANCE_LOCK_H_
