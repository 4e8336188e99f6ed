// Windows single-instance lock: a named mutex.

#ifndef EDICT_PORTS_WINDOWS_WIN_INSTANCE_LOCK_H_
#define EDICT_PORTS_WINDOWS_WIN_INSTANCE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ports/instance_lock.h"

namespace edict::ports {

struct WindowsInstanceLockOptions {
  // Kernel object name. "Global\" spans sessions (the service and an interactive
  // `edict-agent` run); tests use "Local\edict-test-...".
  std::string name = "Global\\edict-agent";
};

// Creates or opens the named mutex and takes it without waiting. If another holder exists
// (another process, or another lock object in this process): FailedPrecondition "another
// edict instance holds <name>". A mutex abandoned by a holder that died is taken over (the
// OS releases it with the process). Destroy the lock on the thread that acquired it (a Win32
// mutex is owned by a thread).
absl::StatusOr<std::unique_ptr<InstanceLock>> AcquireWindowsInstanceLock(
    const WindowsInstanceLockOptions& options);

}  // namespace edict::ports

#endif  // EDICT_PORTS_WINDOWS_WIN_INSTANCE_LOCK_H_
