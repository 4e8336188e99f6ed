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

// A product catalogue setting as transport/native_entries.cc fills it.
NativePolicyEntry Product(const std::string& key, NativeValue value, bool mandatory,
                          const std::string& registry_key, const std::string& value_name,
                          uint8_t registry_type) {
  NativePolicyEntry e;
  e.key = key;
  e.value = std::move(value);
  e.mandatory = mandatory;
  e.registry_key = registry_key;
  e.registry_value = value_name;
  e.registry_type = registry_type;
  return e;
}

constexpr char kVpn[] = "Acme Networks\\Acme VPN";
constexpr char kMail[] = "Acme Networks\\Acme Mail";

// Full() plus two products' settings (registry types: 0 Auto, 1 DWord, 2 QWord, 3 String,
// 4 MultiString).
std::vector<NativePolicyEntry> FullWithProducts() {
  std::vector<NativePolicyEntry> out = Full();
  out.push_back(Product("acmevpn.always_on", true, true, kVpn, "AlwaysOn", 1));
  out.push_back(Product("acmevpn.protocol", std::string("wireguard"), true, kVpn, "Protocol", 3));
  out.push_back(Product("acmevpn.allowed_protocols", std::vector<std::string>{"ikev2", "wireguard"},
                        true, kVpn, "AllowedProtocols", 4));
  out.push_back(Product("acmevpn.idle_timeout", int64_t{600}, true, kVpn, "IdleTimeout", 2));
  out.push_back(Product("acmevpn.offset", int64_t{-5}, true, kVpn, "Offset", 1));
  out.push_back(Product("acmevpn.lockdown_mode", false, true, kVpn, "acmevpn.lockdown_mode", 0));
  out.push_back(Product("acmevpn.server", std::string("vpn.example"), false, kVpn, "Server", 0));
  out.push_back(Product("acmemail.signature", std::string("-- "), true, kMail, "Signature", 0));
  return out;
}

