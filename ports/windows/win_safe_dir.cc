#include "ports/windows/win_safe_dir.h"

#include <windows.h>
// After windows.h, which they need.
#include <aclapi.h>
#include <sddl.h>

#include <algorithm>
#include <cstdint>
#include <vector>

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

// NT SERVICE\TrustedInstaller, which owns and writes the system's own files.
constexpr wchar_t kTrustedInstallerSid[] =
    L"S-1-5-80-956008885-3418522649-1831038044-1850103062-2686915052";

// Rights that let the holder change what a directory or file holds, or its security (and so
// grant itself the rest). FILE_ADD_FILE and FILE_ADD_SUBDIRECTORY are the directory names of
// FILE_WRITE_DATA and FILE_APPEND_DATA.
constexpr DWORD kWriteRights = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_ADD_FILE |
                               FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | DELETE | WRITE_DAC |
                               WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;

absl::Status Refuse(absl::string_view kind, absl::string_view path, absl::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat("refusing ", kind, " ", path, ": ", why));
}

class Handle {
 public:
  explicit Handle(HANDLE h) : h_(h) {}
  ~Handle() {
    if (h_ != INVALID_HANDLE_VALUE) ::CloseHandle(h_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  HANDLE get() const { return h_; }

 private:
  HANDLE h_;
};

std::string SidString(PSID sid) {
  LPWSTR text = nullptr;
  if (!::ConvertSidToStringSidW(sid, &text)) return "an unreadable SID";
  std::string out = Narrow(text);
  ::LocalFree(text);
  return out;
}

// "DOMAIN\name (S-1-...)", or the SID alone when it has no name here.
std::string SidName(PSID sid) {
  wchar_t name[256], domain[256];
  DWORD name_len = 256, domain_len = 256;
  SID_NAME_USE use;
  if (!::LookupAccountSidW(nullptr, sid, name, &name_len, domain, &domain_len, &use)) {
    return SidString(sid);
  }
  const std::string who =
      domain[0] != L'\0' ? absl::StrCat(Narrow(domain), "\\", Narrow(name)) : Narrow(name);
  return absl::StrCat(who, " (", SidString(sid), ")");
}

// The process's own user, empty if unknown: trusted as Linux trusts the agent's uid (SYSTEM
// for the service; for a console run, that user's own files).
const std::vector<BYTE>& ProcessUserSid() {
  static const std::vector<BYTE>* sid = [] {
    auto* out = new std::vector<BYTE>;
    HANDLE token = nullptr;
    if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return out;
    DWORD size = 0;
    ::GetTokenInformation(token, TokenUser, nullptr, 0, &size);
    std::vector<BYTE> buf(size);
    if (size > 0 && ::GetTokenInformation(token, TokenUser, buf.data(), size, &size)) {
      PSID user = reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid;
      const BYTE* p = static_cast<const BYTE*>(user);
      out->assign(p, p + ::GetLengthSid(user));
    }
    ::CloseHandle(token);
    return out;
  }();
  return *sid;
}

bool IsTrustedSid(PSID sid) {
  if (::IsWellKnownSid(sid, WinLocalSystemSid) ||
      ::IsWellKnownSid(sid, WinBuiltinAdministratorsSid)) {
    return true;
  }
  static const PSID trusted_installer = [] {
    PSID out = nullptr;
    return ::ConvertStringSidToSidW(kTrustedInstallerSid, &out) ? out : nullptr;
  }();
  if (trusted_installer != nullptr && ::EqualSid(sid, trusted_installer)) return true;
  const std::vector<BYTE>& user = ProcessUserSid();
  return !user.empty() && ::EqualSid(sid, const_cast<BYTE*>(user.data()));
}

// Placeholders for the object's owner, whom the owner rule has already judged.
bool StandsForOwner(PSID sid) {
  return ::IsWellKnownSid(sid, WinCreatorOwnerSid) ||
         ::IsWellKnownSid(sid, WinCreatorOwnerRightsSid);
}

// CheckAdminOnlySecurity on the security of an open handle.
absl::Status CheckHandleSecurity(HANDLE h, absl::string_view kind, const std::string& path) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  const DWORD e =
      ::GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                        nullptr, nullptr, nullptr, nullptr, &sd);
  if (e != ERROR_SUCCESS) return Win32ErrorStatus(e, "read the security of", path);
  absl::Status s = CheckAdminOnlySecurity(sd, kind, path);
  ::LocalFree(sd);
  return s;
}

}  // namespace

