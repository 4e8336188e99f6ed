// Trust-document and rotation threats of issue 5, named after the attacks.
#include <limits>

#include "tests/transport/test_util.h"

namespace edict::transport::testing {
namespace {

class TrustThreats : public TransportTest {
 protected:
  // v1: roots r0, r1 (threshold 1); signers s0, s1.
  std::vector<uint8_t> V1() { return Doc(BaseSpec(), {root_[0].get()}); }
  // v2: root r2 replaces r0 and r1; signer s2 replaces s0 (revoked), s1 dropped.
  TrustSpec V2Spec() {
    TrustSpec spec = BaseSpec();
    spec.version = 2;
    spec.keys = {Entry(*root_[0], KeyRole::kRoot, KeyStatus::kRevoked),
                 Entry(*root_[2], KeyRole::kRoot),
                 Entry(*signer_[0], KeyRole::kSigner, KeyStatus::kRevoked),
                 Entry(*signer_[2], KeyRole::kSigner)};
    return spec;
  }
  std::vector<uint8_t> V2() { return Doc(V2Spec(), {root_[0].get(), root_[2].get()}); }
};

TEST_F(TrustThreats, PinnedDocumentLoads) {
  auto store = TrustStore::Open(V1(), {}, kNow);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->version(), 1u);
  EXPECT_EQ((*store)->spec().keys.size(), 4u);
  ASSERT_NE((*store)->Find(signer_[0]->id()), nullptr);
  EXPECT_EQ((*store)->Find(outsider_->id()), nullptr);
}

TEST_F(TrustThreats, TrustRotationHappyPath) {
  auto store = TrustStore::Open(V1(), {}, kNow);
  ASSERT_TRUE(store.ok());
  auto v2 = V2();
  auto rotated = (*store)->Rotate({Bytes(v2)}, kNow);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ((*rotated)->version(), 2u);
  std::shared_ptr<const TrustStore> trust = *std::move(rotated);
  auto ok = VerifyWith(trust, Sign(MakePayload({}), {signer_[2].get()}));
  EXPECT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->trust_version, 2u);
  // The same walk through Open(pinned, newer).
  auto opened = TrustStore::Open(V1(), {Bytes(v2)}, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ((*opened)->version(), 2u);
  // And a three-step walk, v1 -> v2 -> v3 (v3 signed by v2's root r2 only).
  TrustSpec v3 = V2Spec();
  v3.version = 3;
  auto doc3 = Doc(v3, {root_[2].get()});
  auto three = TrustStore::Open(V1(), {Bytes(v2), Bytes(doc3)}, kNow);
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ((*three)->version(), 3u);
}

TEST_F(TrustThreats, RotationSkippingAVersion) {
  TrustSpec v3 = V2Spec();
  v3.version = 3;
  auto doc3 = Doc(v3, {root_[0].get(), root_[2].get()});
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(V1(), {Bytes(doc3)}, kNow), Error::kTrustVersion);
  // Going back (or staying) is not a rotation either.
  auto v1 = V1();
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(V1(), {Bytes(v1)}, kNow), Error::kTrustVersion);
}

TEST_F(TrustThreats, RotationSignedOnlyByTheNewRoot) {
  auto v2 = Doc(V2Spec(), {root_[2].get()});
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(V1(), {Bytes(v2)}, kNow), Error::kTrustOldRoots);
  // Loaded on its own (as if pinned) it is self-consistent: the chain is what matters.
  EXPECT_TRUE(TrustStore::Open(v2, {}, kNow).ok());
}

TEST_F(TrustThreats, RotationSignedOnlyByTheOldRoot) {
  auto v2 = Doc(V2Spec(), {root_[0].get()});
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(V1(), {Bytes(v2)}, kNow), Error::kTrustNewRoots);
}

TEST_F(TrustThreats, RotationRootSignatureCountedTwice) {
  TrustSpec v1 = BaseSpec();
  v1.root_threshold = 2;
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(v1, {root_[0].get(), root_[0].get()}), {}, kNow),
                         Error::kTrustNewRoots);
  EXPECT_TRUE(TrustStore::Open(Doc(v1, {root_[0].get(), root_[1].get()}), {}, kNow).ok());
}

TEST_F(TrustThreats, RotationSignedByAnUnknownOrSignerKey) {
  TrustSpec v2 = V2Spec();
  EXPECT_TRANSPORT_ERROR(
      TrustStore::Open(V1(), {Bytes(Doc(v2, {root_[0].get(), root_[2].get(), outsider_.get()}))},
                       kNow),
      Error::kKeyUnknown);
  EXPECT_TRANSPORT_ERROR(
      TrustStore::Open(V1(), {Bytes(Doc(v2, {signer_[1].get(), root_[2].get()}))}, kNow),
      Error::kKeyRole);
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(BaseSpec(), {signer_[0].get()}), {}, kNow),
                         Error::kKeyRole);
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(BaseSpec(), {}), {}, kNow), Error::kUnsigned);
}

