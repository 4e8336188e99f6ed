// StateStore: atomicity under crashes at every I/O step, torn and corrupt files, injected
// disk-full and read-only errors.

#include "ports/state_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ports/fault_injector.h"
#include "ports/linux/linux_state_store.h"
#include "ports/linux/process.h"
#include "tests/ports/test_util.h"

namespace edict::ports {
namespace {

using testing::ReadFileOrNull;
using testing::TempDir;

std::unique_ptr<StateStore> Open(const std::string& root, FaultInjector* faults = nullptr) {
  LinuxStateStoreOptions options;
  options.root = root;
  options.faults = faults;
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenLinuxStateStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::string Content(char tag, size_t n = 100) {
  std::string s(n, tag);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(tag + (i % 7));
  return s;
}

TEST(StateBlobCodec, RoundTripsAndBindsTheName) {
  const std::string image = EncodeStateBlob("trust", "hello");
  EXPECT_EQ(image.size(), kStateBlobHeaderSize + 5);
  ASSERT_EQ(DecodeStateBlob("trust", image).value(), "hello");
  // The same bytes presented as another blob fail: a swapped file is detected.
  EXPECT_TRUE(absl::IsDataLoss(DecodeStateBlob("state", image).status()));
  EXPECT_EQ(DecodeStateBlob("e", EncodeStateBlob("e", "")).value(), "");
}

TEST(StateBlobCodec, ValidatesNames) {
  EXPECT_TRUE(ValidateStateBlobName("active_bundle").ok());
  for (const char* bad : {"", "a.b", "../x", "a/b", "x y", "name.prev"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ValidateStateBlobName(bad))) << bad;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateStateBlobName(std::string(65, 'a'))));
}

TEST(LinuxStateStore, WriteReadRemove) {
  TempDir dir;
  auto store = Open(dir.Sub("state"));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(absl::IsNotFound(store->Read("state").status()));
  EXPECT_TRUE(absl::IsNotFound(store->ReadWithFallback("state").status()));
  ASSERT_TRUE(store->Write("state", "one").ok());
  EXPECT_EQ(store->Read("state").value(), "one");
  ASSERT_TRUE(store->Write("state", "two").ok());
  EXPECT_EQ(store->Read("state").value(), "two");
  // The previous generation is kept next to the current one.
  EXPECT_EQ(DecodeStateBlob("state", *ReadFileOrNull(dir.Sub("state/state.prev"))).value(), "one");
  EXPECT_TRUE(absl::IsInvalidArgument(store->Write("bad/name", "x")));
  ASSERT_TRUE(store->Remove("state").ok());
  EXPECT_TRUE(absl::IsNotFound(store->ReadWithFallback("state").status()));
  EXPECT_EQ(testing::ListDir(dir.Sub("state")), std::vector<std::string>{});
  // The root is private to the agent.
  struct stat st;
  ASSERT_EQ(::stat(dir.Sub("state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(LinuxStateStore, RejectsOversizedBlob) {
  TempDir dir;
  LinuxStateStoreOptions options;
  options.root = dir.path();
  options.max_blob_bytes = 10;
  auto store = OpenLinuxStateStore(options).value();
  EXPECT_TRUE(store->Write("a", std::string(10, 'x')).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(store->Write("a", std::string(11, 'x'))));
  // A file grown beyond any blob is corrupt, and is not read into memory whole.
  testing::WriteFileOrDie(dir.Sub("a"), std::string(1000, 'x'));
  EXPECT_TRUE(absl::IsDataLoss(store->Read("a").status()));
}

// The I/O steps of one Write, by dry run with a recording injector.
std::vector<std::string> StepsOfWrite(const std::string& root, const std::string& content) {
  ScriptedFaultInjector recorder;
  auto store = Open(root, &recorder);
  EXPECT_TRUE(store->Write("state", content).ok());
  return recorder.Log();
}

void Seed(const std::string& root, const std::vector<std::string>& generations) {
  testing::RemoveTree(root);
  auto store = Open(root);
  for (const std::string& g : generations) ASSERT_TRUE(store->Write("state", g).ok());
}

// Kills a child at every step of Write(new) and checks what a restarted store reads.
void CrashAtEveryStep(const std::vector<std::string>& before) {
  TempDir dir;
  const std::string root = dir.Sub("state");
  const std::string next = Content('N', 300);
  Seed(root, before);
  const std::vector<std::string> steps = StepsOfWrite(root, next);
  ASSERT_GE(steps.size(), 6u);  // open, 2 writes, fsync, close, rename, fsync_dir at least
  // The step at which the new content becomes current: the rename of the temp file.
  int commit = -1;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (absl::StartsWith(steps[i], "rename ") && absl::EndsWith(steps[i], "/state")) {
      commit = static_cast<int>(i);
    }
  }
  ASSERT_GE(commit, 0);

  for (int k = 0; k < static_cast<int>(steps.size()); ++k) {
    SCOPED_TRACE(absl::StrCat("crash before step ", k, ": ", steps[static_cast<size_t>(k)]));
    Seed(root, before);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ScriptedFaultInjector faults;
      faults.SetCrashAction([] { KillSelf(); });
      faults.CrashAtIndex(k);
      LinuxStateStoreOptions options;
      options.root = root;
      options.faults = &faults;
      auto store = OpenLinuxStateStore(options);
      if (!store.ok()) ::_exit(2);
      (void)(*store)->Write("state", next);
      ::_exit(3);  // the crash point was never reached
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "child did not die at the crash point, status " << wstatus;

    auto store = Open(root);
    absl::StatusOr<std::string> current = store->Read("state");
    const std::string expected = k > commit ? next : (before.empty() ? "" : before.back());
    if (before.empty() && k <= commit) {
      EXPECT_TRUE(absl::IsNotFound(current.status())) << current.status();
    } else {
      ASSERT_TRUE(current.ok()) << current.status();
      EXPECT_EQ(*current, expected) << "neither old nor new, or the wrong one";
    }
    // Both generations that exist verify; no temporary file survives a reopen.
    if (testing::PathExists(root + "/state.prev")) {
      absl::StatusOr<std::string> prev =
          DecodeStateBlob("state", *ReadFileOrNull(root + "/state.prev"));
      ASSERT_TRUE(prev.ok()) << prev.status();
    }
    for (const std::string& name : testing::ListDir(root)) {
      EXPECT_FALSE(absl::StrContains(name, "tmp")) << name;
    }
    // And the next write succeeds.
    ASSERT_TRUE(store->Write("state", "after").ok());
    EXPECT_EQ(store->Read("state").value(), "after");
  }
}

TEST(LinuxStateStoreCrash, FirstWriteAtEveryStep) { CrashAtEveryStep({}); }
TEST(LinuxStateStoreCrash, OverwriteAtEveryStep) { CrashAtEveryStep({Content('A')}); }
TEST(LinuxStateStoreCrash, OverwriteWithPreviousGenerationAtEveryStep) {
  CrashAtEveryStep({Content('A'), Content('B', 50)});
}

TEST(LinuxStateStoreCorruption, TruncatedAtEveryOffsetFallsBackToPrevious) {
  TempDir dir;
  const std::string a = Content('A', 40), b = Content('B', 60);
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", a).ok());
  ASSERT_TRUE(store->Write("state", b).ok());
  const std::string image = *ReadFileOrNull(dir.Sub("state"));
  ASSERT_EQ(image.size(), kStateBlobHeaderSize + b.size());
  for (size_t len = 0; len < image.size(); ++len) {
    SCOPED_TRACE(absl::StrCat("truncated to ", len));
    testing::WriteFileOrDie(dir.Sub("state"), image.substr(0, len));
    EXPECT_TRUE(absl::IsDataLoss(store->Read("state").status()));
    absl::StatusOr<StateRead> read = store->ReadWithFallback("state");
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->bytes, a);
    EXPECT_EQ(read->generation, StateGeneration::kPrevious);
    EXPECT_TRUE(absl::IsDataLoss(read->current_error));
  }
  // Appended garbage is detected too.
  testing::WriteFileOrDie(dir.Sub("state"), image + "x");
  EXPECT_TRUE(absl::IsDataLoss(store->Read("state").status()));
}

TEST(LinuxStateStoreCorruption, EveryFlippedByteIsDetected) {
  TempDir dir;
  const std::string a = Content('A', 40), b = Content('B', 60);
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", a).ok());
  ASSERT_TRUE(store->Write("state", b).ok());
  const std::string image = *ReadFileOrNull(dir.Sub("state"));
  for (size_t i = 0; i < image.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string bad = image;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      testing::WriteFileOrDie(dir.Sub("state"), bad);
      ASSERT_TRUE(absl::IsDataLoss(store->Read("state").status())) << "byte " << i;
      absl::StatusOr<StateRead> read = store->ReadWithFallback("state");
      ASSERT_TRUE(read.ok());
      ASSERT_EQ(read->bytes, a) << "byte " << i;
    }
  }
}

TEST(LinuxStateStoreCorruption, CorruptCurrentNeverReplacesLastGoodGeneration) {
  TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", "good-1").ok());
  ASSERT_TRUE(store->Write("state", "good-2").ok());
  testing::WriteFileOrDie(dir.Sub("state"), "garbage");
  ASSERT_TRUE(store->Write("state", "good-3").ok());
  EXPECT_EQ(store->Read("state").value(), "good-3");
  // The previous generation is still good-1 (the garbage was not promoted).
  testing::WriteFileOrDie(dir.Sub("state"), "garbage again");
  absl::StatusOr<StateRead> read = store->ReadWithFallback("state");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->bytes, "good-1");
}

