// Named-mutex instance lock: same process, another process, a holder that dies.

#include <windows.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ports/windows/win_instance_lock.h"
#include "ports/windows/win_io.h"
#include "ports/windows/win_process.h"
#include "tests/ports_windows/test_util.h"

namespace edict::ports {
namespace {

std::string LockName() {
  static int n = 0;
  return absl::StrCat("Local\\edict-test-lock-", ::GetCurrentProcessId(), "-", n++);
}

TEST(WindowsInstanceLock, SecondAcquireInSameProcessFailsClearly) {
  const std::string name = LockName();
  auto first = AcquireWindowsInstanceLock({name});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->Name(), name);
  auto second = AcquireWindowsInstanceLock({name});
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), name));
  first->reset();
  EXPECT_TRUE(AcquireWindowsInstanceLock({name}).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(AcquireWindowsInstanceLock({""}).status()));
}

TEST(WindowsInstanceLock, HeldByAnotherProcessAndFreedWhenItDies) {
  const std::string name = LockName();
  const std::string ready = absl::StrCat(name, "-ready");
  HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, win::Widen(ready).c_str());
  ASSERT_NE(event, nullptr);
  std::wstring cmd = win::Widen(
      absl::StrCat("\"", CurrentExecutablePath(), "\" --child-hold-lock ", name, " ", ready));
  STARTUPINFOW si = {};
  si.cb = sizeof(si);
  PROCESS_INFORMATION pi = {};
  ASSERT_TRUE(::CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW,
                               nullptr, nullptr, &si, &pi));
  ::CloseHandle(pi.hThread);
  ASSERT_EQ(::WaitForSingleObject(event, 60000), WAIT_OBJECT_0) << "child never took the lock";
  auto busy = AcquireWindowsInstanceLock({name});
  EXPECT_TRUE(absl::IsFailedPrecondition(busy.status())) << busy.status();
  // The holder dies without releasing (like a crash): the OS frees the mutex.
  ASSERT_TRUE(::TerminateProcess(pi.hProcess, 9));
  ASSERT_EQ(::WaitForSingleObject(pi.hProcess, 60000), WAIT_OBJECT_0);
  ::CloseHandle(pi.hProcess);
  ::CloseHandle(event);
  auto mine = AcquireWindowsInstanceLock({name});
  EXPECT_TRUE(mine.ok()) << mine.status();
}

}  // namespace

namespace wintest {

// --child-hold-lock <name> <ready event>: takes the lock, signals, waits to be killed.
int HoldLockChild(const std::vector<std::string>& args) {
  if (args.size() != 2) return 2;
  auto lock = AcquireWindowsInstanceLock({args[0]});
  if (!lock.ok()) return 5;
  HANDLE event = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, win::Widen(args[1]).c_str());
  if (event == nullptr || !::SetEvent(event)) return 6;
  ::Sleep(INFINITE);
  return 0;
}

}  // namespace wintest
}  // namespace edict::ports
