// Shared fixture for the agent tests: keys, a trust document, payloads with distinct
// content per serial, and an activation wired to Linux ports in a temporary directory.
#ifndef EDICT_TESTS_AGENT_FIXTURE_H_
#define EDICT_TESTS_AGENT_FIXTURE_H_

#include <sys/resource.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kernel/publisher.h"
#include "policy/edict_generated.h"
#include "ports/audit.h"
#include "ports/clock.h"
#include "ports/device_identity.h"
#include "ports/fault_injector.h"
#include "ports/linux/dconf_store.h"
#include "ports/linux/linux_state_store.h"
#include "ports/linux/managed_json_store.h"
#include "tests/ports/test_util.h"
#include "transport/activation.h"
#include "transport/bundle.h"
#include "transport/trust.h"

namespace edict::agent::testing {

using ports::testing::ReadFileOrNull;
using ports::testing::TempDir;
using ports::testing::WriteFileOrDie;

inline constexpr int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z
inline constexpr int64_t kDay = 86400;

// Forwards to `inner` only while armed (so set-up I/O is not counted or faulted).
class ArmableInjector : public ports::FaultInjector {
 public:
  explicit ArmableInjector(ports::FaultInjector* inner) : inner_(inner) {}
  std::optional<std::errc> Before(const ports::IoPoint& p) override {
    return armed_ && inner_ ? inner_->Before(p) : std::nullopt;
  }
  void Arm(bool on) { armed_ = on; }
  void Set(ports::FaultInjector* inner) { inner_ = inner; }

