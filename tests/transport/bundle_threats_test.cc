// Bundle threats of issue 5, one test per attack, named after the attack.
#include <algorithm>
#include <cstring>
#include <limits>

#include "tests/transport/test_util.h"
#include "transport/bundle_generated.h"
#include "transport/describe.h"

namespace edict::transport::testing {
namespace {

class BundleThreats : public TransportTest {
 protected:
  void SetUp() override { trust_ = Store(Doc(BaseSpec(), {root_[0].get()})); }

  std::vector<uint8_t> Valid(const PayloadSpec& p = {}) {
    return Sign(MakePayload(p), {signer_[0].get()});
  }
  absl::StatusOr<VerifiedBundle> Verify(const std::vector<uint8_t>& bundle,
                                        const EndpointState& state = {0, 5, 0}, int64_t now = kNow,
                                        const EndpointIdentity& id = Identity()) {
    return VerifyWith(trust_, bundle, state, now, id);
  }
  // A trust store whose signer threshold is `threshold` over signers s0, s1, s2.
  std::shared_ptr<const TrustStore> ThresholdStore(uint32_t threshold) {
    TrustSpec spec = BaseSpec();
    spec.keys.push_back(Entry(*signer_[2], KeyRole::kSigner));
    spec.signer_threshold = threshold;
    return Store(Doc(spec, {root_[0].get()}));
  }

  std::shared_ptr<const TrustStore> trust_;
};

TEST_F(BundleThreats, ValidBundleIsAcceptedAndActivated) {
  auto payload = MakePayload({});
  auto bundle = Sign(payload, {signer_[0].get()});
  auto r = Verify(bundle);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->serial, 10u);
  EXPECT_EQ(r->trust_version, 1u);
  ASSERT_EQ(r->key_ids.size(), 1u);
  EXPECT_EQ(r->key_ids[0], signer_[0]->id());
  EXPECT_EQ(r->digest, BundleDigest(payload));
  EXPECT_EQ(r->payload.size(), payload.size());
  EXPECT_EQ(std::memcmp(r->payload.data(), payload.data(), payload.size()), 0);
  ASSERT_NE(r->snapshot, nullptr);
  EXPECT_EQ(r->snapshot->serial(), 10u);
  EXPECT_EQ(r->next_state.last_serial, 10u);
  EXPECT_EQ(r->next_state.time_floor, kNow - 60);
}

TEST_F(BundleThreats, ArbitraryPayloadWithBadSignature) {
  // A signature lifted from another bundle does not cover this payload.
  auto good = Valid();
  auto other = MakePayload({.serial = 11});
  const fb::Bundle* env = fb::GetBundle(good.data());
  EnvelopeSignature sig{
      {env->signatures()->Get(0)->key_id()->begin(), env->signatures()->Get(0)->key_id()->end()},
      1,
      {env->signatures()->Get(0)->signature()->begin(),
       env->signatures()->Get(0)->signature()->end()}};
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(other, {sig})), Error::kSignature);

  // One flipped bit inside r (still strict DER) breaks the signature.
  sig.signature[10] ^= 0x01;
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(MakePayload({}), {sig})), Error::kSignature);

  // One flipped bit in the payload breaks it too (here: in the serial's bytes region).
  auto payload = MakePayload({});
  auto sigs = Sign(payload, {signer_[0].get()});
  const fb::Bundle* e2 = fb::GetBundle(sigs.data());
  const size_t at = e2->payload()->data() - sigs.data() + payload.size() / 2;
  sigs[at] ^= 0x40;
  EXPECT_FALSE(Verify(sigs).ok());
}

