#include "ports/windows/win_io.h"

// clang-format off
#include <windows.h>
#include <sddl.h>
// clang-format on

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ports/io_status.h"

namespace edict::ports::win {

std::wstring Widen(absl::string_view utf8) {
  if (utf8.empty()) return std::wstring();
  const int n =
      ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string Narrow(const wchar_t* utf16, size_t length) {
  if (length == 0) return std::string();
  const int n = ::WideCharToMultiByte(CP_UTF8, 0, utf16, static_cast<int>(length), nullptr, 0,
                                      nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, utf16, static_cast<int>(length), out.data(), n, nullptr,
                        nullptr);
  return out;
}

std::string Narrow(const std::wstring& utf16) { return Narrow(utf16.data(), utf16.size()); }

int Win32ErrorToErrno(unsigned long error) {
  switch (error) {
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return ENOSPC;
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
    case ERROR_PRIVILEGE_NOT_HELD:
      return EACCES;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return ENOENT;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
      return EEXIST;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return EBUSY;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
      return ENOMEM;
    default:
      return EIO;
  }
}

absl::Status Win32ErrorStatus(unsigned long error, absl::string_view what, absl::string_view path) {
  const absl::Status s = IoErrorStatus(Win32ErrorToErrno(error), what, path);
  return absl::Status(s.code(), absl::StrCat(s.message(), " (Win32 error ", error, ")"));
}

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty()) return std::string(b);
  if (a.back() == '\\' || a.back() == '/') return absl::StrCat(a, b);
  return absl::StrCat(a, "\\", b);
}

std::string DirName(absl::string_view path) {
  const size_t sep = path.find_last_of("\\/");
  if (sep == absl::string_view::npos) return "";
  return std::string(path.substr(0, sep));
}

absl::Status WinIo::Check(IoOp op, absl::string_view path, absl::string_view what) {
  if (faults_ == nullptr) return absl::OkStatus();
  std::optional<std::errc> error = faults_->Before(IoPoint{op, path});
  if (!error.has_value()) return absl::OkStatus();
  return IoErrorStatus(*error, what, path);
}

absl::Status WinIo::WriteFileDurably(const std::string& path,
                                     std::initializer_list<absl::string_view> pieces) {
  if (absl::Status s = Check(IoOp::kOpen, path, "create"); !s.ok()) return s;
  const std::wstring wpath = Widen(path);
  HANDLE h = ::CreateFileW(wpath.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Win32ErrorStatus(::GetLastError(), "create", path);
  absl::Status status;
  for (absl::string_view piece : pieces) {
    status = Check(IoOp::kWrite, path, "write");
    size_t done = 0;
    while (status.ok() && done < piece.size()) {
      const DWORD chunk = static_cast<DWORD>(std::min<size_t>(piece.size() - done, 1u << 30));
      DWORD n = 0;
      if (!::WriteFile(h, piece.data() + done, chunk, &n, nullptr)) {
        status = Win32ErrorStatus(::GetLastError(), "write", path);
      } else {
        done += n;
      }
    }
    if (!status.ok()) break;
  }
  if (status.ok()) status = Check(IoOp::kFsync, path, "flush");
  if (status.ok() && !::FlushFileBuffers(h)) {
    status = Win32ErrorStatus(::GetLastError(), "flush", path);
  }
  if (status.ok()) status = Check(IoOp::kClose, path, "close");
  if (!::CloseHandle(h) && status.ok()) {
    status = Win32ErrorStatus(::GetLastError(), "close", path);
  }
  if (!status.ok()) ::DeleteFileW(wpath.c_str());
  return status;
}

absl::Status WinIo::Rename(const std::string& from, const std::string& to) {
  if (absl::Status s = Check(IoOp::kRename, to, "rename to"); !s.ok()) return s;
  if (!::MoveFileExW(Widen(from).c_str(), Widen(to).c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return Win32ErrorStatus(::GetLastError(), absl::StrCat("rename ", from, " to"), to);
  }
  return absl::OkStatus();
}

absl::Status WinIo::Unlink(const std::string& path, bool missing_ok) {
  if (missing_ok && !Exists(path)) return absl::OkStatus();
  if (absl::Status s = Check(IoOp::kUnlink, path, "remove"); !s.ok()) return s;
  if (!::DeleteFileW(Widen(path).c_str())) {
    const DWORD error = ::GetLastError();
    if (missing_ok && (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND)) {
      return absl::OkStatus();
    }
    return Win32ErrorStatus(error, "remove", path);
  }
  return absl::OkStatus();
}

absl::Status WinIo::MakeDirs(const std::string& path, const std::string& sddl) {
  if (IsDirectory(path)) return absl::OkStatus();
  if (Exists(path)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  const std::string parent = DirName(path);
  // Stop at a drive root ("C:") or an empty parent.
  if (!parent.empty() && parent != path && !(parent.size() == 2 && parent[1] == ':')) {
    if (absl::Status s = MakeDirs(parent); !s.ok()) return s;
  }
  if (absl::Status s = Check(IoOp::kMkdir, path, "mkdir"); !s.ok()) return s;
  SECURITY_ATTRIBUTES sa = {};
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!sddl.empty()) {
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(Widen(sddl).c_str(),
                                                                SDDL_REVISION_1, &sd, nullptr)) {
      return absl::InvalidArgumentError(absl::StrCat("bad security descriptor ", sddl));
    }
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = sd;
  }
  const BOOL ok = ::CreateDirectoryW(Widen(path).c_str(), sd != nullptr ? &sa : nullptr);
  const DWORD error = ::GetLastError();
  if (sd != nullptr) ::LocalFree(sd);
  if (!ok && error != ERROR_ALREADY_EXISTS) return Win32ErrorStatus(error, "mkdir", path);
  return absl::OkStatus();
}

absl::StatusOr<std::string> WinIo::ReadFile(const std::string& path, size_t max_bytes) {
  HANDLE h = ::CreateFileW(Widen(path).c_str(), GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Win32ErrorStatus(::GetLastError(), "open", path);
  std::string out;
  std::vector<char> buf(65536);
  absl::Status status;
  while (true) {
    DWORD n = 0;
    if (!::ReadFile(h, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr)) {
      status = Win32ErrorStatus(::GetLastError(), "read", path);
      break;
    }
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      status = absl::ResourceExhaustedError(
          absl::StrCat(path, " is larger than the limit of ", max_bytes, " bytes"));
      break;
    }
    out.append(buf.data(), n);
  }
  ::CloseHandle(h);
  if (!status.ok()) return status;
  return out;
}

bool WinIo::Exists(const std::string& path) {
  return ::GetFileAttributesW(Widen(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

bool WinIo::IsDirectory(const std::string& path) {
  const DWORD attrs = ::GetFileAttributesW(Widen(path).c_str());
  return attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

}  // namespace edict::ports::win