TEST_F(TrustThreats, MoreRotationsThanTheCap) {
  Limits limits;
  limits.max_rotations = 3;
  std::vector<std::vector<uint8_t>> docs;
  for (uint64_t v = 2; v <= 5; ++v) {
    TrustSpec spec = BaseSpec();
    spec.version = v;
    docs.push_back(Doc(spec, {root_[0].get()}));
  }
  std::vector<Bytes> chain(docs.begin(), docs.end());
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(V1(), chain, kNow, limits), Error::kTrustRotationCap);
  auto at_cap = TrustStore::Open(V1(), absl::MakeSpan(chain).subspan(0, 3), kNow, limits);
  ASSERT_TRUE(at_cap.ok()) << at_cap.status();
  EXPECT_EQ((*at_cap)->version(), 4u);
  // The default cap is 64: 65 documents are refused before any is parsed.
  std::vector<Bytes> endless(65, Bytes(docs[0]));
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(V1(), endless, kNow), Error::kTrustRotationCap);
  EXPECT_TRANSPORT_ERROR((*at_cap)->Rotate(std::vector<Bytes>(4, Bytes(docs[0])), kNow),
                         Error::kTrustRotationCap);
}

TEST_F(TrustThreats, ValidBundleSignedByAKeyFromAnOlderTrustVersion) {
  auto v1_store = Store(V1());
  auto old_bundle = Sign(MakePayload({.serial = 11}), {signer_[0].get()});
  EXPECT_TRUE(VerifyWith(v1_store, old_bundle).ok());
  auto v2 = V2();
  auto rotated = TrustStore::Open(V1(), {Bytes(v2)}, kNow);
  ASSERT_TRUE(rotated.ok());
  std::shared_ptr<const TrustStore> trust = *std::move(rotated);
  // s0 is listed as revoked in v2; s1 was dropped from it altogether.
  EXPECT_TRANSPORT_ERROR(VerifyWith(trust, old_bundle), Error::kKeyRevoked);
  EXPECT_TRANSPORT_ERROR(VerifyWith(trust, Sign(MakePayload({.serial = 11}), {signer_[1].get()})),
                         Error::kKeyUnknown);
  // An old root can no longer sign a v3 on its own either.
  TrustSpec v3 = V2Spec();
  v3.version = 3;
  EXPECT_TRANSPORT_ERROR(trust->Rotate({Bytes(Doc(v3, {root_[0].get()}))}, kNow),
                         Error::kKeyRevoked);
}

TEST_F(TrustThreats, ExpiredTrustDocument) {
  TrustSpec spec = BaseSpec();
  spec.issued_at = kNow - 10 * kDay;
  spec.expires_at = kNow - kDay;
  auto expired = Doc(spec, {root_[0].get()});
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(expired, {}, kNow), Error::kTrustExpired);
  // An expired intermediate is fine if the newest is current (TUF walks the same way).
  auto v2 = Doc(V2Spec(), {root_[0].get(), root_[2].get()});
  EXPECT_TRUE(TrustStore::Open(expired, {Bytes(v2)}, kNow).ok());
  // A store that expires while in use stops accepting bundles.
  auto store = Store(V1());
  EXPECT_TRANSPORT_ERROR(VerifyWith(store, Sign(MakePayload({.expires_at = 0}), {signer_[0].get()}),
                                    {0, 5, 0}, kNow + 366 * kDay),
                         Error::kTrustExpired);
  // Dates that make no sense are a policy error.
  spec.expires_at = spec.issued_at;
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(spec, {root_[0].get()}), {}, kNow),
                         Error::kTrustPolicy);
}

TEST_F(TrustThreats, MalformedTrustTruncatedAtEveryOffset) {
  auto doc = V1();
  for (size_t n = 0; n < doc.size(); ++n) {
    std::vector<uint8_t> cut(doc.begin(), doc.begin() + n);
    auto r = TrustStore::Open(cut, {}, kNow);
    ASSERT_FALSE(r.ok()) << "accepted a trust document truncated to " << n << " of " << doc.size();
    EXPECT_EQ(Name(ErrorOf(r.status())), Name(Error::kTrustMalformed)) << "at " << n;
  }
}

TEST_F(TrustThreats, TrustDocumentOverTheCap) {
  auto doc = V1();
  Limits limits;
  limits.max_trust_bytes = doc.size() - 1;
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(doc, {}, kNow, limits), Error::kTrustTooLarge);
  std::vector<uint8_t> huge((size_t{512} << 10) + 1, 0);
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(huge, {}, kNow), Error::kTrustTooLarge);
}