TEST(LinuxStateStoreCorruption, BothGenerationsCorruptIsDataLoss) {
  TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", "1").ok());
  ASSERT_TRUE(store->Write("state", "2").ok());
  testing::WriteFileOrDie(dir.Sub("state"), "x");
  testing::WriteFileOrDie(dir.Sub("state.prev"), "y");
  absl::StatusOr<StateRead> read = store->ReadWithFallback("state");
  EXPECT_TRUE(absl::IsDataLoss(read.status())) << read.status();
  // Only a corrupt current and no previous: DataLoss, not NotFound.
  ::unlink(dir.Sub("state.prev").c_str());
  EXPECT_TRUE(absl::IsDataLoss(store->ReadWithFallback("state").status()));
  // A blob file copied under another name does not verify.
  ASSERT_TRUE(store->Write("trust", "t").ok());
  testing::WriteFileOrDie(dir.Sub("state"), *ReadFileOrNull(dir.Sub("trust")));
  EXPECT_TRUE(absl::IsDataLoss(store->Read("state").status()));
}

// Injects `error` at each step of a Write in turn: the error comes back with the right code,
// the old content stays (new only when the failure hit the final directory sync), nothing
// temporary is left behind, and the next write succeeds.
void FailAtEveryStep(std::errc error, absl::StatusCode expected_code) {
  TempDir dir;
  const std::string root = dir.Sub("state");
  Seed(root, {"old-1", "old-2"});
  const std::vector<std::string> steps = StepsOfWrite(root, "new");
  for (size_t k = 0; k < steps.size(); ++k) {
    SCOPED_TRACE(absl::StrCat("fail step ", k, ": ", steps[k]));
    Seed(root, {"old-1", "old-2"});
    ScriptedFaultInjector faults;
    faults.FailAtIndex(static_cast<int>(k), error);
    auto store = Open(root, &faults);
    const absl::Status s = store->Write("state", "new");
    ASSERT_EQ(s.code(), expected_code) << s;
    const bool last_step = k + 1 == steps.size();
    EXPECT_EQ(store->Read("state").value(), last_step ? "new" : "old-2");
    for (const std::string& name : testing::ListDir(root)) {
      EXPECT_FALSE(absl::StrContains(name, "tmp")) << name;
    }
    ASSERT_TRUE(store->Write("state", "retry").ok());  // space is back
    EXPECT_EQ(store->Read("state").value(), "retry");
  }
}

