// Keys and the signature primitive: ECDSA P-256 with SHA-256 through mbedTLS 2.28.
//
// Public and private keys are loaded through different, visibly named paths (Tink's
// habit): PublicKey::FromSpkiDer / FromPem never see secret material;
// PrivateSigningKey::ReadSecretPem / WriteSecretPem are the only ways secret material
// enters or leaves the process, and only the admin tools use them.
//
// Key id = SHA-256 of the key's SubjectPublicKeyInfo DER, as mbedtls_pk_write_pubkey_der
// writes it. The algorithm is a property of the key, never of a signature.
#ifndef EDICT_TRANSPORT_KEYS_H_
#define EDICT_TRANSPORT_KEYS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "mbedtls/sha256.h"

namespace edict::transport {

using Bytes = absl::Span<const uint8_t>;
using Digest = std::array<uint8_t, 32>;
using KeyId = std::array<uint8_t, 32>;

// Signature algorithms; values equal fb::SigAlgorithm in transport/bundle.fbs.
enum class Algorithm : uint8_t { kUnknown = 0, kEcdsaP256Sha256 = 1 };
absl::string_view AlgorithmName(Algorithm a);  // "ecdsa-p256-sha256", "unknown"

// Lower-case hex of `bytes`.
std::string Hex(Bytes bytes);
inline std::string KeyIdHex(const KeyId& id) { return Hex(Bytes(id.data(), id.size())); }

// Incremental SHA-256 (mbedtls_sha256_*_ret). Not thread-safe; cheap to create.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(Bytes data);
  Digest Finish();
  // One-shot hash of `data`.
  static Digest Hash(Bytes data);

 private:
  mbedtls_sha256_context ctx_;
};

// An ECDSA P-256 signature as two 32-byte big-endian integers with 0 < r, s < n.
struct RawSignature {
  std::array<uint8_t, 32> r;
  std::array<uint8_t, 32> s;
};

// Reads a strict, minimal DER `SEQUENCE { INTEGER r, INTEGER s }` into `out`. Returns
// false (leaving `out` unspecified) on anything else: BER long-form or indefinite
// lengths, a non-minimal integer (extra leading zero), a negative integer, a missing
// leading zero, an integer wider than 32 bytes, r or s equal to 0 or >= n, or trailing
// data after the sequence or inside it. Reads nothing past `der`; never allocates.
bool ParseStrictDerSignature(Bytes der, RawSignature* out);
// Reads an IEEE P1363 `r || s` signature: exactly 64 bytes, with 0 < r, s < n.
bool ParseP1363Signature(Bytes sig, RawSignature* out);
// Writes `sig` as minimal DER (at most 72 bytes).
std::vector<uint8_t> EncodeDerSignature(const RawSignature& sig);

// An ECDSA P-256 public key. Copies share one immutable key; thread-safe: any number of
// threads may call VerifyDigest concurrently (mbedTLS's group precomputation is
// serialised per key by an internal mutex).
class PublicKey {
 public:
  // From SubjectPublicKeyInfo DER. Strict: the key must be id-ecPublicKey on secp256r1
  // with a valid point, and `der` must be exactly the canonical encoding mbedTLS writes
  // (so one key has one key id). InvalidArgument otherwise.
  static absl::StatusOr<PublicKey> FromSpkiDer(Bytes der);
  // From a "PUBLIC KEY" PEM block (as `edictctl keygen` writes NAME.pub).
  static absl::StatusOr<PublicKey> FromPem(absl::string_view pem);

  const KeyId& id() const;
  Algorithm algorithm() const { return Algorithm::kEcdsaP256Sha256; }
  // Canonical SubjectPublicKeyInfo DER.
  Bytes spki_der() const;
  std::string ToPem() const;

  // True iff `sig` is a valid signature of this key over the SHA-256 digest `digest`.
  bool VerifyDigest(const Digest& digest, const RawSignature& sig) const;
  // ParseStrictDerSignature, then VerifyDigest: the primitive bundles use.
  bool VerifyDer(const Digest& digest, Bytes der) const;
  // ParseP1363Signature, then VerifyDigest.
  bool VerifyP1363(const Digest& digest, Bytes sig) const;

  struct Impl;

 private:
  explicit PublicKey(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  friend class PrivateSigningKey;
  std::shared_ptr<Impl> impl_;
};

// An ECDSA P-256 private key: admin tools only. Not copyable; secret material is wiped
// on destruction. Thread-safe (signing is serialised by an internal mutex).
class PrivateSigningKey {
 public:
  // A fresh key from mbedTLS's entropy source (the OS CSPRNG) through CTR-DRBG.
  static absl::StatusOr<std::unique_ptr<PrivateSigningKey>> Generate();
  // From an "EC PRIVATE KEY" (SEC1) or "PRIVATE KEY" (PKCS#8, unencrypted) PEM block on
  // secp256r1. The name says it: the caller handles secret material.
  static absl::StatusOr<std::unique_ptr<PrivateSigningKey>> ReadSecretPem(absl::string_view pem);
  ~PrivateSigningKey();
  PrivateSigningKey(const PrivateSigningKey&) = delete;
  PrivateSigningKey& operator=(const PrivateSigningKey&) = delete;

  // SEC1 "EC PRIVATE KEY" PEM. Secret material: write it with mode 0600.
  std::string WriteSecretPem() const;
  const PublicKey& public_key() const { return public_key_; }
  const KeyId& id() const { return public_key_.id(); }

  // Deterministic ECDSA (RFC 6979, HMAC-DRBG with SHA-256, mbedtls_ecdsa_sign_det_ext)
  // over the SHA-256 digest `digest`; the result is minimal DER. The same key and digest
  // always give the same bytes.
  absl::StatusOr<std::vector<uint8_t>> SignDigest(const Digest& digest) const;

  struct Impl;

 private:
  PrivateSigningKey(std::unique_ptr<Impl> impl, PublicKey pub);
  std::unique_ptr<Impl> impl_;
  PublicKey public_key_;
};

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_KEYS_H_