 private:
  ports::FaultInjector* inner_;
  bool armed_ = false;
};

// A payload whose content depends on the serial: communicator.ceip mandatory = (serial odd),
// plus, for even serials, communicator.client_logging recommended = true.
inline transport::TrustKey TK(const transport::PrivateSigningKey& k, transport::KeyRole role,
                              transport::KeyStatus status = transport::KeyStatus::kActive) {
  return transport::TrustKey{k.public_key(), role, status, ""};
}

inline std::vector<uint8_t> Payload(uint64_t serial, const std::string& tenant = "contoso",
                                    int64_t issued_at = kNow - 60,
                                    int64_t expires_at = kNow + 30 * kDay) {
  namespace pf = edict::fb;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<pf::SettingRule>> rules;
  {
    auto setting = fbb.CreateString("communicator.ceip");
    auto value = pf::CreateBoolValue(fbb, serial % 2 == 1);
    rules.push_back(pf::CreateSettingRule(fbb, setting, pf::Level_Mandatory, pf::Value_BoolValue,
                                          value.Union()));
  }
  if (serial % 2 == 0) {
    auto setting = fbb.CreateString("communicator.client_logging");
    auto value = pf::CreateBoolValue(fbb, true);
    rules.push_back(pf::CreateSettingRule(fbb, setting, pf::Level_Recommended, pf::Value_BoolValue,
                                          value.Union()));
  }
  auto rules_vec = fbb.CreateVector(rules);
  auto t = fbb.CreateString(tenant);
  auto target = pf::CreateTarget(fbb, t);
  auto header = pf::CreateHeader(fbb, 1, 1, serial, issued_at, expires_at, target);
  fbb.Finish(pf::CreatePayload(fbb, header, rules_vec), pf::PayloadIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

// The managed JSON the stores must hold for `serial` (see Payload).
inline std::string ExpectedManaged(uint64_t serial) {
  return absl::StrCat("{\n  \"communicator.ceip\": ", serial % 2 == 1 ? "true" : "false", "\n}\n");
}

inline long PeakRssKiB() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Keys and trust shared by every test of a binary.
struct Keys {
  std::unique_ptr<transport::PrivateSigningKey> root, signer, signer2;
  std::vector<uint8_t> trust_v1;

  static Keys& Get() {
    static Keys* k = [] {
      auto* k = new Keys;
      k->root = *transport::PrivateSigningKey::Generate();
      k->signer = *transport::PrivateSigningKey::Generate();
      k->signer2 = *transport::PrivateSigningKey::Generate();
      transport::TrustSpec spec;
      spec.version = 1;
      spec.issued_at = kNow - kDay;
      spec.expires_at = kNow + 365 * kDay;
      spec.keys = {TK(*k->root, transport::KeyRole::kRoot),
                   TK(*k->signer, transport::KeyRole::kSigner)};
      const transport::PrivateSigningKey* signers[] = {k->root.get()};
      k->trust_v1 = *transport::BuildTrustDocument(spec, signers);
      return k;
    }();
    return *k;
  }

  std::vector<uint8_t> Bundle(uint64_t serial, const std::string& tenant = "contoso") const {
    const transport::PrivateSigningKey* keys[] = {signer.get()};
    return *transport::SignBundle(Payload(serial, tenant), keys);
  }
  std::vector<uint8_t> BundleBy(const transport::PrivateSigningKey& key, uint64_t serial) const {
    const transport::PrivateSigningKey* keys[] = {&key};
    return *transport::SignBundle(Payload(serial), keys);
  }
  // Version 2: signer revoked, signer2 added.
  std::vector<uint8_t> TrustV2RevokingSigner() const {
    transport::TrustSpec spec;
    spec.version = 2;
    spec.issued_at = kNow - kDay / 2;
    spec.expires_at = kNow + 365 * kDay;
    spec.keys = {TK(*root, transport::KeyRole::kRoot),
                 TK(*signer, transport::KeyRole::kSigner, transport::KeyStatus::kRevoked),
                 TK(*signer2, transport::KeyRole::kSigner)};
    const transport::PrivateSigningKey* signers[] = {root.get()};
    return *transport::BuildTrustDocument(spec, signers);
  }
};

// One endpoint: Linux state store, managed JSON + dconf stores (no `dconf update`), memory
// audit, fake clock, all under `dir`.
struct Endpoint {
  std::string dir;
  ports::FakeClock clock{absl::FromUnixSeconds(kNow)};
  ports::MemoryAuditSink audit;
  ArmableInjector faults{nullptr};
  std::unique_ptr<ports::StateStore> state;
  std::vector<std::unique_ptr<ports::NativePolicyStore>> native;
  std::unique_ptr<ports::DeviceIdentity> identity;
  SnapshotPublisher publisher;
  std::unique_ptr<transport::Activation> activation;

  explicit Endpoint(std::string d, transport::StepHook hook = nullptr,
                    std::vector<uint8_t> pinned = Keys::Get().trust_v1)
      : dir(std::move(d)) {
    ports::LinuxStateStoreOptions so;
    so.root = dir + "/state";
    so.faults = &faults;
    state = *ports::OpenLinuxStateStore(so);
    ports::ManagedJsonOptions mo;
    mo.root = dir + "/native";
    mo.targets = {{"edict", "etc/edict/policies", "", true}};
    mo.state = state.get();
    mo.faults = &faults;
    native.push_back(*ports::OpenManagedJsonStore(mo));
    ports::DconfOptions dopt;
    dopt.root = dir + "/native";
    dopt.update_command.clear();
    dopt.state = state.get();
    dopt.faults = &faults;
    native.push_back(*ports::OpenDconfStore(dopt));
    identity = *ports::DeviceIdentity::Create("device-1", {"contoso", {"finance"}});
    transport::ActivationOptions o;
    o.state = state.get();
    o.audit = &audit;
    o.clock = &clock;
    o.identity = identity.get();
    o.publisher = &publisher;
    o.native = {{native[0].get(), transport::NativeKeyStyle::kCatalog},
                {native[1].get(), transport::NativeKeyStyle::kGSettings}};
    o.pinned_trust = std::move(pinned);
    o.step_hook = std::move(hook);
    activation = *transport::Activation::Create(std::move(o));
  }

  std::string Managed() const {
    return ReadFileOrNull(dir + "/native/etc/edict/policies/managed/edict.json").value_or("<none>");
  }
  std::optional<std::string> Recommended() const {
    return ReadFileOrNull(dir + "/native/etc/edict/policies/recommended/edict.json");
  }
  int Count(ports::AuditKind kind, const std::string& code = "") const {
    int n = 0;
    for (const auto& e : audit.Events()) {
      if (e.kind == kind && (code.empty() || e.code == code)) ++n;
    }
    return n;
  }
  std::string AuditText() const {
    std::string out;
    for (const auto& e : audit.Events()) out += ports::FormatAuditJson(e) + "\n";
    return out;
  }
};

}  // namespace edict::agent::testing

#endif  // EDICT_TESTS_AGENT_FIXTURE_H_
