// ports/windows/win_safe_dir.h CheckAdminOnlyWritable, the Windows counterpart of sshd's
// StrictModes for what the agent trusts (product catalogues): a reparse point, an owner other
// than SYSTEM / Administrators / TrustedInstaller / the process's user, a NULL DACL and an
// ACE letting anyone else write are refused with the path and the reason. The owner and DACL
// rules are also run on in-memory descriptors, since wine's file system cannot store every
// descriptor (it keeps each file owned by the process's user).

#include <windows.h>
// After windows.h, which they need.
#include <aclapi.h>
#include <sddl.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ports/windows/win_io.h"
#include "ports/windows/win_safe_dir.h"
#include "tests/ports_windows/test_util.h"

namespace edict::ports::win {
namespace {

using wintest::GrantEveryoneWrite;
using wintest::kAdminOnlyDirDacl;
using wintest::kAdminOnlyFileDacl;
using wintest::SetDaclFromSddl;
using wintest::TempDir;
using wintest::WriteFileOrDie;

constexpr char kTrustedInstaller[] =
    "S-1-5-80-956008885-3418522649-1831038044-1850103062-2686915052";

std::string MakeDir(const TempDir& t, const std::string& name) {
  const std::string dir = t.Sub(name);
  EXPECT_TRUE(::CreateDirectoryW(Widen(dir).c_str(), nullptr)) << dir;
  return dir;
}

// CheckAdminOnlySecurity on the descriptor of `sddl` for directory "C:\\x".
absl::Status CheckSddl(const std::string& sddl) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(Widen(sddl).c_str(), SDDL_REVISION_1,
                                                              &sd, nullptr)) {
    return absl::InternalError(absl::StrCat("bad SDDL ", sddl, ": ", ::GetLastError()));
  }
  absl::Status s = CheckAdminOnlySecurity(sd, "directory", "C:\\x");
  ::LocalFree(sd);
  return s;
}

TEST(WinSafeDir, SecurityDescriptorRules) {
  // Accepted: the admin principals (TrustedInstaller too) may write; Users may read;
  // inherit-only, CREATOR OWNER, OWNER RIGHTS and deny ACEs change nothing; an empty DACL
  // lets no one write.
  for (const std::string& ok : {
           std::string("O:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)"),
           std::string("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
                       "(A;OICIIO;GA;;;CO)(A;OICIIO;GA;;;WD)(A;;FA;;;OW)(A;;FA;;;CO)(D;;FA;;;WD)"),
           absl::StrCat("O:", kTrustedInstaller, "D:(A;;FA;;;", kTrustedInstaller, ")"),
           std::string("O:BAD:"),
       }) {
    EXPECT_TRUE(CheckSddl(ok).ok()) << ok << ": " << CheckSddl(ok);
  }
  // A foreign owner.
  absl::Status s = CheckSddl("O:BUD:P(A;;FA;;;SY)");
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "refusing directory C:\\x: it is owned by ")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "(S-1-5-32-545), not by SYSTEM, Administrators")) << s;
  // A NULL DACL, or none at all: everyone may write. Built by hand: wine's SDDL parser does not
  // give "D:NO_ACCESS_CONTROL" a NULL DACL.
  BYTE admins[SECURITY_MAX_SID_SIZE];
  DWORD admins_size = sizeof(admins);
  ASSERT_TRUE(::CreateWellKnownSid(WinBuiltinAdministratorsSid, nullptr, admins, &admins_size));
  for (const BOOL present : {TRUE, FALSE}) {
    SECURITY_DESCRIPTOR sd;
    ASSERT_TRUE(::InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
    ASSERT_TRUE(::SetSecurityDescriptorOwner(&sd, admins, FALSE));
    ASSERT_TRUE(::SetSecurityDescriptorDacl(&sd, present, nullptr, FALSE));
    s = CheckAdminOnlySecurity(&sd, "directory", "C:\\x");
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "refusing directory C:\\x: it has a NULL DACL"))
        << s;
  }
  // Each write-type right, granted to Users (and to Everyone, after a harmless ACE).
  for (const char* right : {"0x2", "0x4", "0x40", "SD", "WD", "WO", "GW", "GA"}) {
    for (const char* who : {"BU", "WD"}) {
      const std::string sddl =
          absl::StrCat("O:SYD:(A;;FA;;;SY)(A;;0x1200a9;;;BU)(A;;", right, ";;;", who, ")");
      s = CheckSddl(sddl);
      EXPECT_TRUE(absl::IsPermissionDenied(s)) << sddl << ": " << s;
      EXPECT_TRUE(absl::StrContains(s.message(), "refusing directory C:\\x: it is writable by "))
          << sddl << ": " << s;
      EXPECT_TRUE(absl::StrContains(s.message(), std::string(who) == "BU"
                                                     ? "(S-1-5-32-545) (access mask 0x"
                                                     : "(S-1-1-0) (access mask 0x"))
          << sddl << ": " << s;
    }
  }
}

