// Helpers for the Windows ports tests: temporary directories and registry keys, whole-file
// I/O, child processes (crash tests re-run this executable with a --child-... argument).

#ifndef EDICT_TESTS_PORTS_WINDOWS_TEST_UTIL_H_
#define EDICT_TESTS_PORTS_WINDOWS_TEST_UTIL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace edict::ports::wintest {

// A fresh directory under %TEMP%, removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(absl::string_view rel) const { return path_ + "\\" + std::string(rel); }

 private:
  std::string path_;
};

// A fresh key "Software\edict-test-<pid>-<n>" under HKEY_CURRENT_USER, deleted (with its
// subtree) on destruction.
class TempRegistryKey {
 public:
  TempRegistryKey();
  ~TempRegistryKey();
  TempRegistryKey(const TempRegistryKey&) = delete;
  TempRegistryKey& operator=(const TempRegistryKey&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::optional<std::string> ReadFileOrNull(const std::string& path);
void WriteFileOrDie(const std::string& path, absl::string_view content);
std::vector<std::string> ListDir(const std::string& dir);
bool PathExists(const std::string& path);
void RemoveTree(const std::string& path);

// Security test set-up (CheckAdminOnlyWritable). Each returns the Win32 error, 0 on success.
// Replaces the DACL of `path` by the protected one of SDDL `dacl` ("D:P(A;;FA;;;SY)...").
unsigned long SetDaclFromSddl(const std::string& path, const std::string& dacl);
// Adds to the DACL of `path` an ACE granting Everyone read and write (FILE_GENERIC_WRITE,
// inherited below), as an administrator widening a folder's permissions would.
unsigned long GrantEveryoneWrite(const std::string& path);
// SDDL of an admin-only directory and file, as %ProgramFiles%\edict\catalogs would have:
// SYSTEM and Administrators full control, Users read and execute, CREATOR OWNER full control
// on what is created below (inherit-only).
inline constexpr char kAdminOnlyDirDacl[] =
    "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)";
inline constexpr char kAdminOnlyFileDacl[] = "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)";

// Sets a REG_SZ value under HKCU (test set-up), creating the key.
void SetUserString(const std::string& key, const std::string& name, const std::string& value);
void SetUserDword(const std::string& key, const std::string& name, unsigned value);

// Runs this test executable with `args` and returns its exit code (or -1).
long RunSelf(const std::vector<std::string>& args);

// Entry points of the child modes (main.cc dispatches to them); each returns an exit code.
int StateCrashChild(const std::vector<std::string>& args);
int RegistryCrashChild(const std::vector<std::string>& args);
int HoldLockChild(const std::vector<std::string>& args);

}  // namespace edict::ports::wintest

#endif  // EDICT_TESTS_PORTS_WINDOWS_TEST_UTIL_H_