TEST_F(BundleThreats, SignatureMadeForAnotherDomainDoesNotVerify) {
  // Signed bytes without the bundle domain prefix (e.g. a signature a key made over the
  // raw payload, or over a trust document body) never verify as a bundle signature.
  auto payload = MakePayload({});
  auto raw = signer_[0]->SignDigest(Sha256::Hash(payload));
  ASSERT_TRUE(raw.ok());
  EnvelopeSignature sig{{signer_[0]->id().begin(), signer_[0]->id().end()}, 1, *raw};
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {sig})), Error::kSignature);
  Sha256 h;
  h.Update(Bytes(reinterpret_cast<const uint8_t*>(kTrustDomain), sizeof(kTrustDomain)));
  h.Update(payload);
  auto cross = signer_[0]->SignDigest(h.Finish());
  ASSERT_TRUE(cross.ok());
  sig.signature = *cross;
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {sig})), Error::kSignature);
}

TEST_F(BundleThreats, SignatureStripped) {
  auto payload = MakePayload({});
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {})), Error::kUnsigned);
}

TEST_F(BundleThreats, SignatureByUnknownKey) {
  EXPECT_TRANSPORT_ERROR(Verify(Sign(MakePayload({}), {outsider_.get()})), Error::kKeyUnknown);
  // Even next to a valid signature: every signature must be by a known key.
  EXPECT_TRANSPORT_ERROR(Verify(Sign(MakePayload({}), {signer_[0].get(), outsider_.get()})),
                         Error::kKeyUnknown);
}

TEST_F(BundleThreats, SignatureByRevokedSigner) {
  TrustSpec spec = BaseSpec();
  spec.keys[3].status = KeyStatus::kRevoked;  // s1
  auto trust = Store(Doc(spec, {root_[0].get()}));
  EXPECT_TRANSPORT_ERROR(VerifyWith(trust, Sign(MakePayload({}), {signer_[1].get()})),
                         Error::kKeyRevoked);
  EXPECT_TRUE(VerifyWith(trust, Sign(MakePayload({}), {signer_[0].get()})).ok());
}

TEST_F(BundleThreats, BelowThreshold) {
  auto trust = ThresholdStore(2);
  EXPECT_TRANSPORT_ERROR(VerifyWith(trust, Sign(MakePayload({}), {signer_[0].get()})),
                         Error::kThreshold);
  auto ok = VerifyWith(trust, Sign(MakePayload({}), {signer_[0].get(), signer_[2].get()}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->key_ids.size(), 2u);
}

TEST_F(BundleThreats, SameKeyCountedTwice) {
  auto trust = ThresholdStore(2);
  // The same signer twice (identical deterministic signatures) counts once.
  EXPECT_TRANSPORT_ERROR(
      VerifyWith(trust, Sign(MakePayload({}), {signer_[0].get(), signer_[0].get()})),
      Error::kThreshold);
  // Three copies, threshold 3: still one key.
  auto trust3 = ThresholdStore(3);
  EXPECT_TRANSPORT_ERROR(
      VerifyWith(trust3,
                 Sign(MakePayload({}), {signer_[0].get(), signer_[0].get(), signer_[1].get()})),
      Error::kThreshold);
}

TEST_F(BundleThreats, ThresholdZero) {
  TrustSpec spec = BaseSpec();
  spec.signer_threshold = 0;
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(spec, {root_[0].get()}), {}, kNow),
                         Error::kTrustPolicy);
  spec = BaseSpec();
  spec.root_threshold = 0;
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(spec, {root_[0].get()}), {}, kNow),
                         Error::kTrustPolicy);
  spec = BaseSpec();
  spec.signer_threshold = 3;  // only two signer keys
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(spec, {root_[0].get()}), {}, kNow),
                         Error::kTrustPolicy);
  spec = BaseSpec();
  spec.keys[3].status = KeyStatus::kRevoked;
  spec.signer_threshold = 2;  // two signers listed, one revoked
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(spec, {root_[0].get()}), {}, kNow),
                         Error::kTrustPolicy);
}

