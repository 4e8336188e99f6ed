// Registry policy store: exact values and types, no tattooing, foreign values untouched,
// crashes at every step converge, injected failures change nothing they should not.

#include "ports/windows/registry_store.h"

#include <windows.h>

#include <algorithm>
#include <string>
#include <vector>

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

std::vector<NativePolicyEntry> Full() {
  return {
      {"communicator.ceip", false, true},
      {"browser.homepage", std::string("https://intra.example/\"q\" \xc3\xa9"), true},
      {"browser.cache_mb", int64_t{512}, false},
      {"browser.allow", std::vector<std::string>{"a.example", "b.example"}, true},
      {"browser.theme", std::string("dark"), false},
      {"browser.big", int64_t{1} << 40, true},
      {"browser.negative", int64_t{-1}, true},
  };
}

std::vector<NativePolicyEntry> Smaller() {
  return {{"communicator.ceip", true, true}, {"browser.cache_mb", int64_t{7}, true}};
}

std::unique_ptr<NativePolicyStore> OpenStore(const std::string& base, StateStore* state,
                                             FaultInjector* faults = nullptr) {
  RegistryPolicyOptions options;
  options.local_machine = false;
  options.base_key = base;
  options.vendor = "Contoso";
  options.product = "Edict";
  options.state = state;
  options.faults = faults;
  absl::StatusOr<std::unique_ptr<NativePolicyStore>> store = OpenRegistryPolicyStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

class RegistryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WindowsStateStoreOptions options;
    options.root = dir_.Sub("state");
    state_ = OpenWindowsStateStore(options).value();
    mandatory_ = key_.path() + "\\Contoso\\Edict";
    recommended_ = mandatory_ + "\\Recommended";
  }
  std::unique_ptr<NativePolicyStore> Store(FaultInjector* faults = nullptr) {
    return OpenStore(key_.path(), state_.get(), faults);
  }
  RegistryValue Value(const std::string& key, const std::string& name) {
    absl::StatusOr<RegistryValue> v = ReadRegistryValue(false, key, name);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : RegistryValue();
  }

  wintest::TempDir dir_;
  wintest::TempRegistryKey key_;
  std::unique_ptr<StateStore> state_;
  std::string mandatory_, recommended_;
};

TEST_F(RegistryStoreTest, ApplyWritesExactValuesWithTheRightTypes) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  EXPECT_EQ(ListRegistryValues(false, mandatory_),
            (std::vector<std::string>{"browser.allow", "browser.big", "browser.homepage",
                                      "browser.negative", "communicator.ceip"}));
  EXPECT_EQ(ListRegistryValues(false, recommended_),
            (std::vector<std::string>{"browser.cache_mb", "browser.theme"}));
  RegistryValue ceip = Value(mandatory_, "communicator.ceip");
  EXPECT_EQ(ceip.type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(ceip.number, 0u);
  RegistryValue home = Value(mandatory_, "browser.homepage");
  EXPECT_EQ(home.type, static_cast<unsigned long>(REG_SZ));
  EXPECT_EQ(home.text, "https://intra.example/\"q\" \xc3\xa9");
  RegistryValue allow = Value(mandatory_, "browser.allow");
  EXPECT_EQ(allow.type, static_cast<unsigned long>(REG_MULTI_SZ));
  EXPECT_EQ(allow.list, (std::vector<std::string>{"a.example", "b.example"}));
  RegistryValue big = Value(mandatory_, "browser.big");
  EXPECT_EQ(big.type, static_cast<unsigned long>(REG_QWORD));
  EXPECT_EQ(big.number, uint64_t{1} << 40);
  RegistryValue negative = Value(mandatory_, "browser.negative");
  EXPECT_EQ(negative.type, static_cast<unsigned long>(REG_QWORD));
  EXPECT_EQ(static_cast<int64_t>(negative.number), -1);
  RegistryValue cache = Value(recommended_, "browser.cache_mb");
  EXPECT_EQ(cache.type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(cache.number, 512u);
  EXPECT_EQ(store->OwnedKeys().value(),
            (std::vector<std::string>{"mandatory/browser.allow", "mandatory/browser.big",
                                      "mandatory/browser.homepage", "mandatory/browser.negative",
                                      "mandatory/communicator.ceip", "recommended/browser.cache_mb",
                                      "recommended/browser.theme"}));
  // Applying the same policy again writes nothing.
  ScriptedFaultInjector recorder;
  auto again = Store(&recorder);
  ASSERT_TRUE(again->Apply(Full()).ok());
  for (const std::string& step : recorder.Log()) {
    EXPECT_FALSE(absl::StartsWith(step, "write")) << step;
  }
}

TEST_F(RegistryStoreTest, SmallerPolicyRemovesWhatIsNoLongerSetAndSparesForeignValues) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  wintest::SetUserString(mandatory_, "AdminSetting", "keep");
  wintest::SetUserDword(recommended_, "AdminDefault", 3);
  ASSERT_TRUE(store->Apply(Smaller()).ok());
  EXPECT_EQ(ListRegistryValues(false, mandatory_),
            (std::vector<std::string>{"AdminSetting", "browser.cache_mb", "communicator.ceip"}));
  EXPECT_EQ(ListRegistryValues(false, recommended_), (std::vector<std::string>{"AdminDefault"}))
      << "tattooed recommended values";
  EXPECT_EQ(Value(mandatory_, "communicator.ceip").number, 1u);
  EXPECT_EQ(Value(mandatory_, "browser.cache_mb").number, 7u);
  // A store opened afresh (agent restart) knows what it owns.
  auto again = Store();
  ASSERT_TRUE(again->Clear().ok());
  EXPECT_EQ(ListRegistryValues(false, mandatory_), (std::vector<std::string>{"AdminSetting"}));
  EXPECT_EQ(ListRegistryValues(false, recommended_), (std::vector<std::string>{"AdminDefault"}));
  EXPECT_TRUE(again->OwnedKeys().value().empty());
  EXPECT_TRUE(absl::IsNotFound(state_->Read("native_registry").status()));
}

