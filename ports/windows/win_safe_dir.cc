#include "ports/windows/win_safe_dir.h"

#include <windows.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ports/windows/win_io.h"

namespace edict::ports::win {
namespace {

bool Missing(DWORD e) { return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND; }

absl::Status NotRegular(absl::string_view path, DWORD attributes) {
  const char* what = (attributes & FILE_ATTRIBUTE_REPARSE_POINT)
                         ? "a reparse point (symbolic link or junction)"
                     : (attributes & FILE_ATTRIBUTE_DIRECTORY) ? "a directory"
                                                               : "a device or special file";
  return absl::FailedPreconditionError(absl::StrCat(path, " is ", what, ", not a regular file"));
}

}  // namespace

absl::Status CheckSafeDir(const std::string& path) {
  const DWORD a = ::GetFileAttributesW(Widen(path).c_str());
  if (a == INVALID_FILE_ATTRIBUTES) {
    const DWORD e = ::GetLastError();
    return Win32ErrorStatus(Missing(e) ? ERROR_FILE_NOT_FOUND : e, "open directory", path);
  }
  if (a & FILE_ATTRIBUTE_REPARSE_POINT) {
    return absl::PermissionDeniedError(absl::StrCat(
        "refusing directory ", path, ": it is a reparse point (symbolic link or junction)"));
  }
  if (!(a & FILE_ATTRIBUTE_DIRECTORY)) {
    return absl::PermissionDeniedError(
        absl::StrCat("refusing directory ", path, ": it is not a directory"));
  }
  return absl::OkStatus();
}

absl::Status CheckSafeDirTree(const std::string& root, absl::string_view rel) {
  std::string path = root;
  for (absl::string_view part : absl::StrSplit(rel, absl::ByAnyChar("\\/"), absl::SkipEmpty())) {
    path = JoinPath(path, part);
    absl::Status s = CheckSafeDir(path);
    if (absl::IsNotFound(s)) return absl::OkStatus();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, size_t cap) {
  const std::wstring wide = Widen(path);
  const DWORD a = ::GetFileAttributesW(wide.c_str());
  if (a == INVALID_FILE_ATTRIBUTES) {
    const DWORD e = ::GetLastError();
    return Win32ErrorStatus(Missing(e) ? ERROR_FILE_NOT_FOUND : e, "open", path);
  }
  if (a & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE)) {
    return NotRegular(path, a);
  }
  // Every share mode: a reader never blocks the daemon's renames nor a writer.
  HANDLE h = ::CreateFileW(wide.c_str(), GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                           OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Win32ErrorStatus(::GetLastError(), "open", path);
  BY_HANDLE_FILE_INFORMATION info;
  if (::GetFileType(h) != FILE_TYPE_DISK || !::GetFileInformationByHandle(h, &info)) {
    ::CloseHandle(h);
    return NotRegular(path, FILE_ATTRIBUTE_DEVICE);
  }
  if (info.dwFileAttributes &
      (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE)) {
    ::CloseHandle(h);
    return NotRegular(path, info.dwFileAttributes);
  }
  const uint64_t size = (static_cast<uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  if (size > cap) {
    ::CloseHandle(h);
    return absl::ResourceExhaustedError(
        absl::StrCat(path, " is ", size, " bytes, larger than the limit of ", cap, " bytes"));
  }
  std::string out;
  char buf[65536];
  while (out.size() <= cap) {
    DWORD n = 0;
    if (!::ReadFile(h, buf, sizeof(buf), &n, nullptr)) {
      const DWORD e = ::GetLastError();
      ::CloseHandle(h);
      return Win32ErrorStatus(e, "read", path);
    }
    if (n == 0) break;
    out.append(buf, std::min<size_t>(n, cap + 1 - out.size()));
  }
  ::CloseHandle(h);
  return out;
}

}  // namespace edict::ports::win
