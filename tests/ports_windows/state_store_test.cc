// Windows StateStore: atomicity under crashes at every I/O step (a child process terminated at
// step k), torn and corrupt files, injected disk-full / read-only / I/O errors at every step.

#include <windows.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ports/fault_injector.h"
#include "ports/windows/win_process.h"
#include "ports/windows/win_state_store.h"
#include "tests/ports_windows/test_util.h"

namespace edict::ports {
namespace {

using wintest::ReadFileOrNull;
using wintest::TempDir;

std::unique_ptr<StateStore> Open(const std::string& root, FaultInjector* faults = nullptr) {
  WindowsStateStoreOptions options;
  options.root = root;
  options.faults = faults;
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenWindowsStateStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::string Content(char tag, size_t n = 100) {
  std::string s(n, tag);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(tag + (i % 7));
  return s;
}

const std::string& NextContent() {
  static const std::string* const next = new std::string(Content('N', 300));
  return *next;
}

TEST(WindowsStateStore, WriteReadRemove) {
  TempDir dir;
  auto store = Open(dir.Sub("state"));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(absl::IsNotFound(store->Read("state").status()));
  EXPECT_TRUE(absl::IsNotFound(store->ReadWithFallback("state").status()));
  ASSERT_TRUE(store->Write("state", "one").ok());
  EXPECT_EQ(store->Read("state").value(), "one");
  ASSERT_TRUE(store->Write("state", "two").ok());
  EXPECT_EQ(store->Read("state").value(), "two");
  EXPECT_EQ(DecodeStateBlob("state", *ReadFileOrNull(dir.Sub("state\\state.prev"))).value(), "one");
  EXPECT_TRUE(absl::IsInvalidArgument(store->Write("bad/name", "x")));
  EXPECT_TRUE(absl::IsInvalidArgument(store->Write("bad\\name", "x")));
  ASSERT_TRUE(store->Remove("state").ok());
  EXPECT_TRUE(absl::IsNotFound(store->ReadWithFallback("state").status()));
  EXPECT_EQ(wintest::ListDir(dir.Sub("state")), std::vector<std::string>{});
  EXPECT_EQ(store->Location(), dir.Sub("state"));
}

TEST(WindowsStateStore, DefaultRootIsUnderProgramData) {
  const std::string root = DefaultWindowsStateRoot();
  EXPECT_TRUE(absl::EndsWith(root, "\\edict")) << root;
  EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(root), "programdata")) << root;
}

TEST(WindowsStateStore, RejectsOversizedBlob) {
  TempDir dir;
  WindowsStateStoreOptions options;
  options.root = dir.path();
  options.max_blob_bytes = 10;
  auto store = OpenWindowsStateStore(options).value();
  EXPECT_TRUE(store->Write("a", std::string(10, 'x')).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(store->Write("a", std::string(11, 'x'))));
  wintest::WriteFileOrDie(dir.Sub("a"), std::string(1000, 'x'));
  EXPECT_TRUE(absl::IsDataLoss(store->Read("a").status()));
}

std::vector<std::string> StepsOfWrite(const std::string& root, const std::string& content) {
  ScriptedFaultInjector recorder;
  auto store = Open(root, &recorder);
  EXPECT_TRUE(store->Write("state", content).ok());
  return recorder.Log();
}

void Seed(const std::string& root, const std::vector<std::string>& generations) {
  wintest::RemoveTree(root);
  auto store = Open(root);
  for (const std::string& g : generations) ASSERT_TRUE(store->Write("state", g).ok());
}

// Terminates a child process at every step of Write(next) and checks what a restarted store
// reads: the old or the new content, never a mix, never nothing when there was something.
void CrashAtEveryStep(const std::vector<std::string>& before) {
  TempDir dir;
  const std::string root = dir.Sub("state");
  const std::string& next = NextContent();
  Seed(root, before);
  const std::vector<std::string> steps = StepsOfWrite(root, next);
  ASSERT_GE(steps.size(), 5u);  // open, 2 writes, flush, close, rename at least
  int commit = -1;              // the step at which the new content becomes current
  for (size_t i = 0; i < steps.size(); ++i) {
    if (absl::StartsWith(steps[i], "rename ") && absl::EndsWith(steps[i], "\\state")) {
      commit = static_cast<int>(i);
    }
  }
  ASSERT_GE(commit, 0);

  for (int k = 0; k < static_cast<int>(steps.size()); ++k) {
    SCOPED_TRACE(absl::StrCat("crash before step ", k, ": ", steps[static_cast<size_t>(k)]));
    Seed(root, before);
    const long code = wintest::RunSelf({"--child-state-crash", root, absl::StrCat(k)});
    ASSERT_EQ(code, static_cast<long>(kTerminateSelfExitCode))
        << "child did not die at the crash point";

    auto store = Open(root);
    absl::StatusOr<std::string> current = store->Read("state");
    if (before.empty() && k <= commit) {
      EXPECT_TRUE(absl::IsNotFound(current.status())) << current.status();
    } else {
      ASSERT_TRUE(current.ok()) << current.status();
      EXPECT_EQ(*current, k > commit ? next : before.back()) << "neither old nor new";
    }
    if (wintest::PathExists(root + "\\state.prev")) {
      absl::StatusOr<std::string> prev =
          DecodeStateBlob("state", *ReadFileOrNull(root + "\\state.prev"));
      ASSERT_TRUE(prev.ok()) << prev.status();
    }
    for (const std::string& name : wintest::ListDir(root)) {
      EXPECT_FALSE(absl::StrContains(name, "tmp")) << name;
    }
    ASSERT_TRUE(store->Write("state", "after").ok());
    EXPECT_EQ(store->Read("state").value(), "after");
  }
}

TEST(WindowsStateStoreCrash, FirstWriteAtEveryStep) { CrashAtEveryStep({}); }
TEST(WindowsStateStoreCrash, OverwriteAtEveryStep) { CrashAtEveryStep({Content('A')}); }
TEST(WindowsStateStoreCrash, OverwriteWithPreviousGenerationAtEveryStep) {
  CrashAtEveryStep({Content('A'), Content('B', 50)});
}

TEST(WindowsStateStoreCorruption, TruncatedAtEveryOffsetFallsBackToPrevious) {
  TempDir dir;
  const std::string a = Content('A', 40), b = Content('B', 60);
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", a).ok());
  ASSERT_TRUE(store->Write("state", b).ok());
  const std::string image = *ReadFileOrNull(dir.Sub("state"));
  ASSERT_EQ(image.size(), kStateBlobHeaderSize + b.size());
  for (size_t len = 0; len < image.size(); ++len) {
    SCOPED_TRACE(absl::StrCat("truncated to ", len));
    wintest::WriteFileOrDie(dir.Sub("state"), image.substr(0, len));
    EXPECT_TRUE(absl::IsDataLoss(store->Read("state").status()));
    absl::StatusOr<StateRead> read = store->ReadWithFallback("state");
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->bytes, a);
    EXPECT_EQ(read->generation, StateGeneration::kPrevious);
    EXPECT_TRUE(absl::IsDataLoss(read->current_error));
  }
  wintest::WriteFileOrDie(dir.Sub("state"), image + "x");
  EXPECT_TRUE(absl::IsDataLoss(store->Read("state").status()));
}

