// Single-instance guard: two agents must never activate or materialise at the same time.

#ifndef EDICT_PORTS_INSTANCE_LOCK_H_
#define EDICT_PORTS_INSTANCE_LOCK_H_

#include <string>

namespace edict::ports {

// Held while the object lives; released by the destructor (and by the OS when the process
// dies, so a crashed agent never leaves a stale lock). Platform factories acquire it:
// Linux AcquireLinuxInstanceLock (flock), Windows a named mutex. A second acquisition while
// held fails with FailedPrecondition naming the lock and, when known, the holder's pid.
// Not copyable; the object itself is not meant to be shared between threads.
class InstanceLock {
 public:
  virtual ~InstanceLock() = default;

  // What is locked, for messages ("/run/edict/agent.lock").
  virtual std::string Name() const = 0;
};

}  // namespace edict::ports

#endif  // EDICT_PORTS_INSTANCE_LOCK_H_
