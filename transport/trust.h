// Trust documents: the versioned key set (roles, thresholds, expiry, rollback epoch) that
// decides which keys may sign bundles, and TUF-style rotation from version N to N + 1.
//
// A document is accepted as the next version only if it is exactly version N + 1, is
// signed by a threshold of version N's active root keys AND by a threshold of its own
// active root keys (distinct key ids; a key listed twice counts once), has valid
// thresholds (1 <= threshold <= active keys of that role), and does not lower the
// rollback epoch. Versions are walked one at a time, at most Limits::max_rotations per
// call. Intermediate versions may have expired (as in TUF); the newest may not.
#ifndef EDICT_TRANSPORT_TRUST_H_
#define EDICT_TRANSPORT_TRUST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "transport/keys.h"

namespace edict::transport {

// Signed bytes of a trust document: this domain string and its NUL, then the body.
inline constexpr char kTrustDomain[] = "edict trust v1";  // sizeof includes the NUL
inline constexpr uint32_t kTrustFormatVersion = 1;

// Caps on every input; all are checked before the input is parsed.
struct Limits {
  size_t max_bundle_bytes = size_t{4} << 20;   // 4 MiB
  size_t max_trust_bytes = size_t{512} << 10;  // 512 KiB
  uint32_t max_signatures = 16;                // per bundle or trust document
  uint32_t max_trust_keys = 256;               // keys listed in one trust document
  uint32_t max_rotations = 64;                 // trust versions walked per call
  uint32_t max_payload_depth = 64;             // FlatBuffers verifier, payload
  uint32_t max_payload_tables = 1000000;       // FlatBuffers verifier, payload
};

// Values equal fb::KeyRole / fb::KeyStatus in transport/trust.fbs.
enum class KeyRole : uint8_t { kRoot = 1, kSigner = 2 };
enum class KeyStatus : uint8_t { kActive = 0, kRevoked = 1 };
absl::string_view KeyRoleName(KeyRole r);      // "root", "signer"
absl::string_view KeyStatusName(KeyStatus s);  // "active", "revoked"

struct TrustKey {
  PublicKey key;
  KeyRole role = KeyRole::kSigner;
  KeyStatus status = KeyStatus::kActive;
  std::string name;
};

// The content of a trust document (its body), as the tools build it.
struct TrustSpec {
  uint64_t version = 1;
  int64_t issued_at = 0;   // seconds since the Unix epoch, UTC
  int64_t expires_at = 0;  // must be > issued_at
  uint32_t root_threshold = 1;
  uint32_t signer_threshold = 1;
  std::vector<TrustKey> keys;
  uint32_t rollback_epoch = 0;
  uint64_t epoch_serial_floor = 0;
  std::string description;
};

// Builds and signs a trust document (admin tools). Each of `signing_keys` signs the
// same digest once (deterministic ECDSA). Does not check that the signatures meet any
// threshold: TrustStore does that when the document is loaded.
absl::StatusOr<std::vector<uint8_t>> BuildTrustDocument(
    const TrustSpec& spec, absl::Span<const PrivateSigningKey* const> signing_keys);

// An accepted trust document. Immutable and thread-safe once created.
class TrustStore {
 public:
  // Loads `pinned` (the document installed out of band; it must carry a threshold of its
  // own root signatures) and then walks `newer`, which must hold versions pinned + 1,
  // pinned + 2, ... in order. The newest document must not have expired at `now`. Every
  // document must start on an 8-byte boundary (policy/aligned.h; malformed otherwise).
  static absl::StatusOr<std::unique_ptr<TrustStore>> Open(Bytes pinned,
                                                          absl::Span<const Bytes> newer,
                                                          int64_t now, const Limits& limits = {});
  // Walks from this store's version through `newer` (versions version() + 1, ...).
  absl::StatusOr<std::unique_ptr<TrustStore>> Rotate(absl::Span<const Bytes> newer,
                                                     int64_t now) const;

  const TrustSpec& spec() const { return spec_; }
  uint64_t version() const { return spec_.version; }
  const Limits& limits() const { return limits_; }
  // The key with this id, or nullptr.
  const TrustKey* Find(const KeyId& id) const;
  // The bytes of the newest document (owned by the store).
  Bytes document() const { return document_; }

 private:
  TrustStore() = default;
  friend class TrustLoader;
  TrustSpec spec_;
  Limits limits_;
  std::vector<uint8_t> document_;
};

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_TRUST_H_
