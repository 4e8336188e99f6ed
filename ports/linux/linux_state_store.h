// Linux StateStore: one file per blob generation in a root directory.
//
// Layout for blob "state": `state` (current), `state.prev` (previous good generation),
// `state.tmp` and `state.prev-tmp` (transient; removed on open). A Write is:
//   write state.tmp (header, content), fsync, close
//   if `state` verifies: link state -> state.prev-tmp, rename state.prev-tmp -> state.prev
//   rename state.tmp -> state, fsync the directory
// so `state` always names a complete old or new file, and `state.prev` a complete older one.

#ifndef EDICT_PORTS_LINUX_LINUX_STATE_STORE_H_
#define EDICT_PORTS_LINUX_LINUX_STATE_STORE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ports/fault_injector.h"
#include "ports/state_store.h"

namespace edict::ports {

struct LinuxStateStoreOptions {
  std::string root = "/var/lib/edict";
  // Consulted before every durable step; not owned; may be null.
  FaultInjector* faults = nullptr;
  // Largest blob accepted by Write and read back by Read.
  size_t max_blob_bytes = size_t{64} << 20;
};

// Creates the root (mode 0700) if needed and removes leftover temporary files.
absl::StatusOr<std::unique_ptr<StateStore>> OpenLinuxStateStore(
    const LinuxStateStoreOptions& options);

}  // namespace edict::ports

#endif  // EDICT_PORTS_LINUX_LINUX_STATE_STORE_H_
