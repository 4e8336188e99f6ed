// Watching a directory on Windows: ReadDirectoryChangesW with an overlapped read, so the
// caller waits on an event HANDLE together with its own (stop, reload) handles.

#ifndef EDICT_PORTS_WINDOWS_WIN_DIR_WATCH_H_
#define EDICT_PORTS_WINDOWS_WIN_DIR_WATCH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edict::ports {

struct DirectoryChange {
  enum class Action { kAdded, kRemoved, kModified, kRenamedFrom, kRenamedTo };
  Action action = Action::kModified;
  std::string name;  // relative to the watched directory, UTF-8
};

// Changes to the entries of one directory (not its subdirectories): names, sizes, last-write
// times. Not thread-safe; one thread waits and collects.
class DirectoryWatcher {
 public:
  virtual ~DirectoryWatcher() = default;
  // A manual-reset event, signalled when Collect has something (or an error) to report.
  virtual void* event() const = 0;
  // Appends what arrived since the last call and starts the next read. *overflow is set when
  // the system dropped notifications (the caller must rescan the directory). An error means
  // the watch is dead (e.g. the directory was removed): reopen it or poll.
  virtual absl::Status Collect(std::vector<DirectoryChange>* out, bool* overflow) = 0;
};

// Opens `dir` (which must exist) and starts the first read. Unimplemented or Unavailable when
// the system cannot watch it (e.g. some network file systems); the caller then polls.
absl::StatusOr<std::unique_ptr<DirectoryWatcher>> OpenDirectoryWatcher(const std::string& dir);

// True if some process has `path` open for writing (or deleting), found by opening it with a
// share mode that excludes writers: the Windows way to tell whether a copy is still running.
// False if the file is free or missing. The probe holds the file for microseconds; a writer
// opening it at that very moment gets a sharing violation.
bool FileHasWriter(const std::string& path);

}  // namespace edict::ports

#endif  // EDICT_PORTS_WINDOWS_WIN_DIR_WATCH_H_