// Smaller() plus what is left of the products: one VPN setting, no mail product.
std::vector<NativePolicyEntry> SmallerWithProducts() {
  std::vector<NativePolicyEntry> out = Smaller();
  out.push_back(Product("acmevpn.always_on", false, true, kVpn, "AlwaysOn", 1));
  return out;
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
    vpn_ = key_.path() + "\\" + kVpn;
    mail_ = key_.path() + "\\" + kMail;
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
  std::string vpn_, mail_;  // product keys
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

TEST_F(RegistryStoreTest, ProductSettingsGoUnderTheProductKeyWithTheirNamesAndTypes) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(FullWithProducts()).ok());
  // Built-in settings exactly as without products.
  EXPECT_EQ(ListRegistryValues(false, mandatory_),
            (std::vector<std::string>{"browser.allow", "browser.big", "browser.homepage",
                                      "browser.negative", "communicator.ceip"}));
  EXPECT_EQ(ListRegistryValues(false, recommended_),
            (std::vector<std::string>{"browser.cache_mb", "browser.theme"}));
  EXPECT_EQ(ListRegistryValues(false, vpn_),
            (std::vector<std::string>{"AllowedProtocols", "AlwaysOn", "IdleTimeout", "Offset",
                                      "Protocol", "acmevpn.lockdown_mode"}));
  EXPECT_EQ(ListRegistryValues(false, vpn_ + "\\Recommended"),
            (std::vector<std::string>{"Server"}));
  EXPECT_EQ(ListRegistryValues(false, mail_), (std::vector<std::string>{"Signature"}));
  RegistryValue always_on = Value(vpn_, "AlwaysOn");
  EXPECT_EQ(always_on.type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(always_on.number, 1u);
  RegistryValue lockdown = Value(vpn_, "acmevpn.lockdown_mode");  // Auto, derived name
  EXPECT_EQ(lockdown.type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(lockdown.number, 0u);
  RegistryValue protocol = Value(vpn_, "Protocol");
  EXPECT_EQ(protocol.type, static_cast<unsigned long>(REG_SZ));
  EXPECT_EQ(protocol.text, "wireguard");
  RegistryValue allowed = Value(vpn_, "AllowedProtocols");
  EXPECT_EQ(allowed.type, static_cast<unsigned long>(REG_MULTI_SZ));
  EXPECT_EQ(allowed.list, (std::vector<std::string>{"ikev2", "wireguard"}));
  RegistryValue idle = Value(vpn_, "IdleTimeout");  // QWord although it fits a DWORD
  EXPECT_EQ(idle.type, static_cast<unsigned long>(REG_QWORD));
  EXPECT_EQ(idle.number, 600u);
  RegistryValue offset = Value(vpn_, "Offset");  // DWord, 32-bit two's complement
  EXPECT_EQ(offset.type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(offset.number, 0xfffffffbu);
  RegistryValue server = Value(vpn_ + "\\Recommended", "Server");
  EXPECT_EQ(server.type, static_cast<unsigned long>(REG_SZ));
  EXPECT_EQ(server.text, "vpn.example");
  const std::vector<std::string> owned = store->OwnedKeys().value();
  for (const char* item :
       {"mandatory/Acme Networks\\Acme VPN/AlwaysOn",
        "mandatory/Acme Networks\\Acme Mail/Signature",
        "recommended/Acme Networks\\Acme VPN/Server", "mandatory/communicator.ceip"}) {
    EXPECT_NE(std::find(owned.begin(), owned.end(), item), owned.end()) << item;
  }
  EXPECT_EQ(owned.size(), 15u);
  EXPECT_TRUE(std::is_sorted(owned.begin(), owned.end()));
  // Applying the same policy again writes nothing.
  ScriptedFaultInjector recorder;
  ASSERT_TRUE(Store(&recorder)->Apply(FullWithProducts()).ok());
  for (const std::string& step : recorder.Log()) {
    EXPECT_FALSE(absl::StartsWith(step, "write")) << step;
  }
  // A store that does not write products leaves them alone.
  RegistryPolicyOptions options;
  options.local_machine = false;
  options.base_key = key_.path();
  options.vendor = "Contoso";
  options.product = "Other";
  options.products = false;
  options.state = state_.get();
  options.record_name = "native_registry_other";
  auto other = OpenRegistryPolicyStore(options).value();
  ASSERT_TRUE(other->Apply(FullWithProducts()).ok());
  EXPECT_EQ(other->OwnedKeys().value().size(), 7u);
  ASSERT_TRUE(other->Apply({}).ok());
  EXPECT_EQ(ListRegistryValues(false, vpn_).size(), 6u);
}

TEST_F(RegistryStoreTest, RemovedProductSettingsAndCataloguesLeaveOnlyForeignValues) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(FullWithProducts()).ok());
  wintest::SetUserString(vpn_, "VendorSetting", "keep");
  wintest::SetUserDword(vpn_ + "\\Recommended", "VendorDefault", 2);
  // One VPN setting left; the mail catalogue is gone.
  ASSERT_TRUE(store->Apply(SmallerWithProducts()).ok());
  EXPECT_EQ(ListRegistryValues(false, vpn_),
            (std::vector<std::string>{"AlwaysOn", "VendorSetting"}));
  EXPECT_EQ(Value(vpn_, "AlwaysOn").number, 0u);
  EXPECT_EQ(Value(vpn_, "VendorSetting").text, "keep");
  EXPECT_EQ(ListRegistryValues(false, vpn_ + "\\Recommended"),
            (std::vector<std::string>{"VendorDefault"}));
  EXPECT_FALSE(RegistryKeyExists(false, mail_)) << "an emptied product key is removed";
  EXPECT_TRUE(RegistryKeyExists(false, key_.path() + "\\Acme Networks")) << "vendor key is left";
  EXPECT_EQ(ListRegistryValues(false, mandatory_),
            (std::vector<std::string>{"browser.cache_mb", "communicator.ceip"}));
  // The VPN catalogue is gone too (a store opened afresh knows what it owns).
  ASSERT_TRUE(Store()->Apply(Smaller()).ok());
  EXPECT_EQ(ListRegistryValues(false, vpn_), (std::vector<std::string>{"VendorSetting"}));
  EXPECT_EQ(ListRegistryValues(false, vpn_ + "\\Recommended"),
            (std::vector<std::string>{"VendorDefault"}));
  EXPECT_EQ(
      Store()->OwnedKeys().value(),
      (std::vector<std::string>{"mandatory/browser.cache_mb", "mandatory/communicator.ceip"}));
  // Without foreign values nothing of the product is left; Clear removes everything ours.
  ASSERT_TRUE(store->Apply(FullWithProducts()).ok());
  ASSERT_TRUE(Store()->Clear().ok());
  EXPECT_EQ(ListRegistryValues(false, vpn_), (std::vector<std::string>{"VendorSetting"}));
  EXPECT_EQ(ListRegistryValues(false, vpn_ + "\\Recommended"),
            (std::vector<std::string>{"VendorDefault"}));
  EXPECT_FALSE(RegistryKeyExists(false, mail_));
  EXPECT_FALSE(RegistryKeyExists(false, mandatory_));
}