TEST(LinuxStateStoreFaults, DiskFullAtEveryStep) {
  FailAtEveryStep(std::errc::no_space_on_device, absl::StatusCode::kResourceExhausted);
}
TEST(LinuxStateStoreFaults, ReadOnlyAtEveryStep) {
  FailAtEveryStep(std::errc::read_only_file_system, absl::StatusCode::kPermissionDenied);
}
TEST(LinuxStateStoreFaults, IoErrorAtEveryStep) {
  FailAtEveryStep(std::errc::io_error, absl::StatusCode::kUnavailable);
}

TEST(LinuxStateStoreFaults, MessageNamesTheFile) {
  TempDir dir;
  ScriptedFaultInjector faults;
  FaultRule rule;
  rule.op = IoOp::kWrite;
  rule.error = std::errc::no_space_on_device;
  faults.AddRule(rule);
  auto store = Open(dir.path(), &faults);
  const absl::Status s = store->Write("state", "x");
  EXPECT_TRUE(absl::IsResourceExhausted(s));
  EXPECT_TRUE(absl::StrContains(s.message(), dir.Sub("state.tmp"))) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "No space left on device")) << s;
}

TEST(LinuxStateStoreFaults, RealReadOnlyDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", "old").ok());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0500), 0);
  const absl::Status s = store->Write("state", "new");
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_EQ(store->Read("state").value(), "old");
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  EXPECT_TRUE(store->Write("state", "new").ok());
  EXPECT_EQ(store->Read("state").value(), "new");
}

TEST(LinuxStateStore, OpenRemovesLeftoverTemporaries) {
  TempDir dir;
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->Write("state", "x").ok());
  }
  testing::WriteFileOrDie(dir.Sub("state.tmp"), "half");
  testing::WriteFileOrDie(dir.Sub("state.prev-tmp"), "half");
  testing::WriteFileOrDie(dir.Sub("unrelated"), "keep");
  auto store = Open(dir.path());
  EXPECT_EQ(testing::ListDir(dir.path()), (std::vector<std::string>{"state", "unrelated"}));
}

TEST(LinuxStateStore, ConcurrentWritersLeaveAVerifiedBlob) {
  TempDir dir;
  auto store = Open(dir.path());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(store->Write("state", absl::StrCat("t", t, "-", i)).ok());
        EXPECT_TRUE(store->Read("state").ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  absl::StatusOr<std::string> last = store->Read("state");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(absl::EndsWith(*last, "-24")) << *last;
}

}  // namespace
}  // namespace edict::ports