TEST(WindowsStateStoreCorruption, EveryFlippedByteIsDetected) {
  TempDir dir;
  const std::string a = Content('A', 40), b = Content('B', 60);
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", a).ok());
  ASSERT_TRUE(store->Write("state", b).ok());
  const std::string image = *ReadFileOrNull(dir.Sub("state"));
  for (size_t i = 0; i < image.size(); ++i) {
    std::string bad = image;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    wintest::WriteFileOrDie(dir.Sub("state"), bad);
    ASSERT_TRUE(absl::IsDataLoss(store->Read("state").status())) << "byte " << i;
    absl::StatusOr<StateRead> read = store->ReadWithFallback("state");
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->bytes, a) << "byte " << i;
  }
}

TEST(WindowsStateStoreCorruption, CorruptCurrentNeverReplacesLastGoodGeneration) {
  TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", "good-1").ok());
  ASSERT_TRUE(store->Write("state", "good-2").ok());
  wintest::WriteFileOrDie(dir.Sub("state"), "garbage");
  ASSERT_TRUE(store->Write("state", "good-3").ok());
  EXPECT_EQ(store->Read("state").value(), "good-3");
  wintest::WriteFileOrDie(dir.Sub("state"), "garbage again");
  absl::StatusOr<StateRead> read = store->ReadWithFallback("state");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->bytes, "good-1");
}