absl::Status CheckAdminOnlySecurity(const void* security_descriptor, absl::string_view kind,
                                    const std::string& path) {
  PSECURITY_DESCRIPTOR sd = const_cast<void*>(security_descriptor);
  PSID owner = nullptr;
  BOOL defaulted = FALSE;
  if (!::GetSecurityDescriptorOwner(sd, &owner, &defaulted) || owner == nullptr) {
    return Refuse(kind, path, "it has no owner");
  }
  if (!IsTrustedSid(owner)) {
    return Refuse(kind, path,
                  absl::StrCat("it is owned by ", SidName(owner),
                               ", not by SYSTEM, Administrators, TrustedInstaller or the "
                               "agent's user"));
  }
  BOOL present = FALSE;
  PACL dacl = nullptr;
  if (!::GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
    return Win32ErrorStatus(::GetLastError(), "read the DACL of", path);
  }
  if (!present || dacl == nullptr) {
    return Refuse(kind, path, "it has a NULL DACL (everyone may write to it)");
  }
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!::GetAce(dacl, i, &ace)) return Win32ErrorStatus(::GetLastError(), "read an ACE of", path);
    const ACE_HEADER* header = static_cast<const ACE_HEADER*>(ace);
    // An inherit-only ACE grants nothing on this object (children are checked themselves).
    if (header->AceFlags & INHERIT_ONLY_ACE) continue;
    switch (header->AceType) {
      case ACCESS_ALLOWED_ACE_TYPE:
      case ACCESS_ALLOWED_CALLBACK_ACE_TYPE:  // same layout; its condition may hold
        break;
      case ACCESS_ALLOWED_OBJECT_ACE_TYPE:
      case ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE:
      case ACCESS_ALLOWED_COMPOUND_ACE_TYPE:
        // Never on files: refused rather than judged by a layout we do not walk.
        return Refuse(kind, path,
                      absl::StrCat("its DACL has an allow ACE of type ", header->AceType,
                                   " that is not judged"));
      default:
        continue;  // deny and audit ACEs take nothing away from the rule
    }
    const ACCESS_ALLOWED_ACE* allow = static_cast<const ACCESS_ALLOWED_ACE*>(ace);
    PSID sid = const_cast<DWORD*>(&allow->SidStart);
    if ((allow->Mask & kWriteRights) == 0 || IsTrustedSid(sid) || StandsForOwner(sid)) continue;
    return Refuse(kind, path,
                  absl::StrCat("it is writable by ", SidName(sid), " (access mask 0x",
                               absl::Hex(allow->Mask, absl::kZeroPad8),
                               "), not only by SYSTEM, Administrators, TrustedInstaller or the "
                               "agent's user"));
  }
  return absl::OkStatus();
}

absl::Status CheckAdminOnlyWritable(const std::string& path) {
  const std::wstring wide = Widen(path);
  // By attributes first: wine cannot open a symbolic link itself (ERROR_FILE_NOT_FOUND).
  const DWORD a = ::GetFileAttributesW(wide.c_str());
  if (a == INVALID_FILE_ATTRIBUTES) {
    const DWORD e = ::GetLastError();
    return Win32ErrorStatus(Missing(e) ? ERROR_FILE_NOT_FOUND : e, "open", path);
  }
  if (a & FILE_ATTRIBUTE_REPARSE_POINT) {
    return Refuse((a & FILE_ATTRIBUTE_DIRECTORY) ? "directory" : "file", path,
                  "it is a reparse point (symbolic link or junction)");
  }
  // READ_CONTROL for the security; no reparse point is followed (one swapped in since the
  // attributes were read is refused below).
  Handle h(::CreateFileW(wide.c_str(), READ_CONTROL | FILE_READ_ATTRIBUTES,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                         nullptr));
  if (h.get() == INVALID_HANDLE_VALUE) {
    const DWORD e = ::GetLastError();
    return Win32ErrorStatus(Missing(e) ? ERROR_FILE_NOT_FOUND : e, "open", path);
  }
  BY_HANDLE_FILE_INFORMATION info;
  if (!::GetFileInformationByHandle(h.get(), &info)) {
    return Win32ErrorStatus(::GetLastError(), "stat", path);
  }
  const absl::string_view kind =
      (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? "directory" : "file";
  if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
    return Refuse(kind, path, "it is a reparse point (symbolic link or junction)");
  }
  return CheckHandleSecurity(h.get(), kind, path);
}

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

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, size_t cap, bool admin_only) {
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
  if (admin_only) {
    if (absl::Status s = CheckHandleSecurity(h, "file", path); !s.ok()) {
      ::CloseHandle(h);
      return s;
    }
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