TEST(WinSafeDir, AdminOnlyDirectoryAndFileAreAccepted) {
  TempDir t;
  const std::string dir = MakeDir(t, "catalogs");
  const std::string file = dir + "\\acmevpn.edcat";
  WriteFileOrDie(file, "catalogue");
  ASSERT_EQ(SetDaclFromSddl(dir, kAdminOnlyDirDacl), 0u);
  ASSERT_EQ(SetDaclFromSddl(file, kAdminOnlyFileDacl), 0u);
  EXPECT_TRUE(CheckAdminOnlyWritable(dir).ok()) << CheckAdminOnlyWritable(dir);
  EXPECT_TRUE(CheckAdminOnlyWritable(file).ok()) << CheckAdminOnlyWritable(file);
  absl::StatusOr<std::string> read = ReadRegularFile(file, 100, /*admin_only=*/true);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "catalogue");
  // Missing: NotFound, as CheckSafeDir.
  EXPECT_TRUE(absl::IsNotFound(CheckAdminOnlyWritable(t.Sub("absent"))));
}

TEST(WinSafeDir, DirectoryAndFileWritableByEveryoneAreRefused) {
  TempDir t;
  const std::string dir = MakeDir(t, "catalogs");
  ASSERT_EQ(SetDaclFromSddl(dir, kAdminOnlyDirDacl), 0u);
  ASSERT_TRUE(CheckAdminOnlyWritable(dir).ok()) << CheckAdminOnlyWritable(dir);
  ASSERT_EQ(GrantEveryoneWrite(dir), 0u);
  absl::Status s = CheckAdminOnlyWritable(dir);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "refusing directory " + dir + ": it is writable by "))
      << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "(S-1-1-0)")) << s;

  // A file: refused by the check and by the trusting reader (which reads nothing), still read
  // by the plain one.
  const std::string ok_dir = MakeDir(t, "ok");
  ASSERT_EQ(SetDaclFromSddl(ok_dir, kAdminOnlyDirDacl), 0u);
  const std::string file = ok_dir + "\\acmevpn.edcat";
  WriteFileOrDie(file, "catalogue");
  ASSERT_EQ(SetDaclFromSddl(file, kAdminOnlyFileDacl), 0u);
  ASSERT_EQ(GrantEveryoneWrite(file), 0u);
  s = CheckAdminOnlyWritable(file);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "refusing file " + file + ": it is writable by "))
      << s;
  absl::StatusOr<std::string> read = ReadRegularFile(file, 100, /*admin_only=*/true);
  EXPECT_TRUE(absl::IsPermissionDenied(read.status())) << read.status();
  EXPECT_TRUE(absl::StrContains(read.status().message(), "refusing file " + file)) << read.status();
  read = ReadRegularFile(file, 100);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "catalogue");
}