TEST_F(BundleThreats, AlgorithmConfusion) {
  auto payload = MakePayload({});
  auto sig = signer_[0]->SignDigest(BundleDigest(payload));
  ASSERT_TRUE(sig.ok());
  std::vector<uint8_t> id(signer_[0]->id().begin(), signer_[0]->id().end());
  for (uint8_t alg : {0, 2, 255}) {
    SCOPED_TRACE(::testing::Message() << "algorithm " << int{alg});
    EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {{id, alg, *sig}})), Error::kAlgorithm);
  }
  EXPECT_TRUE(Verify(BuildEnvelope(payload, {{id, 1, *sig}})).ok());
  // A P1363 (r || s) signature under the right algorithm id is not accepted either: the
  // encoding is bound to the algorithm.
  RawSignature raw;
  ASSERT_TRUE(ParseStrictDerSignature(*sig, &raw));
  std::vector<uint8_t> p1363(raw.r.begin(), raw.r.end());
  p1363.insert(p1363.end(), raw.s.begin(), raw.s.end());
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {{id, 1, p1363}})),
                         Error::kSignatureEncoding);
  // A root key is not a signer key.
  EXPECT_TRANSPORT_ERROR(Verify(Sign(payload, {root_[0].get()})), Error::kKeyRole);
}

TEST_F(BundleThreats, NonStrictSignatureEncodings) {
  auto payload = MakePayload({});
  auto sig = signer_[0]->SignDigest(BundleDigest(payload));
  ASSERT_TRUE(sig.ok());
  std::vector<uint8_t> id(signer_[0]->id().begin(), signer_[0]->id().end());
  std::vector<uint8_t> trailing = *sig;
  trailing.push_back(0);
  std::vector<uint8_t> long_form = {0x30, 0x81, (*sig)[1]};
  long_form.insert(long_form.end(), sig->begin() + 2, sig->end());
  for (const auto& bad : {trailing, long_form, std::vector<uint8_t>{}}) {
    EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {{id, 1, bad}})),
                           Error::kSignatureEncoding);
  }
}

TEST_F(BundleThreats, RollbackToOlderSerial) {
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.serial = 9}), {0, 10, 0}), Error::kRollback);
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.serial = 1}), {0, 10, 0}), Error::kRollback);
  EXPECT_TRUE(Verify(Valid({.serial = 11}), {0, 10, 0}).ok());
}

TEST_F(BundleThreats, ReplayOfSameSerial) {
  auto bundle = Valid({.serial = 10});
  auto first = Verify(bundle, {0, 9, 0});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRANSPORT_ERROR(Verify(bundle, first->next_state), Error::kReplay);
}

TEST_F(BundleThreats, ExpiredBundleFreeze) {
  auto bundle = Valid({.issued_at = kNow - 10 * kDay, .expires_at = kNow - kDay});
  EXPECT_TRANSPORT_ERROR(Verify(bundle), Error::kExpired);
  // The expiry instant itself is expired; one second before is not.
  auto edge = Valid({.expires_at = kNow});
  EXPECT_TRANSPORT_ERROR(Verify(edge), Error::kExpired);
  EXPECT_TRUE(Verify(edge, {0, 5, 0}, kNow - 1).ok());
  // expires_at 0 means never.
  EXPECT_TRUE(Verify(Valid({.expires_at = 0}), {0, 5, 0}, kNow + 300 * kDay).ok());
}

TEST_F(BundleThreats, IssuedInTheFuture) {
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.issued_at = kNow + 301})), Error::kNotYetValid);
  EXPECT_TRUE(Verify(Valid({.issued_at = kNow + 300})).ok());  // within the default skew
  auto verifier = BundleVerifier::Create(trust_, {.max_clock_skew_seconds = 0});
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRANSPORT_ERROR(
      (*verifier)->Verify(Valid({.issued_at = kNow + 1}), Identity(), {0, 5, 0}, kNow),
      Error::kNotYetValid);
}

