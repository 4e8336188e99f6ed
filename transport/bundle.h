// Signed bundles: building them (admin tools) and verifying them (endpoints).
//
// BundleVerifier::Verify runs the checks of issue 5 in exactly this order; the first
// failure wins and nothing is activated:
//
//   1. size cap, before any parsing or allocation             ERR_TOO_LARGE
//   2. envelope structure (FlatBuffers verifier, depth/table
//      limits; format version; key id lengths)                ERR_ENVELOPE, ERR_UNSIGNED
//   3. known, unrevoked signer keys, each with its own
//      algorithm (and an unexpired trust document)             ERR_TRUST_EXPIRED,
//                                                              ERR_KEY_UNKNOWN, ERR_KEY_REVOKED,
//                                                              ERR_KEY_ROLE, ERR_ALGORITHM
//   4. strict signature encoding                               ERR_SIGNATURE_ENCODING
//   5. every signature valid (one hash of the signed bytes),
//      threshold of distinct signer keys                        ERR_SIGNATURE, ERR_THRESHOLD
//   6. payload structure (FlatBuffers verifier, "EDP1")        ERR_PAYLOAD
//   7. anti-rollback: serial > last activated serial           ERR_STATE_EPOCH, ERR_REPLAY,
//                                                              ERR_ROLLBACK
//   8. freeze: not expired, not issued in the future           ERR_EXPIRED, ERR_NOT_YET_VALID
//   9. target: tenant, device, groups                          ERR_TARGET_*
//  10. catalogue version compatible                            ERR_CATALOG_VERSION
//  11. kernel activation (Snapshot::ArenaSize + Activate)      ERR_ACTIVATION
//
// Every signature on a bundle must pass steps 3-5: a bundle carrying a signature by an
// unknown or revoked key, or an invalid signature, is rejected even if the remaining
// signatures would meet the threshold (one bundle, one unambiguous verdict).
#ifndef EDICT_TRANSPORT_BUNDLE_H_
#define EDICT_TRANSPORT_BUNDLE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernel/kernel.h"
#include "transport/keys.h"
#include "transport/trust.h"

namespace edict::transport {

// Signed bytes of a bundle: this domain string and its NUL, then the payload.
inline constexpr char kBundleDomain[] = "edict bundle v1";  // sizeof includes the NUL
inline constexpr uint32_t kBundleFormatVersion = 1;

// The SHA-256 digest every bundle signature signs: SHA-256(kBundleDomain || payload).
Digest BundleDigest(Bytes payload);

// One signature entry as it appears in an envelope (raw, unchecked).
struct EnvelopeSignature {
  std::vector<uint8_t> key_id;
  uint8_t algorithm = 1;  // fb::SigAlgorithm
  std::vector<uint8_t> signature;
};

// Serialises an envelope as given, without signing or checking anything (tests and tools).
// The payload vector is aligned to 16 bytes inside the bundle.
std::vector<uint8_t> BuildEnvelope(Bytes payload, absl::Span<const EnvelopeSignature> signatures,
                                   uint32_t format_version = kBundleFormatVersion);

// Signs `payload` with each key (deterministic ECDSA over BundleDigest, hashed once) and
// returns the bundle bytes.
absl::StatusOr<std::vector<uint8_t>> SignBundle(Bytes payload,
                                                absl::Span<const PrivateSigningKey* const> keys);

// Who this endpoint is, for the target check. A bundle's tenant must equal `tenant`
// exactly (an empty tenant matches only an empty one); a non-empty device list must
// contain `device_id`; a non-empty group list must share a group with `groups`.
struct EndpointIdentity {
  std::string tenant;
  std::string device_id;
  std::vector<std::string> groups;
};

// The endpoint's durable anti-rollback state (persisted by the agent; an input here).
struct EndpointState {
  uint32_t rollback_epoch = 0;  // trust rollback epoch of the last activated bundle
  uint64_t last_serial = 0;     // serial of the last activated bundle (0: none yet)
  int64_t time_floor = 0;       // latest signed issue time seen; a lower bound for `now`
};

struct VerifyOptions {
  int64_t max_clock_skew_seconds = 300;  // how far issued_at may be ahead of now
  uint32_t min_catalog_version = 1;
  uint32_t max_catalog_version = std::numeric_limits<uint32_t>::max();
  // The catalogue set payloads are activated against (step 11); null: CatalogSet::Builtin().
  // A VerifiedBundle keeps it alive as long as its snapshot.
  std::shared_ptr<const CatalogSet> catalogs = nullptr;
};

// What a successful Verify returns. `payload` points into the caller's bundle bytes and
// `snapshot` lives in `arena` and borrows `payload`: keep the bundle bytes and this
// object alive as long as the snapshot is in use.
struct VerifiedBundle {
  Bytes payload;
  Digest digest;  // BundleDigest(payload)
  uint64_t serial = 0;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  uint32_t catalog_version = 0;
  uint64_t trust_version = 0;
  std::vector<KeyId> key_ids;  // distinct signer keys whose signatures verified
  EndpointState next_state;    // what the agent persists once it commits this bundle
  const Snapshot* snapshot = nullptr;
  std::unique_ptr<std::max_align_t[]> arena;
  std::shared_ptr<const CatalogSet> catalogs;  // what `snapshot` borrows (null: the built-in set)
  size_t arena_bytes = 0;
};

// Verifies bundles against one trust store. Immutable; thread-safe: Verify may be called
// from any number of threads at once.
class BundleVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<BundleVerifier>> Create(
      std::shared_ptr<const TrustStore> trust, const VerifyOptions& options = {});

  // Runs every check in the order listed at the top of this file. `now` is the caller's
  // clock (seconds since the Unix epoch, UTC); the effective time is
  // max(now, state.time_floor), so moving the clock backwards cannot revive an expired
  // bundle. `bundle` must start on an 8-byte boundary (policy/aligned.h; ERR_ENVELOPE
  // otherwise), as any std::vector or std::string buffer does.
  absl::StatusOr<VerifiedBundle> Verify(Bytes bundle, const EndpointIdentity& identity,
                                        const EndpointState& state, int64_t now) const;

  const TrustStore& trust() const { return *trust_; }

 private:
  BundleVerifier(std::shared_ptr<const TrustStore> trust, const VerifyOptions& options)
      : trust_(std::move(trust)), options_(options) {}
  std::shared_ptr<const TrustStore> trust_;
  VerifyOptions options_;
};

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_BUNDLE_H_
