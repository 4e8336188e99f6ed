// Win32 file and text primitives used by every Windows port, each durable step preceded by
// its fault-injection point (the same IoOp points as ports/linux/posix_io.h). Internal to
// ports/windows. Paths are UTF-8 std::strings; they are converted to UTF-16 at the API.

#ifndef EDICT_PORTS_WINDOWS_WIN_IO_H_
#define EDICT_PORTS_WINDOWS_WIN_IO_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ports/fault_injector.h"

namespace edict::ports::win {

// UTF-8 <-> UTF-16. Ill-formed input is replaced (U+FFFD), never an error.
std::wstring Widen(absl::string_view utf8);
std::string Narrow(const std::wstring& utf16);
std::string Narrow(const wchar_t* utf16, size_t length);

// Maps a Win32 error code (GetLastError) to the errno value IoErrorStatus understands:
// disk full -> ENOSPC, access denied / write protect -> EACCES, not found -> ENOENT, exists ->
// EEXIST, sharing / lock violation -> EBUSY, out of memory -> ENOMEM, anything else -> EIO.
int Win32ErrorToErrno(unsigned long error);
// IoErrorStatus for a Win32 error, with the Win32 code appended ("... (Win32 error 112)").
absl::Status Win32ErrorStatus(unsigned long error, absl::string_view what, absl::string_view path);

// "a\b" + "c" -> "a\b\c" (either separator accepted at the end of `a`).
std::string JoinPath(absl::string_view a, absl::string_view b);
// Parent directory ("C:\a\b" -> "C:\a"); "" when there is none.
std::string DirName(absl::string_view path);

// Thread-compatible (stateless apart from the injector, which must be thread-safe).
class WinIo {
 public:
  explicit WinIo(FaultInjector* faults) : faults_(faults) {}

  // Creates or truncates `path`, writes `pieces` (one write point each), FlushFileBuffers,
  // closes. On error the file is removed (best effort).
  absl::Status WriteFileDurably(const std::string& path,
                                std::initializer_list<absl::string_view> pieces);
  // MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH): atomic and durable
  // replace of `to` (the rename is on disk when the call returns).
  absl::Status Rename(const std::string& from, const std::string& to);
  // OK if `path` did not exist and `missing_ok`.
  absl::Status Unlink(const std::string& path, bool missing_ok);
  // Creates `path` and missing parents; `sddl`, when not empty, is the security descriptor of
  // `path` itself if this call creates it (parents inherit; existing directories are left).
  absl::Status MakeDirs(const std::string& path, const std::string& sddl = "");

  // Whole file; NotFound if absent; ResourceExhausted if larger than `max_bytes`.
  static absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes);
  static bool Exists(const std::string& path);
  static bool IsDirectory(const std::string& path);

  // Consults the injector for one point; an injected error is mapped like a real one.
  absl::Status Check(IoOp op, absl::string_view path, absl::string_view what);

 private:
  FaultInjector* faults_;
};

}  // namespace edict::ports::win

#endif  // EDICT_PORTS_WINDOWS_WIN_IO_H_