TEST(WinSafeDir, NullDaclOnDiskIsRefused) {
  TempDir t;
  const std::string dir = MakeDir(t, "catalogs");
  std::wstring wide = Widen(dir);
  ASSERT_EQ(::SetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                    nullptr, nullptr, nullptr),
            static_cast<DWORD>(ERROR_SUCCESS));
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_EQ(::GetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                    nullptr, &dacl, nullptr, &sd),
            static_cast<DWORD>(ERROR_SUCCESS));
  const bool stored_null = dacl == nullptr;
  ::LocalFree(sd);
  const absl::Status s = CheckAdminOnlyWritable(dir);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  // Windows stores the NULL DACL; wine turns it into Everyone read, write and delete.
  EXPECT_TRUE(
      absl::StrContains(s.message(), stored_null ? "it has a NULL DACL" : "it is writable by "))
      << "stored DACL is " << (stored_null ? "NULL" : "not NULL") << ": " << s;
}

TEST(WinSafeDir, ReparsePointIsRefused) {
  TempDir t;
  const std::string target = MakeDir(t, "target");
  ASSERT_EQ(SetDaclFromSddl(target, kAdminOnlyDirDacl), 0u);
  const std::string link = t.Sub("link");
  constexpr DWORD kUnprivileged = 0x2;  // SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE
  const BOOL made = ::CreateSymbolicLinkW(Widen(link).c_str(), Widen(target).c_str(),
                                          SYMBOLIC_LINK_FLAG_DIRECTORY | kUnprivileged);
  const DWORD a = ::GetFileAttributesW(Widen(link).c_str());
  if (!made || a == INVALID_FILE_ATTRIBUTES || !(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
    // Wine 8.0 reports success but creates nothing; unprivileged Windows without developer
    // mode refuses. CheckSafeDir's reparse-point refusal, which the agent runs first, is
    // tested where links exist (agent_windows HostileInput.SymlinkedAgentDirectories).
    GTEST_SKIP() << "directory symbolic links are not available here (CreateSymbolicLinkW: " << made
                 << ", attributes 0x" << std::hex << a << ")";
  }
  const absl::Status s = CheckAdminOnlyWritable(link);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(
      absl::StrContains(s.message(), "refusing directory " + link + ": it is a reparse point"))
      << s;
}

// Best effort: lets an elevated administrator on Windows give a file any owner.
void EnableRestorePrivilege() {
  HANDLE token = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES, &token)) return;
  TOKEN_PRIVILEGES tp = {};
  tp.PrivilegeCount = 1;
  tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  if (::LookupPrivilegeValueW(nullptr, SE_RESTORE_NAME, &tp.Privileges[0].Luid)) {
    ::AdjustTokenPrivileges(token, FALSE, &tp, 0, nullptr, nullptr);
  }
  ::CloseHandle(token);
}

TEST(WinSafeDir, ForeignOwnerOnDiskIsRefused) {
  TempDir t;
  const std::string dir = MakeDir(t, "catalogs");
  ASSERT_EQ(SetDaclFromSddl(dir, kAdminOnlyDirDacl), 0u);
  EnableRestorePrivilege();
  BYTE users[SECURITY_MAX_SID_SIZE];
  DWORD users_size = sizeof(users);
  ASSERT_TRUE(::CreateWellKnownSid(WinBuiltinUsersSid, nullptr, users, &users_size));
  std::wstring wide = Widen(dir);
  const DWORD set = ::SetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION,
                                            users, nullptr, nullptr, nullptr);
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_EQ(::GetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                                    nullptr, nullptr, nullptr, &sd),
            static_cast<DWORD>(ERROR_SUCCESS));
  const bool foreign = ::EqualSid(owner, users);
  ::LocalFree(sd);
  if (!foreign) {
    GTEST_SKIP() << "cannot make BUILTIN\\Users own a directory here (SetNamedSecurityInfoW: "
                 << set << "; wine keeps every file owned by the process's user, Windows needs "
                 << "SeRestorePrivilege); the owner rule is covered by "
                 << "WinSafeDir.SecurityDescriptorRules";
  }
  const absl::Status s = CheckAdminOnlyWritable(dir);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "refusing directory " + dir + ": it is owned by "))
      << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "(S-1-5-32-545)")) << s;
}

}  // namespace
}  // namespace edict::ports::win
