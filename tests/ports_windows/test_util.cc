#include "tests/ports_windows/test_util.h"

#include <windows.h>
// After windows.h, which they need.
#include <aclapi.h>
#include <sddl.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "ports/windows/win_process.h"

namespace edict::ports::wintest {
namespace {

std::atomic<int> counter{0};

std::wstring W(absl::string_view s) {
  const int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

std::string N(const wchar_t* w) {
  const int n = ::WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, w, -1, out.data(), n, nullptr, nullptr);
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace

TempDir::TempDir() {
  wchar_t base[MAX_PATH + 1];
  const DWORD n = ::GetTempPathW(MAX_PATH + 1, base);
  if (n == 0) std::abort();
  path_ = absl::StrCat(N(base), "edict-ports-", ::GetCurrentProcessId(), "-", counter++, "-",
                       ::GetTickCount64());
  if (!::CreateDirectoryW(W(path_).c_str(), nullptr)) std::abort();
}

TempDir::~TempDir() { RemoveTree(path_); }

TempRegistryKey::TempRegistryKey() {
  path_ = absl::StrCat("Software\\edict-test-", ::GetCurrentProcessId(), "-", counter++);
}

TempRegistryKey::~TempRegistryKey() { ::RegDeleteTreeW(HKEY_CURRENT_USER, W(path_).c_str()); }

std::optional<std::string> ReadFileOrNull(const std::string& path) {
  std::ifstream in(W(path).c_str(), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, absl::string_view content) {
  std::ofstream out(W(path).c_str(), std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) std::abort();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  WIN32_FIND_DATAW found;
  HANDLE h = ::FindFirstFileW(W(dir + "\\*").c_str(), &found);
  if (h == INVALID_HANDLE_VALUE) return out;
  do {
    const std::string name = N(found.cFileName);
    if (name != "." && name != "..") out.push_back(name);
  } while (::FindNextFileW(h, &found));
  ::FindClose(h);
  std::sort(out.begin(), out.end());
  return out;
}

bool PathExists(const std::string& path) {
  return ::GetFileAttributesW(W(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

void RemoveTree(const std::string& path) {
  const DWORD attrs = ::GetFileAttributesW(W(path).c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES) return;
  if (attrs & FILE_ATTRIBUTE_DIRECTORY) {
    for (const std::string& name : ListDir(path)) RemoveTree(path + "\\" + name);
    ::RemoveDirectoryW(W(path).c_str());
  } else {
    ::SetFileAttributesW(W(path).c_str(), FILE_ATTRIBUTE_NORMAL);
    ::DeleteFileW(W(path).c_str());
  }
}

unsigned long SetDaclFromSddl(const std::string& path, const std::string& dacl) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(W(dacl).c_str(), SDDL_REVISION_1, &sd,
                                                              nullptr)) {
    return ::GetLastError();
  }
  BOOL present = FALSE, defaulted = FALSE;
  PACL acl = nullptr;
  ::GetSecurityDescriptorDacl(sd, &present, &acl, &defaulted);
  std::wstring wide = W(path);
  const DWORD e = ::SetNamedSecurityInfoW(
      wide.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
      nullptr, nullptr, acl, nullptr);
  ::LocalFree(sd);
  return e;
}

unsigned long GrantEveryoneWrite(const std::string& path) {
  std::wstring wide = W(path);
  PACL old_dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD e = ::GetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                    nullptr, &old_dacl, nullptr, &sd);
  if (e != ERROR_SUCCESS) return e;
  // By SID: the group's name is localised.
  BYTE everyone[SECURITY_MAX_SID_SIZE];
  DWORD everyone_size = sizeof(everyone);
  if (!::CreateWellKnownSid(WinWorldSid, nullptr, everyone, &everyone_size)) {
    e = ::GetLastError();
    ::LocalFree(sd);
    return e;
  }
  EXPLICIT_ACCESS_W ea = {};
  ea.grfAccessPermissions = FILE_GENERIC_READ | FILE_GENERIC_WRITE;
  ea.grfAccessMode = GRANT_ACCESS;
  ea.grfInheritance = SUB_CONTAINERS_AND_OBJECTS_INHERIT;
  ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
  ea.Trustee.TrusteeType = TRUSTEE_IS_WELL_KNOWN_GROUP;
  ea.Trustee.ptstrName = reinterpret_cast<LPWSTR>(everyone);
  PACL new_dacl = nullptr;
  e = ::SetEntriesInAclW(1, &ea, old_dacl, &new_dacl);
  if (e == ERROR_SUCCESS) {
    e = ::SetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                nullptr, new_dacl, nullptr);
    ::LocalFree(new_dacl);
  }
  ::LocalFree(sd);
  return e;
}

void SetUserString(const std::string& key, const std::string& name, const std::string& value) {
  const std::wstring v = W(value);
  ::RegSetKeyValueW(HKEY_CURRENT_USER, W(key).c_str(), W(name).c_str(), REG_SZ, v.c_str(),
                    static_cast<DWORD>((v.size() + 1) * sizeof(wchar_t)));
}

void SetUserDword(const std::string& key, const std::string& name, unsigned value) {
  const DWORD d = value;
  ::RegSetKeyValueW(HKEY_CURRENT_USER, W(key).c_str(), W(name).c_str(), REG_DWORD, &d, sizeof(d));
}

long RunSelf(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CurrentExecutablePath()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Under wine with parallel tests, CreateProcessW has been seen to fail transiently
  // (once in a CI run); retry a failed start, never a child that ran.
  absl::StatusOr<unsigned> code = RunProcess(argv, absl::Seconds(120));
  for (int attempt = 1; attempt < 3 && !code.ok() && !absl::IsDeadlineExceeded(code.status());
       ++attempt) {
    std::fprintf(stderr, "RunSelf: %s; retrying\n", std::string(code.status().message()).c_str());
    code = RunProcess(argv, absl::Seconds(120));
  }
  if (!code.ok()) {
    std::fprintf(stderr, "RunSelf: %s\n", std::string(code.status().message()).c_str());
    return -1;
  }
  return static_cast<long>(*code);
}

}  // namespace edict::ports::wintest
