// POSIX file primitives used by every Linux port, each preceded by its fault-injection point.
// Internal to ports/linux.

#ifndef EDICT_PORTS_LINUX_POSIX_IO_H_
#define EDICT_PORTS_LINUX_POSIX_IO_H_

#include <sys/types.h>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ports/fault_injector.h"

namespace edict::ports::posix {

// Suffix of the temporary file WriteFileAtomically uses next to its target.
inline constexpr char kTempSuffix[] = ".edict-tmp";

// "a/b" + "c" -> "a/b/c".
std::string JoinPath(absl::string_view a, absl::string_view b);
// "/a/b/c" -> "/a/b"; "c" -> ".".
std::string DirName(absl::string_view path);

// Thread-compatible (stateless apart from the injector, which must be thread-safe).
class PosixIo {
 public:
  explicit PosixIo(FaultInjector* faults) : faults_(faults) {}

  // Writes `pieces` (one write point each) to `path` created or truncated with `mode`, then
  // fsync and close. On error the file is removed (best effort).
  absl::Status WriteFileDurably(const std::string& path,
                                std::initializer_list<absl::string_view> pieces, mode_t mode);

  // Temp file `path + kTempSuffix`, fsync, rename over `path`, fsync the directory.
  absl::Status WriteFileAtomically(const std::string& path, absl::string_view content, mode_t mode);

  absl::Status Rename(const std::string& from, const std::string& to);
  absl::Status Link(const std::string& from, const std::string& to);
  // OK if `path` did not exist and `missing_ok`.
  absl::Status Unlink(const std::string& path, bool missing_ok);
  absl::Status FsyncDir(const std::string& dir);
  // mkdir -p; existing directories are left as they are.
  absl::Status MakeDirs(const std::string& path, mode_t mode);
  // Sets access and modification time of `path`.
  absl::Status Touch(const std::string& path, absl::Time time);

  // Whole file; NotFound if absent; ResourceExhausted if larger than `max_bytes`. Not a
  // fault point (reads do not change durable state).
  static absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes);
  // Modification time, or nullopt if absent.
  static std::optional<absl::Time> ModificationTime(const std::string& path);
  static bool Exists(const std::string& path);

  // Consults the injector for one point; the injected error mapped like a real one.
  absl::Status Check(IoOp op, absl::string_view path, absl::string_view what);

 private:
  FaultInjector* faults_;
};

}  // namespace edict::ports::posix

#endif  // EDICT_PORTS_LINUX_POSIX_IO_H_
