// Managed/recommended JSON store: exact files, no tattoo, foreign files untouched, crashes.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ports/fault_injector.h"
#include "ports/linux/linux_state_store.h"
#include "ports/linux/managed_json_store.h"
#include "ports/linux/process.h"
#include "tests/ports/test_util.h"

namespace edict::ports {
namespace {

using testing::ReadFileOrNull;
using testing::TempDir;

class ManagedJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Sub("root");
    state_ = OpenLinuxStateStore({dir_.Sub("state"), nullptr}).value();
  }

  std::unique_ptr<NativePolicyStore> Store(FaultInjector* faults = nullptr,
                                           StateStore* state = nullptr) {
    ManagedJsonOptions options;
    options.root = root_;
    options.targets = {{"chromium", "", "", true}, {"firefox", "etc/firefox/policies", "", false}};
    options.state = state != nullptr ? state : state_.get();
    options.faults = faults;
    auto store = OpenManagedJsonStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return *std::move(store);
  }

  std::string ChromiumManaged() const {
    return root_ + "/etc/chromium/policies/managed/edict.json";
  }
  std::string ChromiumRecommended() const {
    return root_ + "/etc/chromium/policies/recommended/edict.json";
  }
  std::string FirefoxManaged() const { return root_ + "/etc/firefox/policies/managed/edict.json"; }

  static std::vector<NativePolicyEntry> Full() {
    return {
        {"communicator.ceip", false, true},
        {"browser.homepage", std::string("https://intra.example/\"q\""), true},
        {"browser.cache_mb", int64_t{512}, false},
        {"browser.allow", std::vector<std::string>{"a.example", "b.example"}, true},
        {"browser.theme", std::string("dark"), false},
    };
  }
  static std::vector<NativePolicyEntry> Smaller() {
    return {{"communicator.ceip", true, true}, {"browser.cache_mb", int64_t{-1}, true}};
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<StateStore> state_;
};

constexpr char kFullManaged[] =
    "{\n"
    "  \"browser.allow\": [\"a.example\", \"b.example\"],\n"
    "  \"browser.homepage\": \"https://intra.example/\\\"q\\\"\",\n"
    "  \"communicator.ceip\": false\n"
    "}\n";
constexpr char kFullRecommended[] =
    "{\n"
    "  \"browser.cache_mb\": 512,\n"
    "  \"browser.theme\": \"dark\"\n"
    "}\n";
constexpr char kSmallerManaged[] =
    "{\n"
    "  \"browser.cache_mb\": -1,\n"
    "  \"communicator.ceip\": true\n"
    "}\n";

TEST_F(ManagedJsonTest, ApplyWritesExactlyTheEffectivePolicy) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), kFullManaged);
  EXPECT_EQ(ReadFileOrNull(ChromiumRecommended()), kFullRecommended);
  EXPECT_EQ(ReadFileOrNull(FirefoxManaged()), kFullManaged);
  // Firefox has no recommended level in this configuration.
  EXPECT_FALSE(testing::PathExists(root_ + "/etc/firefox/policies/recommended"));
  for (const std::string& path : {ChromiumManaged(), ChromiumRecommended()}) {
    std::optional<testing::Json> json = testing::ParseJson(*ReadFileOrNull(path));
    ASSERT_TRUE(json.has_value()) << path;
  }
  std::optional<testing::Json> json = testing::ParseJson(*ReadFileOrNull(ChromiumManaged()));
  EXPECT_EQ(json->object["browser.homepage"].str, "https://intra.example/\"q\"");
  EXPECT_EQ(store->OwnedKeys().value(),
            (std::vector<std::string>{
                "chromium/managed/browser.allow", "chromium/managed/browser.homepage",
                "chromium/managed/communicator.ceip", "chromium/recommended/browser.cache_mb",
                "chromium/recommended/browser.theme", "firefox/managed/browser.allow",
                "firefox/managed/browser.homepage", "firefox/managed/communicator.ceip"}));
  // Applying the same policy again changes nothing.
  ASSERT_TRUE(store->Apply(Full()).ok());
  EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), kFullManaged);
}