TEST(WindowsStateStoreCorruption, BlobCopiedUnderAnotherNameDoesNotVerify) {
  TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("trust", "t").ok());
  wintest::WriteFileOrDie(dir.Sub("state"), *ReadFileOrNull(dir.Sub("trust")));
  EXPECT_TRUE(absl::IsDataLoss(store->Read("state").status()));
  EXPECT_TRUE(absl::IsDataLoss(store->ReadWithFallback("state").status()));
}

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
    EXPECT_EQ(store->Read("state").value(), "old-2");  // the rename is the last step
    for (const std::string& name : wintest::ListDir(root)) {
      EXPECT_FALSE(absl::StrContains(name, "tmp")) << name;
    }
    ASSERT_TRUE(store->Write("state", "retry").ok());
    EXPECT_EQ(store->Read("state").value(), "retry");
  }
}

TEST(WindowsStateStoreFaults, DiskFullAtEveryStep) {
  FailAtEveryStep(std::errc::no_space_on_device, absl::StatusCode::kResourceExhausted);
}
TEST(WindowsStateStoreFaults, ReadOnlyAtEveryStep) {
  FailAtEveryStep(std::errc::read_only_file_system, absl::StatusCode::kPermissionDenied);
}
TEST(WindowsStateStoreFaults, IoErrorAtEveryStep) {
  FailAtEveryStep(std::errc::io_error, absl::StatusCode::kUnavailable);
}

TEST(WindowsStateStoreFaults, RealReadOnlyFileIsPermissionDenied) {
  TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Write("state", "old").ok());
  // A read-only temp file cannot be truncated by CreateFileW: ERROR_ACCESS_DENIED.
  wintest::WriteFileOrDie(dir.Sub("state.tmp"), "x");
  ASSERT_TRUE(::SetFileAttributesA(dir.Sub("state.tmp").c_str(), FILE_ATTRIBUTE_READONLY));
  HANDLE probe = ::CreateFileA(dir.Sub("state.tmp").c_str(), GENERIC_WRITE, 0, nullptr,
                               OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (probe != INVALID_HANDLE_VALUE) {
    ::CloseHandle(probe);
    ::SetFileAttributesA(dir.Sub("state.tmp").c_str(), FILE_ATTRIBUTE_NORMAL);
    GTEST_SKIP() << "the read-only attribute is not enforced here (wine running as root maps it "
                    "to Unix mode bits, which root ignores)";
  }
  const absl::Status s = store->Write("state", "new");
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_EQ(store->Read("state").value(), "old");
  ASSERT_TRUE(::SetFileAttributesA(dir.Sub("state.tmp").c_str(), FILE_ATTRIBUTE_NORMAL));
}

TEST(WindowsStateStore, OpenRemovesLeftoverTemporaries) {
  TempDir dir;
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->Write("state", "x").ok());
  }
  wintest::WriteFileOrDie(dir.Sub("state.tmp"), "half");
  wintest::WriteFileOrDie(dir.Sub("state.prev-tmp"), "half");
  wintest::WriteFileOrDie(dir.Sub("unrelated"), "keep");
  auto store = Open(dir.path());
  EXPECT_EQ(wintest::ListDir(dir.path()), (std::vector<std::string>{"state", "unrelated"}));
}

TEST(WindowsStateStore, ConcurrentWritersLeaveAVerifiedBlob) {
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

namespace wintest {

// --child-state-crash <root> <k>: Write(NextContent()) with a crash before step k.
int StateCrashChild(const std::vector<std::string>& args) {
  int k = 0;
  if (args.size() != 2 || !absl::SimpleAtoi(args[1], &k)) return 2;
  ScriptedFaultInjector faults;
  faults.SetCrashAction([] { TerminateSelf(); });
  faults.CrashAtIndex(k);
  WindowsStateStoreOptions options;
  options.root = args[0];
  options.faults = &faults;
  auto store = OpenWindowsStateStore(options);
  if (!store.ok()) return 2;
  (void)(*store)->Write("state", NextContent());
  return 3;  // the crash point was never reached
}

}  // namespace wintest
}  // namespace edict::ports
