// Windows StateStore: one file per blob generation in a root directory (default
// %ProgramData%\edict), the same guarantees as the Linux store (ports/state_store.h).
//
// Layout for blob "state": `state` (current), `state.prev` (previous good generation),
// `state.tmp` and `state.prev-tmp` (transient; removed on open). A Write is:
//   write state.tmp (header, content), FlushFileBuffers, close
//   if `state` verifies: write its verified image to state.prev-tmp (flushed), then
//     MoveFileExW(state.prev-tmp -> state.prev, REPLACE_EXISTING | WRITE_THROUGH)
//   MoveFileExW(state.tmp -> state, REPLACE_EXISTING | WRITE_THROUGH)
// so `state` always names a complete old or new file and `state.prev` a complete older one.
// MOVEFILE_WRITE_THROUGH returns only once the rename is on disk, which stands in for the
// directory fsync of the Linux store (Windows has no portable directory flush). The previous
// generation is a copy, not a hard link, so the store works on any file system.

#ifndef EDICT_PORTS_WINDOWS_WIN_STATE_STORE_H_
#define EDICT_PORTS_WINDOWS_WIN_STATE_STORE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ports/fault_injector.h"
#include "ports/state_store.h"

namespace edict::ports {

struct WindowsStateStoreOptions {
  // Empty: %ProgramData%\edict (SHGetKnownFolderPath is avoided; the environment variable,
  // else C:\ProgramData).
  std::string root;
  // Consulted before every durable step; not owned; may be null.
  FaultInjector* faults = nullptr;
  // Largest blob accepted by Write and read back by Read.
  size_t max_blob_bytes = size_t{64} << 20;
  // Security descriptor (SDDL) of the root when this store creates it: by default a protected
  // DACL granting full control to SYSTEM, Administrators and the creator-owner only (the
  // Windows counterpart of mode 0700). Empty: inherit from the parent.
  std::string root_sddl = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)";
};

// The default state root: %ProgramData%\edict.
std::string DefaultWindowsStateRoot();

// Creates the root if needed and removes leftover temporary files.
absl::StatusOr<std::unique_ptr<StateStore>> OpenWindowsStateStore(
    const WindowsStateStoreOptions& options);

}  // namespace edict::ports

#endif  // EDICT_PORTS_WINDOWS_WIN_STATE_STORE_H_