TEST_F(ManagedJsonTest, SmallerPolicyRemovesWhatIsNoLongerSetAndSparesForeignFiles) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  const std::string foreign = root_ + "/etc/chromium/policies/managed/site.json";
  const std::string foreign_rec = root_ + "/etc/chromium/policies/recommended/site.json";
  testing::WriteFileOrDie(foreign, "{\"HomepageLocation\": \"x\"}");
  testing::WriteFileOrDie(foreign_rec, "{}");
  ASSERT_TRUE(store->Apply(Smaller()).ok());
  EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), kSmallerManaged);
  EXPECT_FALSE(testing::PathExists(ChromiumRecommended())) << "tattooed recommended values";
  EXPECT_EQ(ReadFileOrNull(FirefoxManaged()), kSmallerManaged);
  EXPECT_EQ(ReadFileOrNull(foreign), "{\"HomepageLocation\": \"x\"}");
  EXPECT_EQ(ReadFileOrNull(foreign_rec), "{}");
  // A store opened afresh (agent restart) knows what it owns.
  auto again = Store();
  ASSERT_TRUE(again->Clear().ok());
  EXPECT_FALSE(testing::PathExists(ChromiumManaged()));
  EXPECT_FALSE(testing::PathExists(FirefoxManaged()));
  EXPECT_TRUE(testing::PathExists(foreign));
  EXPECT_TRUE(testing::PathExists(foreign_rec));
  EXPECT_TRUE(again->OwnedKeys().value().empty());
  EXPECT_TRUE(absl::IsNotFound(state_->Read("native_managed_json").status()));
}

TEST_F(ManagedJsonTest, EmptyPolicyLeavesNoFiles) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  ASSERT_TRUE(store->Apply({}).ok());
  for (const std::string& p : {ChromiumManaged(), ChromiumRecommended(), FirefoxManaged()}) {
    EXPECT_FALSE(testing::PathExists(p)) << p;
  }
}

TEST_F(ManagedJsonTest, RefusesToOverwriteAFileItDidNotWrite) {
  auto store = Store();
  ASSERT_TRUE(store->Apply({}).ok());
  testing::RemoveTree(root_);
  ASSERT_EQ(testing::RunShell("mkdir -p " + root_ + "/etc/chromium/policies/managed"), 0);
  testing::WriteFileOrDie(ChromiumManaged(), "{\"admin\": 1}");
  const absl::Status s = store->Apply(Full());
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), ChromiumManaged())) << s;
  EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), "{\"admin\": 1}");
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), "{\"admin\": 1}");
}

TEST_F(ManagedJsonTest, InvalidEntriesChangeNothing) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  const std::vector<std::vector<NativePolicyEntry>> bad = {
      {{"a..b", true, true}},
      {{"", true, true}},
      {{"a.b", true, true}, {"a.b", false, true}},
      {{"a b", true, true}},
      {{"a.b", std::string("bad \xff utf8"), true}},
      {{"a.b", std::vector<std::string>{std::string("nul\0x", 5)}, true}},
  };
  for (const auto& entries : bad) {
    const absl::Status s = store->Apply(entries);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), kFullManaged);
  }
}

TEST_F(ManagedJsonTest, KeyPrefixSelectsAndStrips) {
  ManagedJsonOptions options;
  options.root = root_;
  options.targets = {{"chromium", "", "chromium.", true}};
  options.state = state_.get();
  auto store = OpenManagedJsonStore(options).value();
  ASSERT_TRUE(store
                  ->Apply({{"chromium.HomepageLocation", std::string("https://x/"), true},
                           {"communicator.ceip", false, true}})
                  .ok());
  EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), "{\n  \"HomepageLocation\": \"https://x/\"\n}\n");
}

TEST_F(ManagedJsonTest, RejectsBadOptions) {
  ManagedJsonOptions options;
  options.root = root_;
  EXPECT_TRUE(absl::IsInvalidArgument(OpenManagedJsonStore(options).status()));  // no state
  options.state = state_.get();
  options.targets = {{"a", "x", "", true}, {"a", "y", "", true}};
  EXPECT_TRUE(absl::IsInvalidArgument(OpenManagedJsonStore(options).status()));
  options.targets = {{"a", "../etc", "", true}};
  EXPECT_TRUE(absl::IsInvalidArgument(OpenManagedJsonStore(options).status()));
  options.targets = {};
  options.file_name = "../x.json";
  EXPECT_TRUE(absl::IsInvalidArgument(OpenManagedJsonStore(options).status()));
}

// Every edict.json under the root.
std::vector<std::string> OurFiles(const std::string& root) {
  std::string out;
  testing::RunShell("find " + root + " -name 'edict.json*' 2>/dev/null | sort", &out);
  std::vector<std::string> files;
  for (absl::string_view l : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    files.emplace_back(l);
  }
  return files;
}