TEST_F(RegistryStoreTest, EmptyPolicyLeavesNoValuesAndNoKeys) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  ASSERT_TRUE(store->Apply({}).ok());
  EXPECT_FALSE(RegistryKeyExists(false, recommended_));
  EXPECT_FALSE(RegistryKeyExists(false, mandatory_));
  ASSERT_TRUE(store->Apply(Full()).ok());
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_FALSE(RegistryKeyExists(false, mandatory_));
}

TEST_F(RegistryStoreTest, RefusesToOverwriteAValueItDidNotWrite) {
  wintest::SetUserDword(mandatory_, "communicator.ceip", 1);
  auto store = Store();
  const absl::Status s = store->Apply(Full());
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "communicator.ceip")) << s;
  EXPECT_EQ(ListRegistryValues(false, mandatory_), (std::vector<std::string>{"communicator.ceip"}));
  EXPECT_EQ(Value(mandatory_, "communicator.ceip").number, 1u);
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(Value(mandatory_, "communicator.ceip").number, 1u);
}

TEST_F(RegistryStoreTest, InvalidEntriesChangeNothing) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  const std::vector<std::vector<NativePolicyEntry>> bad = {
      {{"a..b", true, true}},
      {{"a.b", true, true}, {"a.b", false, true}},
      {{"a.b", std::string("bad \xff utf8"), true}},
      {{"a.b", std::vector<std::string>{"x", ""}, true}},  // REG_MULTI_SZ cannot hold ""
  };
  for (const auto& entries : bad) {
    const absl::Status s = store->Apply(entries);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_EQ(ListRegistryValues(false, mandatory_).size(), 5u);
  }
}

TEST_F(RegistryStoreTest, KeyPrefixSelectsAndStrips) {
  RegistryPolicyOptions options;
  options.local_machine = false;
  options.base_key = key_.path();
  options.vendor = "Chromium";
  options.product = "Chromium";
  options.key_prefix = "chromium.";
  options.state = state_.get();
  auto store = OpenRegistryPolicyStore(options).value();
  ASSERT_TRUE(store
                  ->Apply({{"chromium.HomepageLocation", std::string("https://x/"), true},
                           {"communicator.ceip", false, true}})
                  .ok());
  EXPECT_EQ(ListRegistryValues(false, key_.path() + "\\Chromium\\Chromium"),
            (std::vector<std::string>{"HomepageLocation"}));
}

TEST_F(RegistryStoreTest, RejectsBadOptions) {
  RegistryPolicyOptions options;
  options.local_machine = false;
  options.base_key = key_.path();
  EXPECT_TRUE(absl::IsInvalidArgument(OpenRegistryPolicyStore(options).status()));  // no state
  options.state = state_.get();
  options.vendor = "a\\b";
  EXPECT_TRUE(absl::IsInvalidArgument(OpenRegistryPolicyStore(options).status()));
  options.vendor = "ok";
  options.base_key = "\\x";
  EXPECT_TRUE(absl::IsInvalidArgument(OpenRegistryPolicyStore(options).status()));
}

