// InstanceLock, DeviceIdentity, Clock, fault injector, RunCommand.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ports/clock.h"
#include "ports/device_identity.h"
#include "ports/fault_injector.h"
#include "ports/io_status.h"
#include "ports/linux/linux_identity.h"
#include "ports/linux/linux_instance_lock.h"
#include "ports/linux/process.h"
#include "tests/ports/test_util.h"

namespace edict::ports {
namespace {

using testing::TempDir;

TEST(InstanceLock, SecondAcquireInSameProcessFailsClearly) {
  TempDir dir;
  LinuxInstanceLockOptions options{dir.Sub("run/agent.lock")};
  absl::StatusOr<std::unique_ptr<InstanceLock>> first = AcquireLinuxInstanceLock(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->Name(), options.path);
  absl::StatusOr<std::unique_ptr<InstanceLock>> second = AcquireLinuxInstanceLock(options);
  ASSERT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), options.path));
  EXPECT_TRUE(absl::StrContains(second.status().message(), absl::StrCat("pid ", ::getpid())))
      << second.status();
  first->reset();
  EXPECT_TRUE(AcquireLinuxInstanceLock(options).ok());
}

TEST(InstanceLock, HeldByAnotherProcessNamesItsPidAndIsFreedWhenItDies) {
  TempDir dir;
  LinuxInstanceLockOptions options{dir.Sub("agent.lock")};
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto lock = AcquireLinuxInstanceLock(options);
    const char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    char x;
    (void)!::read(release[0], &x, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  absl::StatusOr<std::unique_ptr<InstanceLock>> mine = AcquireLinuxInstanceLock(options);
  ASSERT_TRUE(absl::IsFailedPrecondition(mine.status())) << mine.status();
  EXPECT_EQ(mine.status().message(),
            absl::StrCat("another edict instance holds ", options.path, " (pid ", pid, ")"));
  // The holder is killed (no cleanup): the OS releases the lock.
  ::kill(pid, SIGKILL);
  int wstatus;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  mine = AcquireLinuxInstanceLock(options);
  EXPECT_TRUE(mine.ok()) << mine.status();
  ::close(ready[0]);
  ::close(ready[1]);
  ::close(release[0]);
  ::close(release[1]);
}

TEST(DeviceIdentity, ReadsMachineIdAndKeepsConfig) {
  TempDir dir;
  const std::string path = dir.Sub("machine-id");
  testing::WriteFileOrDie(path, "0123456789abcdef0123456789abcdef\n");
  LinuxDeviceIdentityOptions options;
  options.machine_id_path = path;
  options.config = {"tenant-a", {"sales", "berlin"}};
  auto id = ReadLinuxDeviceIdentity(options);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ((*id)->device_id(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ((*id)->tenant(), "tenant-a");
  EXPECT_EQ((*id)->groups(), (std::vector<std::string>{"berlin", "sales"}));
}

TEST(DeviceIdentity, RejectsBadMachineIds) {
  TempDir dir;
  const std::string path = dir.Sub("machine-id");
  LinuxDeviceIdentityOptions options;
  options.machine_id_path = path;
  EXPECT_TRUE(absl::IsNotFound(ReadLinuxDeviceIdentity(options).status()));
  const std::pair<const char*, absl::StatusCode> cases[] = {
      {"uninitialized\n", absl::StatusCode::kFailedPrecondition},
      {"00000000000000000000000000000000\n", absl::StatusCode::kFailedPrecondition},
      {"0123456789ABCDEF0123456789abcdef\n", absl::StatusCode::kDataLoss},
      {"0123456789abcdef\n", absl::StatusCode::kDataLoss},
      {"", absl::StatusCode::kDataLoss},
  };
  for (const auto& [text, code] : cases) {
    testing::WriteFileOrDie(path, text);
    EXPECT_EQ(ReadLinuxDeviceIdentity(options).status().code(), code) << text;
  }
  testing::WriteFileOrDie(path, "0123456789abcdef0123456789abcdef\n");
  options.config.groups = {"a", "a"};
  EXPECT_TRUE(absl::IsInvalidArgument(ReadLinuxDeviceIdentity(options).status()));
}

TEST(DeviceIdentity, ThisMachineIfPresent) {
  if (!testing::PathExists("/etc/machine-id")) GTEST_SKIP() << "no /etc/machine-id";
  auto id = ReadLinuxDeviceIdentity({});
  // Containers often have an empty machine-id; only a well-formed one must be accepted.
  if (id.ok()) {
    EXPECT_EQ((*id)->device_id().size(), 32u);
  }
}

TEST(Clock, SystemClockIsSaneAndMonotonic) {
  auto clock = NewSystemClock();
  const absl::Time now = clock->Now();
  EXPECT_LT(absl::AbsDuration(now - absl::Now()), absl::Seconds(5));
  const absl::Duration a = clock->Monotonic();
  const absl::Duration b = clock->Monotonic();
  EXPECT_LE(a, b);
}

TEST(Clock, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1005));
  EXPECT_EQ(clock.Monotonic(), absl::Seconds(5));
  clock.SetNow(absl::FromUnixSeconds(10));  // wall clock set back
  EXPECT_EQ(clock.Monotonic(), absl::Seconds(5));
}

TEST(FaultInjector, RulesMatchSkipAndCount) {
  ScriptedFaultInjector faults;
  FaultRule rule;
  rule.op = IoOp::kRename;
  rule.path_contains = "trust";
  rule.skip = 1;
  rule.times = 2;
  rule.error = std::errc::read_only_file_system;
  faults.AddRule(rule);
  const IoPoint rename_trust{IoOp::kRename, "/x/trust"};
  EXPECT_FALSE(faults.Before({IoOp::kWrite, "/x/trust"}).has_value());
  EXPECT_FALSE(faults.Before({IoOp::kRename, "/x/state"}).has_value());
  EXPECT_FALSE(faults.Before(rename_trust).has_value());  // skipped
  EXPECT_EQ(faults.Before(rename_trust), std::errc::read_only_file_system);
  EXPECT_EQ(faults.Before(rename_trust), std::errc::read_only_file_system);
  EXPECT_FALSE(faults.Before(rename_trust).has_value());  // used up
  EXPECT_EQ(faults.PointsSeen(), 6);
  EXPECT_EQ(faults.Log()[1], "rename /x/state");
}

TEST(FaultInjector, DefaultCrashExitsWithoutCleanup) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ScriptedFaultInjector faults;
    faults.CrashAtIndex(1);
    (void)faults.Before({IoOp::kOpen, "a"});
    (void)faults.Before({IoOp::kWrite, "a"});
    ::_exit(0);
  }
  int wstatus;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), ScriptedFaultInjector::kCrashExitCode);
}