TEST_F(RegistryStoreTest, RefusesToOverwriteAProductValueItDidNotWrite) {
  wintest::SetUserDword(vpn_, "alwayson", 7);  // value names compare case-insensitively
  auto store = Store();
  const absl::Status s = store->Apply(FullWithProducts());
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "AlwaysOn")) << s;
  EXPECT_EQ(ListRegistryValues(false, vpn_), (std::vector<std::string>{"alwayson"}));
  EXPECT_EQ(Value(vpn_, "alwayson").number, 7u);
  EXPECT_FALSE(RegistryKeyExists(false, mandatory_));
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(Value(vpn_, "alwayson").number, 7u);
}

TEST_F(RegistryStoreTest, InvalidProductEntriesChangeNothing) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(FullWithProducts()).ok());
  const std::vector<NativePolicyEntry> bad = {
      Product("p.a", true, true, "Acme", "A", 0),                  // one key name
      Product("p.a", true, true, "Acme\\VPN\\Sub", "A", 0),        // three
      Product("p.a", true, true, "..\\VPN", "A", 0),               // ".."
      Product("p.a", true, true, "Acme\\", "A", 0),                // empty name
      Product("p.a", true, true, "Acme\\V\tPN", "A", 0),           // control character
      Product("p.a", true, true, "Acme\\V\xffN", "A", 0),          // not UTF-8
      Product("p.a", true, true, kVpn, "A/B", 0),                  // '/' in the value name
      Product("p.a", true, true, kVpn, std::string(256, 'x'), 0),  // too long
      Product("p.a", true, true, kVpn, "A", 3),                    // bool as String
      Product("p.a", std::string("x"), true, kVpn, "A", 1),        // string as DWord
      Product("p.a", int64_t{1} << 32, true, kVpn, "A", 1),        // too big for a DWORD
      Product("p.a", int64_t{-(int64_t{1} << 31) - 1}, true, kVpn, "A", 1),
      Product("p.a", std::string("x"), true, kVpn, "A", 4),  // string as MultiString
      Product("p.a", std::vector<std::string>{"x"}, true, kVpn, "A", 3),
      Product("p.a", std::vector<std::string>{"x", ""}, true, kVpn, "A", 4),
      Product("p.a", true, true, kVpn, "A", 9),  // unknown type
  };
  for (const NativePolicyEntry& e : bad) {
    SCOPED_TRACE(e.registry_key + " / " + e.registry_value);
    std::vector<NativePolicyEntry> entries = Smaller();
    entries.push_back(e);
    const absl::Status s = store->Apply(entries);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_EQ(ListRegistryValues(false, mandatory_).size(), 5u);
    EXPECT_EQ(ListRegistryValues(false, vpn_).size(), 6u);
  }
  // Two settings mapping to one value (case-insensitively, also across products).
  const std::vector<std::vector<NativePolicyEntry>> clashes = {
      {Product("p.a", true, true, kVpn, "Name", 0), Product("p.b", true, true, kVpn, "NAME", 0)},
      {Product("p.a", true, true, kVpn, "Name", 0),
       Product("q.a", true, true, "acme networks\\acme vpn", "name", 0)},
      {{"communicator.ceip", true, true},
       Product("p.a", true, true, "Contoso\\Edict", "Communicator.Ceip", 0)},
  };
  for (const auto& entries : clashes) {
    const absl::Status s = store->Apply(entries);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_EQ(ListRegistryValues(false, vpn_).size(), 6u);
  }
}