// Terminates a child at every registry and state step of Apply(Smaller()) after Full(): the
// next Apply converges, and nothing edict wrote is ever left unrecorded.
TEST_F(RegistryStoreTest, CrashAtEveryStepConverges) {
  const std::string state_root = dir_.Sub("state");
  auto reset = [&] {
    auto store = Store();
    ASSERT_TRUE(store->Clear().ok());
    ASSERT_TRUE(store->Apply(Smaller()).ok());
  };
  // Count the steps (registry and state store share the injector, as in the child).
  int steps = 0;
  {
    reset();
    ScriptedFaultInjector recorder;
    WindowsStateStoreOptions o;
    o.root = state_root;
    o.faults = &recorder;
    auto state = OpenWindowsStateStore(o).value();
    auto store = OpenStore(key_.path(), state.get(), &recorder);
    ASSERT_TRUE(store->Apply(Full()).ok());
    steps = recorder.PointsSeen();
  }
  ASSERT_GE(steps, 10);
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE(absl::StrCat("crash at step ", k));
    reset();
    const long code =
        wintest::RunSelf({"--child-registry-crash", key_.path(), state_root, absl::StrCat(k)});
    ASSERT_EQ(code, static_cast<long>(kTerminateSelfExitCode));
    WindowsStateStoreOptions options;
    options.root = state_root;
    state_ = OpenWindowsStateStore(options).value();  // as after a restart
    auto store = Store();
    // Every value present is recorded as owned.
    const std::vector<std::string> owned = store->OwnedKeys().value();
    for (const std::string& v : ListRegistryValues(false, mandatory_)) {
      EXPECT_NE(std::find(owned.begin(), owned.end(), "mandatory/" + v), owned.end()) << v;
    }
    for (const std::string& v : ListRegistryValues(false, recommended_)) {
      EXPECT_NE(std::find(owned.begin(), owned.end(), "recommended/" + v), owned.end()) << v;
    }
    ASSERT_TRUE(store->Apply(Smaller()).ok());
    EXPECT_EQ(ListRegistryValues(false, mandatory_),
              (std::vector<std::string>{"browser.cache_mb", "communicator.ceip"}));
    EXPECT_FALSE(RegistryKeyExists(false, recommended_));
  }
}

TEST_F(RegistryStoreTest, FailureAtEveryStepThenRecovers) {
  ScriptedFaultInjector count;
  {
    ASSERT_TRUE(Store()->Apply(Smaller()).ok());
    ASSERT_TRUE(Store(&count)->Apply(Full()).ok());
  }
  const int steps = count.PointsSeen();
  ASSERT_GE(steps, 5);
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE(absl::StrCat("fail step ", k, ": ", count.Log()[static_cast<size_t>(k)]));
    ASSERT_TRUE(Store()->Apply(Smaller()).ok());
    ScriptedFaultInjector faults;
    faults.FailAtIndex(k, std::errc::no_space_on_device);
    const absl::Status s = Store(&faults)->Apply(Full());
    EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
    // Whatever is in the registry is owned, and the next Apply converges.
    const std::vector<std::string> owned = Store()->OwnedKeys().value();
    for (const std::string& v : ListRegistryValues(false, mandatory_)) {
      EXPECT_NE(std::find(owned.begin(), owned.end(), "mandatory/" + v), owned.end()) << v;
    }
    ASSERT_TRUE(Store()->Apply(Full()).ok());
    EXPECT_EQ(ListRegistryValues(false, mandatory_).size(), 5u);
    EXPECT_EQ(ListRegistryValues(false, recommended_).size(), 2u);
  }
}

}  // namespace

namespace wintest {

// --child-registry-crash <base key> <state root> <k>: Apply(Full()) with the registry and the
// state store sharing one injector that crashes at step k.
int RegistryCrashChild(const std::vector<std::string>& args) {
  int k = 0;
  if (args.size() != 3 || !absl::SimpleAtoi(args[2], &k)) return 2;
  ScriptedFaultInjector faults;
  faults.SetCrashAction([] { TerminateSelf(); });
  faults.CrashAtIndex(k);
  WindowsStateStoreOptions state_options;
  state_options.root = args[1];
  state_options.faults = &faults;
  auto state = OpenWindowsStateStore(state_options);
  if (!state.ok()) return 2;
  auto store = OpenStore(args[0], state->get(), &faults);
  if (store == nullptr) return 2;
  return store->Apply(Full()).ok() ? 0 : 4;
}

}  // namespace wintest
}  // namespace edict::ports