TEST_F(TrustThreats, TrustKeyListedTwice) {
  TrustSpec spec = BaseSpec();
  spec.keys.push_back(Entry(*signer_[0], KeyRole::kRoot));
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(Doc(spec, {root_[0].get()}), {}, kNow),
                         Error::kTrustMalformed);
}

TEST_F(TrustThreats, RollbackEpochNeverDecreases) {
  TrustSpec v1 = BaseSpec();
  v1.rollback_epoch = 3;
  TrustSpec v2 = BaseSpec();
  v2.version = 2;
  v2.rollback_epoch = 2;
  auto doc1 = Doc(v1, {root_[0].get()});
  auto doc2 = Doc(v2, {root_[0].get()});
  EXPECT_TRANSPORT_ERROR(TrustStore::Open(doc1, {Bytes(doc2)}, kNow), Error::kTrustEpoch);
}

// Fast-forward serial. A leaked signer key lets an attacker sign a bundle with serial
// 2^63: it verifies, the endpoint records it, and every later legitimate bundle is a
// "rollback". Recovery (transport/README.md): the roots publish a trust version that
// revokes the leaked key and raises the rollback epoch with a serial floor; endpoints
// whose state is from an older epoch accept serials above the floor again, while the
// leaked key stays revoked and bundles at or below the floor stay rejected.
TEST_F(TrustThreats, FastForwardSerialAfterSignerKeyLeak) {
  auto v1 = Store(V1());
  // Normal life: bundle 42 is active.
  auto legit42 = Sign(MakePayload({.serial = 42}), {signer_[1].get()});
  auto r42 = VerifyWith(v1, legit42, {0, 41, 0});
  ASSERT_TRUE(r42.ok()) << r42.status();
  // The attacker holds s0 and fast-forwards.
  const uint64_t huge = uint64_t{1} << 63;
  auto attack = Sign(MakePayload({.serial = huge}), {signer_[0].get()});
  auto hit = VerifyWith(v1, attack, r42->next_state);
  ASSERT_TRUE(hit.ok()) << "a valid signature by a leaked key verifies: " << hit.status();
  const EndpointState poisoned = hit->next_state;
  EXPECT_EQ(poisoned.last_serial, huge);
  // Lock-out: the admins' next bundle is now a "rollback".
  auto legit43 = Sign(MakePayload({.serial = 43}), {signer_[1].get()});
  EXPECT_TRANSPORT_ERROR(VerifyWith(v1, legit43, poisoned), Error::kRollback);

  // Recovery: v2 revokes s0, adds s2, and starts rollback epoch 1 with floor 42 (the last
  // serial the admins issued).
  TrustSpec spec = BaseSpec();
  spec.version = 2;
  spec.keys[2].status = KeyStatus::kRevoked;  // s0
  spec.keys.push_back(Entry(*signer_[2], KeyRole::kSigner));
  spec.rollback_epoch = 1;
  spec.epoch_serial_floor = 42;
  auto doc2 = Doc(spec, {root_[0].get()});
  auto rotated = TrustStore::Open(V1(), {Bytes(doc2)}, kNow);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  std::shared_ptr<const TrustStore> v2 = *std::move(rotated);

  // The attacker's bundle and any new one by the leaked key: revoked.
  EXPECT_TRANSPORT_ERROR(VerifyWith(v2, attack, poisoned), Error::kKeyRevoked);
  EXPECT_TRANSPORT_ERROR(
      VerifyWith(v2, Sign(MakePayload({.serial = huge + 1}), {signer_[0].get()}), poisoned),
      Error::kKeyRevoked);
  // Replaying old legitimate bundles (still validly signed by s1): at or below the floor.
  EXPECT_TRANSPORT_ERROR(VerifyWith(v2, legit42, poisoned), Error::kReplay);
  EXPECT_TRANSPORT_ERROR(
      VerifyWith(v2, Sign(MakePayload({.serial = 40}), {signer_[1].get()}), poisoned),
      Error::kRollback);
  // The admins' next bundle is accepted, and the state moves to the new epoch.
  auto recovered = VerifyWith(v2, Sign(MakePayload({.serial = 43}), {signer_[2].get()}), poisoned);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->next_state.rollback_epoch, 1u);
  EXPECT_EQ(recovered->next_state.last_serial, 43u);
  // From now on, normal anti-rollback within epoch 1.
  auto again = Sign(MakePayload({.serial = 43}), {signer_[1].get()});
  EXPECT_TRANSPORT_ERROR(VerifyWith(v2, again, recovered->next_state), Error::kReplay);
  // A state from a newer epoch than the trust store is refused (stale trust).
  EXPECT_TRANSPORT_ERROR(
      VerifyWith(v1, Sign(MakePayload({.serial = 44}), {signer_[1].get()}), recovered->next_state),
      Error::kStateEpoch);
}

}  // namespace
}  // namespace edict::transport::testing