TEST_F(ManagedJsonTest, CrashAtEveryStepNeverLeavesUnownedFiles) {
  // Dry run: the steps of Apply(Smaller) then Apply(Full), after Apply(Full).
  std::vector<std::string> steps;
  {
    TempDir scratch;
    auto state = OpenLinuxStateStore({scratch.Sub("state"), nullptr}).value();
    ManagedJsonOptions options;
    options.root = scratch.Sub("root");
    options.targets = {{"chromium", "", "", true}, {"firefox", "etc/firefox/policies", "", false}};
    options.state = state.get();
    ASSERT_TRUE(OpenManagedJsonStore(options).value()->Apply(Full()).ok());
    ScriptedFaultInjector recorder;
    auto recording_state = OpenLinuxStateStore({scratch.Sub("state"), &recorder}).value();
    options.state = recording_state.get();
    options.faults = &recorder;
    ASSERT_TRUE(OpenManagedJsonStore(options).value()->Apply(Smaller()).ok());
    ASSERT_TRUE(OpenManagedJsonStore(options).value()->Apply(Full()).ok());
    steps = recorder.Log();
  }
  ASSERT_GT(steps.size(), 10u);
  for (size_t k = 0; k < steps.size(); ++k) {
    SCOPED_TRACE(absl::StrCat("crash before step ", k, ": ", steps[k]));
    testing::RemoveTree(root_);
    testing::RemoveTree(dir_.Sub("state"));
    state_ = OpenLinuxStateStore({dir_.Sub("state"), nullptr}).value();
    ASSERT_TRUE(Store()->Apply(Full()).ok());
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ScriptedFaultInjector faults;
      faults.SetCrashAction([] { KillSelf(); });
      faults.CrashAtIndex(static_cast<int>(k));
      auto state = OpenLinuxStateStore({dir_.Sub("state"), &faults});
      if (!state.ok()) ::_exit(2);
      // Smaller removes files, Full adds one back: both directions are crashed.
      (void)Store(&faults, state->get())->Apply(Smaller());
      (void)Store(&faults, state->get())->Apply(Full());
      ::_exit(3);
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << wstatus;
    state_ = OpenLinuxStateStore({dir_.Sub("state"), nullptr}).value();
    // Whatever the crash left, a restarted agent converges on the new policy...
    ASSERT_TRUE(Store()->Apply(Smaller()).ok());
    EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), kSmallerManaged);
    EXPECT_EQ(ReadFileOrNull(FirefoxManaged()), kSmallerManaged);
    EXPECT_FALSE(testing::PathExists(ChromiumRecommended()));
    EXPECT_EQ(OurFiles(root_).size(), 2u);
    // ...and unenrolling removes every file it ever wrote (and no temporaries are left).
    ASSERT_TRUE(Store()->Clear().ok());
    EXPECT_EQ(OurFiles(root_), std::vector<std::string>{});
  }
}

TEST_F(ManagedJsonTest, DiskFullAtEveryStepThenRecovers) {
  ASSERT_TRUE(Store()->Apply(Full()).ok());
  ScriptedFaultInjector recorder;
  {
    auto state = OpenLinuxStateStore({dir_.Sub("state"), &recorder}).value();
    ASSERT_TRUE(Store(&recorder, state.get())->Apply(Smaller()).ok());
    ASSERT_TRUE(Store(&recorder, state.get())->Apply(Full()).ok());
  }
  const int n = recorder.PointsSeen() / 2;  // roughly one Apply(Smaller)
  for (int k = 0; k < n; ++k) {
    SCOPED_TRACE(absl::StrCat("fail step ", k));
    ScriptedFaultInjector faults;
    faults.FailAtIndex(k, std::errc::no_space_on_device);
    auto state = OpenLinuxStateStore({dir_.Sub("state"), &faults}).value();
    const absl::Status s = Store(&faults, state.get())->Apply(Smaller());
    if (!s.ok()) {
      EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
    }
    // Each file is either the complete old or the complete new content.
    for (const std::string& path : {ChromiumManaged(), FirefoxManaged()}) {
      std::optional<std::string> text = ReadFileOrNull(path);
      ASSERT_TRUE(text.has_value()) << path;
      EXPECT_TRUE(*text == kFullManaged || *text == kSmallerManaged) << *text;
    }
    ASSERT_TRUE(Store()->Apply(Smaller()).ok());
    EXPECT_EQ(ReadFileOrNull(ChromiumManaged()), kSmallerManaged);
    EXPECT_FALSE(testing::PathExists(ChromiumRecommended()));
    ASSERT_TRUE(Store()->Apply(Full()).ok());
  }
}

}  // namespace
}  // namespace edict::ports