TEST_F(RegistryStoreTest, ProductFailureAtEveryStepThenRecovers) {
  ScriptedFaultInjector count;
  ASSERT_TRUE(Store()->Apply(SmallerWithProducts()).ok());
  ASSERT_TRUE(Store(&count)->Apply(FullWithProducts()).ok());
  const int steps = count.PointsSeen();
  ASSERT_GE(steps, 10);
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE(absl::StrCat("fail step ", k, ": ", count.Log()[static_cast<size_t>(k)]));
    ASSERT_TRUE(Store()->Apply(SmallerWithProducts()).ok());
    ScriptedFaultInjector faults;
    faults.FailAtIndex(k, std::errc::no_space_on_device);
    const absl::Status s = Store(&faults)->Apply(FullWithProducts());
    EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
    // Whatever is in the registry is owned, and the next Apply converges.
    const std::vector<std::string> owned = Store()->OwnedKeys().value();
    for (const auto& [key, prefix] :
         {std::make_pair(vpn_, std::string("mandatory/") + kVpn + "/"),
          std::make_pair(vpn_ + "\\Recommended", std::string("recommended/") + kVpn + "/"),
          std::make_pair(mail_, std::string("mandatory/") + kMail + "/")}) {
      for (const std::string& v : ListRegistryValues(false, key)) {
        EXPECT_NE(std::find(owned.begin(), owned.end(), prefix + v), owned.end()) << v;
      }
    }
    ASSERT_TRUE(Store()->Apply(SmallerWithProducts()).ok());
    EXPECT_EQ(ListRegistryValues(false, vpn_), (std::vector<std::string>{"AlwaysOn"}));
    EXPECT_FALSE(RegistryKeyExists(false, mail_));
    EXPECT_FALSE(RegistryKeyExists(false, vpn_ + "\\Recommended"));
  }
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

// As CrashAtEveryStepConverges with product settings: SmallerWithProducts() then a child
// crashing at every step of Apply(FullWithProducts()).
TEST_F(RegistryStoreTest, ProductCrashAtEveryStepConverges) {
  const std::string state_root = dir_.Sub("state");
  auto reset = [&] {
    auto store = Store();
    ASSERT_TRUE(store->Clear().ok());
    ASSERT_TRUE(store->Apply(SmallerWithProducts()).ok());
  };
  int steps = 0;
  {
    reset();
    ScriptedFaultInjector recorder;
    WindowsStateStoreOptions o;
    o.root = state_root;
    o.faults = &recorder;
    auto state = OpenWindowsStateStore(o).value();
    auto store = OpenStore(key_.path(), state.get(), &recorder);
    ASSERT_TRUE(store->Apply(FullWithProducts()).ok());
    steps = recorder.PointsSeen();
  }
  ASSERT_GE(steps, 15);
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE(absl::StrCat("crash at step ", k));
    reset();
    const long code = wintest::RunSelf(
        {"--child-registry-crash", key_.path(), state_root, absl::StrCat(k), "products"});
    ASSERT_EQ(code, static_cast<long>(kTerminateSelfExitCode));
    WindowsStateStoreOptions options;
    options.root = state_root;
    state_ = OpenWindowsStateStore(options).value();  // as after a restart
    auto store = Store();
    const std::vector<std::string> owned = store->OwnedKeys().value();
    for (const auto& [key, prefix] :
         {std::make_pair(mandatory_, std::string("mandatory/")),
          std::make_pair(recommended_, std::string("recommended/")),
          std::make_pair(vpn_, std::string("mandatory/") + kVpn + "/"),
          std::make_pair(vpn_ + "\\Recommended", std::string("recommended/") + kVpn + "/"),
          std::make_pair(mail_, std::string("mandatory/") + kMail + "/")}) {
      for (const std::string& v : ListRegistryValues(false, key)) {
        EXPECT_NE(std::find(owned.begin(), owned.end(), prefix + v), owned.end()) << v;
      }
    }
    ASSERT_TRUE(store->Apply(SmallerWithProducts()).ok());
    EXPECT_EQ(ListRegistryValues(false, vpn_), (std::vector<std::string>{"AlwaysOn"}));
    EXPECT_FALSE(RegistryKeyExists(false, vpn_ + "\\Recommended"));
    EXPECT_FALSE(RegistryKeyExists(false, mail_));
    EXPECT_EQ(ListRegistryValues(false, mandatory_),
              (std::vector<std::string>{"browser.cache_mb", "communicator.ceip"}));
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

// --child-registry-crash <base key> <state root> <k> [products]: Apply(Full()) (or
// FullWithProducts()) with the registry and the state store sharing one injector that crashes
// at step k.
int RegistryCrashChild(const std::vector<std::string>& args) {
  int k = 0;
  if (args.size() < 3 || args.size() > 4 || !absl::SimpleAtoi(args[2], &k)) return 2;
  const bool products = args.size() == 4 && args[3] == "products";
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
  return store->Apply(products ? FullWithProducts() : Full()).ok() ? 0 : 4;
}

}  // namespace wintest
}  // namespace edict::ports