TEST_F(BundleThreats, ClockMovedBackwards) {
  // Bundle 20 was issued at T and activated: the state remembers T as a time floor.
  auto newer = Verify(Valid({.serial = 20, .issued_at = kNow}), {0, 19, 0});
  ASSERT_TRUE(newer.ok()) << newer.status();
  EXPECT_EQ(newer->next_state.time_floor, kNow);
  // An attacker sets the clock back a month to revive bundle 25, which expired before T
  // (its serial is higher, so anti-rollback alone would not stop it).
  auto stale = Valid({.serial = 25, .issued_at = kNow - 40 * kDay, .expires_at = kNow - kDay});
  EXPECT_TRUE(Verify(stale, {0, 20, 0}, kNow - 35 * kDay).ok());  // no floor: fooled
  EXPECT_TRANSPORT_ERROR(Verify(stale, newer->next_state, kNow - 35 * kDay), Error::kExpired);
  // The floor never moves backwards.
  auto older_issue = Verify(Valid({.serial = 21, .issued_at = kNow - kDay}), newer->next_state);
  ASSERT_TRUE(older_issue.ok()) << older_issue.status();
  EXPECT_EQ(older_issue->next_state.time_floor, kNow);
}

TEST_F(BundleThreats, BundleForAnotherTenant) {
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.tenant = "fabrikam"})), Error::kTargetTenant);
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.tenant = ""})), Error::kTargetTenant);
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.tenant = "Contoso"})), Error::kTargetTenant);
}

TEST_F(BundleThreats, BundleForAnotherDevice) {
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.device_ids = {"device-2", "device-3"}})),
                         Error::kTargetDevice);
  EXPECT_TRUE(Verify(Valid({.device_ids = {"device-2", "device-1"}})).ok());
  EXPECT_TRANSPORT_ERROR(
      Verify(Valid({.device_ids = {"device-1"}}), {0, 5, 0}, kNow, {"contoso", "", {}}),
      Error::kTargetDevice);
}

TEST_F(BundleThreats, BundleForAnotherGroup) {
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.groups = {"engineering"}})), Error::kTargetGroup);
  EXPECT_TRUE(Verify(Valid({.groups = {"engineering", "sales"}})).ok());
  EXPECT_TRANSPORT_ERROR(
      Verify(Valid({.groups = {"sales"}}), {0, 5, 0}, kNow, {"contoso", "device-1", {}}),
      Error::kTargetGroup);
}

TEST_F(BundleThreats, IncompatibleCatalogueVersion) {
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.catalog_version = 0})), Error::kCatalogVersion);
  auto verifier = BundleVerifier::Create(trust_, {.max_catalog_version = 1});
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRANSPORT_ERROR(
      (*verifier)->Verify(Valid({.catalog_version = 2}), Identity(), {0, 5, 0}, kNow),
      Error::kCatalogVersion);
}

TEST_F(BundleThreats, KernelActivationRefused) {
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.critical_unknown = true})), Error::kActivation);
  EXPECT_TRANSPORT_ERROR(Verify(Valid({.format_version = 2})), Error::kActivation);
}

TEST_F(BundleThreats, EndlessDataOverTheCap) {
  std::vector<uint8_t> huge((size_t{4} << 20) + 1, 0xAB);
  EXPECT_TRANSPORT_ERROR(Verify(huge), Error::kTooLarge);
  // A configured cap: a valid bundle one byte over it is refused before parsing.
  auto bundle = Valid();
  Limits limits;
  limits.max_bundle_bytes = bundle.size() - 1;
  auto small = Store(Doc(BaseSpec(), {root_[0].get()}), limits);
  EXPECT_TRANSPORT_ERROR(VerifyWith(small, bundle), Error::kTooLarge);
  limits.max_bundle_bytes = bundle.size();
  EXPECT_TRUE(VerifyWith(Store(Doc(BaseSpec(), {root_[0].get()}), limits), bundle).ok());
}

TEST_F(BundleThreats, EndlessDataCapCheckedBeforeReadingOrAllocating) {
  // A span claiming a terabyte over a 16-byte buffer: any read or proportional
  // allocation would crash or throw; the cap check must answer from the size alone.
  uint8_t tiny[16] = {};
  Bytes endless(tiny, size_t{1} << 40);
  auto verifier = BundleVerifier::Create(trust_);
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRANSPORT_ERROR((*verifier)->Verify(endless, Identity(), {0, 5, 0}, kNow),
                         Error::kTooLarge);
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(endless, {}, kNow), Error::kTrustTooLarge);
}