TEST(IoStatus, MapsErrnoToCanonicalCodes) {
  EXPECT_TRUE(absl::IsResourceExhausted(IoErrorStatus(ENOSPC, "write", "/f")));
  EXPECT_TRUE(absl::IsResourceExhausted(IoErrorStatus(EDQUOT, "write", "/f")));
  EXPECT_TRUE(absl::IsPermissionDenied(IoErrorStatus(EROFS, "write", "/f")));
  EXPECT_TRUE(absl::IsPermissionDenied(IoErrorStatus(EACCES, "write", "/f")));
  EXPECT_TRUE(absl::IsNotFound(IoErrorStatus(ENOENT, "open", "/f")));
  EXPECT_TRUE(absl::IsUnavailable(IoErrorStatus(EIO, "fsync", "/f")));
  EXPECT_EQ(IoErrorStatus(std::errc::no_space_on_device, "write", "/f").message(),
            "write /f: No space left on device");
}

TEST(RunCommand, ReportsExitStatusAndStderr) {
  EXPECT_TRUE(RunCommand({"true"}).ok());
  absl::Status s = RunCommand({"sh", "-c", "echo boom >&2; exit 3"});
  EXPECT_TRUE(absl::IsInternal(s));
  EXPECT_TRUE(absl::StrContains(s.message(), "exit status 3")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "boom")) << s;
  s = RunCommand({"/nonexistent/edict-no-such-program"});
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  s = RunCommand({"sleep", "5"}, absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
}

}  // namespace
}  // namespace edict::ports
