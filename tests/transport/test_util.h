// Shared helpers for the transport tests: payloads built with FlatBufferBuilder, keys,
// trust documents and a fixture with a ready trust store.
#ifndef EDICT_TESTS_TRANSPORT_TEST_UTIL_H_
#define EDICT_TESTS_TRANSPORT_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "policy/edict_generated.h"
#include "transport/bundle.h"
#include "transport/errors.h"
#include "transport/keys.h"
#include "transport/trust.h"

namespace edict::transport::testing {

inline constexpr int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z
inline constexpr int64_t kDay = 86400;

struct PayloadSpec {
  uint64_t serial = 10;
  int64_t issued_at = kNow - 60;
  int64_t expires_at = kNow + 30 * kDay;
  std::string tenant = "contoso";
  std::vector<std::string> device_ids = {};
  std::vector<std::string> groups = {};
  uint32_t catalog_version = 1;
  uint32_t format_version = 1;
  size_t rules = 1;               // setting rules on communicator.ceip, each with its own group
  bool critical_unknown = false;  // add a critical rule on an unknown setting
};

inline std::vector<uint8_t> MakePayload(const PayloadSpec& p) {
  namespace pf = edict::fb;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<pf::SettingRule>> rules;
  for (size_t i = 0; i < p.rules; ++i) {
    auto setting = fbb.CreateString("communicator.ceip");
    auto value = pf::CreateBoolValue(fbb, i % 2 == 0);
    auto group = fbb.CreateString("group-" + std::to_string(i));
    auto groups = fbb.CreateVector(std::vector<flatbuffers::Offset<flatbuffers::String>>{group});
    pf::ConditionBuilder cb(fbb);
    cb.add_groups(groups);
    auto when = cb.Finish();
    auto note = fbb.CreateString("rule " + std::to_string(i));
    rules.push_back(pf::CreateSettingRule(fbb, setting, pf::Level_Mandatory, pf::Value_BoolValue,
                                          value.Union(), when,
                                          /*critical=*/false, note));
  }
  if (p.critical_unknown) {
    auto setting = fbb.CreateString("no.such.setting");
    auto value = pf::CreateBoolValue(fbb, true);
    rules.push_back(pf::CreateSettingRule(fbb, setting, pf::Level_Mandatory, pf::Value_BoolValue,
                                          value.Union(), 0,
                                          /*critical=*/true));
  }
  auto rules_vec = fbb.CreateVector(rules);
  auto tenant = fbb.CreateString(p.tenant);
  auto devices = fbb.CreateVectorOfStrings(p.device_ids);
  auto groups = fbb.CreateVectorOfStrings(p.groups);
  auto target = pf::CreateTarget(fbb, tenant, devices, groups);
  auto header = pf::CreateHeader(fbb, p.format_version, p.catalog_version, p.serial, p.issued_at,
                                 p.expires_at, target);
  fbb.Finish(pf::CreatePayload(fbb, header, rules_vec), pf::PayloadIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

inline std::unique_ptr<PrivateSigningKey> NewKey() {
  auto key = PrivateSigningKey::Generate();
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

inline TrustKey Entry(const PrivateSigningKey& k, KeyRole role,
                      KeyStatus status = KeyStatus::kActive) {
  return TrustKey{k.public_key(), role, status, ""};
}

template <typename T>
Error ErrorOfResult(const absl::StatusOr<T>& r) {
  return ErrorOf(r.status());
}

inline std::string Name(Error e) { return std::string(ErrorName(e)); }

// Expects `r` to fail with exactly `want`.
#define EXPECT_TRANSPORT_ERROR(r, want)                                                          \
  do {                                                                                           \
    const auto& _r = (r);                                                                        \
    EXPECT_FALSE(_r.ok());                                                                       \
    EXPECT_EQ(::edict::transport::testing::Name(::edict::transport::testing::ErrorOfResult(_r)), \
              ::edict::transport::testing::Name(want))                                           \
        << _r.status();                                                                          \
  } while (0)

// Keys generated once per test binary: three roots, three signers, one outsider.
class TransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!root_[0]) {
      for (auto& k : root_) k = NewKey();
      for (auto& k : signer_) k = NewKey();
      outsider_ = NewKey();
    }
  }

  // Version 1: roots r0, r1 (threshold 1), signers s0, s1 (threshold 1).
  static TrustSpec BaseSpec() {
    TrustSpec spec;
    spec.version = 1;
    spec.issued_at = kNow - kDay;
    spec.expires_at = kNow + 365 * kDay;
    spec.root_threshold = 1;
    spec.signer_threshold = 1;
    spec.keys = {Entry(*root_[0], KeyRole::kRoot), Entry(*root_[1], KeyRole::kRoot),
                 Entry(*signer_[0], KeyRole::kSigner), Entry(*signer_[1], KeyRole::kSigner)};
    return spec;
  }

  static std::vector<uint8_t> Doc(const TrustSpec& spec,
                                  std::vector<const PrivateSigningKey*> signers) {
    auto doc = BuildTrustDocument(spec, signers);
    EXPECT_TRUE(doc.ok()) << doc.status();
    return doc.ok() ? *doc : std::vector<uint8_t>();
  }

  static std::shared_ptr<const TrustStore> Store(const std::vector<uint8_t>& pinned,
                                                 const Limits& limits = {}) {
    auto store = TrustStore::Open(pinned, {}, kNow, limits);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::shared_ptr<const TrustStore>(*std::move(store)) : nullptr;
  }

  static std::vector<uint8_t> Sign(const std::vector<uint8_t>& payload,
                                   std::vector<const PrivateSigningKey*> keys) {
    auto b = SignBundle(payload, keys);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : std::vector<uint8_t>();
  }

  static absl::StatusOr<VerifiedBundle> VerifyWith(std::shared_ptr<const TrustStore> trust,
                                                   const std::vector<uint8_t>& bundle,
                                                   const EndpointState& state = {0, 5, 0},
                                                   int64_t now = kNow,
                                                   const EndpointIdentity& id = Identity(),
                                                   const VerifyOptions& options = {}) {
    auto verifier = BundleVerifier::Create(std::move(trust), options);
    if (!verifier.ok()) return verifier.status();
    return (*verifier)->Verify(bundle, id, state, now);
  }

  static EndpointIdentity Identity() { return {"contoso", "device-1", {"finance", "sales"}}; }

  static std::unique_ptr<PrivateSigningKey> root_[3];
  static std::unique_ptr<PrivateSigningKey> signer_[3];
  static std::unique_ptr<PrivateSigningKey> outsider_;
};

inline std::unique_ptr<PrivateSigningKey> TransportTest::root_[3];
inline std::unique_ptr<PrivateSigningKey> TransportTest::signer_[3];
inline std::unique_ptr<PrivateSigningKey> TransportTest::outsider_;

}  // namespace edict::transport::testing

#endif  // EDICT_TESTS_TRANSPORT_TEST_UTIL_H_