// FlatBuffers reads scalars in place; a buffer at an odd address passes its verifier
// (alignment is checked relative to the buffer) and then every read is undefined
// behaviour (fuzz finding F1). Verify and Describe refuse such a buffer up front.
TEST_F(BundleThreats, MisalignedBufferIsRefusedNotRead) {
  const auto bundle = Valid();
  const auto doc = Doc(BaseSpec(), {root_[0].get()});
  auto verifier = BundleVerifier::Create(trust_);
  ASSERT_TRUE(verifier.ok());
  for (size_t offset = 1; offset < 8; ++offset) {
    std::vector<uint8_t> storage(bundle.size() + 8);
    std::memcpy(storage.data() + offset, bundle.data(), bundle.size());
    const Bytes view(storage.data() + offset, bundle.size());
    EXPECT_TRANSPORT_ERROR((*verifier)->Verify(view, Identity(), {0, 5, 0}, kNow),
                           Error::kEnvelope);
    EXPECT_EQ(DescribeBundle(view).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(PeekBundleSerial(view).ok());
    std::vector<uint8_t> trust_storage(doc.size() + 8);
    std::memcpy(trust_storage.data() + offset, doc.data(), doc.size());
    const Bytes trust_view(trust_storage.data() + offset, doc.size());
    EXPECT_TRANSPORT_ERROR(TrustStore::Open(trust_view, {}, kNow), Error::kTrustMalformed);
    EXPECT_EQ(DescribeTrust(trust_view).status().code(), absl::StatusCode::kInvalidArgument);
  }
  // The same bytes at an aligned address are fine.
  std::vector<uint8_t> aligned(bundle.begin(), bundle.end());
  EXPECT_TRUE(Verify(aligned).ok());
  EXPECT_EQ(*PeekBundleSerial(aligned), 10u);
}

TEST_F(BundleThreats, MalformedEnvelopeTruncatedAtEveryOffset) {
  auto bundle = Valid();
  size_t rejected = 0;
  for (size_t n = 0; n < bundle.size(); ++n) {
    std::vector<uint8_t> cut(bundle.begin(), bundle.begin() + n);
    auto r = Verify(cut);
    ASSERT_FALSE(r.ok()) << "accepted a bundle truncated to " << n << " bytes";
    EXPECT_EQ(Name(ErrorOf(r.status())), Name(Error::kEnvelope)) << "at " << n;
    ++rejected;
  }
  EXPECT_EQ(rejected, bundle.size());
  RecordProperty("truncations_rejected", static_cast<int>(rejected));
}

TEST_F(BundleThreats, MalformedEnvelopeEveryByteCorrupted) {
  // Flipping any one byte of a valid bundle must never yield an accepted bundle.
  auto bundle = Valid();
  for (size_t i = 0; i < bundle.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::vector<uint8_t> bad = bundle;
      bad[i] ^= mask;
      auto r = Verify(bad);
      if (r.ok()) {
        // Only bytes FlatBuffers never reads (padding, unused vtable slots) may change
        // without effect; then the verified payload must be byte-identical.
        auto original = MakePayload({});
        ASSERT_EQ(r->payload.size(), original.size()) << "offset " << i;
        ASSERT_EQ(std::memcmp(r->payload.data(), original.data(), original.size()), 0)
            << "offset " << i;
      }
    }
  }
}

TEST_F(BundleThreats, MalformedPayloadTruncatedAtEveryOffset) {
  // A validly signed but truncated payload fails at the payload structure check.
  // The only truncations that may pass are those that drop nothing but the builder's
  // trailing alignment padding (zero bytes no offset points into): the payload is then
  // the same policy, and it was validly signed as such.
  auto payload = MakePayload({});
  size_t rejected = 0, padding_only = 0;
  for (size_t n = 1; n < payload.size(); ++n) {
    std::vector<uint8_t> cut(payload.begin(), payload.begin() + n);
    auto r = Verify(Sign(cut, {signer_[0].get()}));
    const bool suffix_is_padding =
        std::all_of(payload.begin() + n, payload.end(), [](uint8_t b) { return b == 0; });
    if (r.ok()) {
      ASSERT_TRUE(suffix_is_padding) << "accepted a payload truncated to " << n;
      EXPECT_EQ(r->serial, 10u);
      ++padding_only;
      continue;
    }
    EXPECT_EQ(Name(ErrorOf(r.status())), Name(Error::kPayload)) << "at " << n;
    ++rejected;
  }
  EXPECT_LE(padding_only, 7u);
  EXPECT_GE(rejected, payload.size() - 8);
}

TEST_F(BundleThreats, MalformedEnvelopeOtherShapes) {
  auto payload = MakePayload({});
  auto good = Valid();
  // Wrong format version.
  auto sig = signer_[0]->SignDigest(BundleDigest(payload));
  ASSERT_TRUE(sig.ok());
  std::vector<uint8_t> id(signer_[0]->id().begin(), signer_[0]->id().end());
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {{id, 1, *sig}}, 2)), Error::kEnvelope);
  // Key id of the wrong length.
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, {{{1, 2, 3}, 1, *sig}})), Error::kEnvelope);
  // More signatures than the cap (16).
  std::vector<EnvelopeSignature> many(17, {id, 1, *sig});
  EXPECT_TRANSPORT_ERROR(Verify(BuildEnvelope(payload, many)), Error::kEnvelope);
  // A trust document is not a bundle; a payload is not a bundle.
  EXPECT_TRANSPORT_ERROR(Verify(Doc(BaseSpec(), {root_[0].get()})), Error::kEnvelope);
  EXPECT_TRANSPORT_ERROR(Verify(payload), Error::kEnvelope);
}

TEST_F(BundleThreats, FirstFailureWins) {
  // A bundle that fails every later check reports the earliest one; fixing each problem
  // in turn reveals the next, in the documented order.
  auto trust = ThresholdStore(1);
  const EndpointState state{0, 50, 0};
  PayloadSpec p{.serial = 40,  // rollback
                .issued_at = kNow - 10 * kDay,
                .expires_at = kNow - kDay,   // expired
                .tenant = "fabrikam",        // wrong tenant
                .device_ids = {"device-9"},  // wrong device
                .groups = {"hr"},            // wrong group
                .catalog_version = 0,        // incompatible
                .critical_unknown = true};   // activation fails
  auto check = [&](const PayloadSpec& spec, Error want) {
    auto r = VerifyWith(trust, Sign(MakePayload(spec), {signer_[0].get()}), state);
    EXPECT_EQ(Name(ErrorOf(r.status())), Name(want)) << r.status();
  };
  // Unknown key beats bad encoding beats everything in the payload.
  auto payload = MakePayload(p);
  EnvelopeSignature junk{
      std::vector<uint8_t>(outsider_->id().begin(), outsider_->id().end()), 0, {0x30, 0x00}};
  EXPECT_TRANSPORT_ERROR(VerifyWith(trust, BuildEnvelope(payload, {junk}), state),
                         Error::kKeyUnknown);
  junk.key_id.assign(signer_[0]->id().begin(), signer_[0]->id().end());
  EXPECT_TRANSPORT_ERROR(VerifyWith(trust, BuildEnvelope(payload, {junk}), state),
                         Error::kAlgorithm);
  junk.algorithm = 1;
  EXPECT_TRANSPORT_ERROR(VerifyWith(trust, BuildEnvelope(payload, {junk}), state),
                         Error::kSignatureEncoding);
  check(p, Error::kRollback);
  p.serial = 51;
  check(p, Error::kExpired);
  p.expires_at = 0;
  check(p, Error::kTargetTenant);
  p.tenant = "contoso";
  check(p, Error::kTargetDevice);
  p.device_ids = {};
  check(p, Error::kTargetGroup);
  p.groups = {};
  check(p, Error::kCatalogVersion);
  p.catalog_version = 1;
  check(p, Error::kActivation);
  p.critical_unknown = false;
  check(p, Error::kOk);
}

}  // namespace
}  // namespace edict::transport::testing
