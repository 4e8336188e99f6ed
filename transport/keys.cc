#include "transport/keys.h"

#include <cstring>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"

namespace edict::transport {
namespace {

// The order n of the P-256 base point, big-endian (SEC 2, section 2.4.2).
constexpr std::array<uint8_t, 32> kP256Order = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

// 0 < v < n.
bool InScalarRange(const std::array<uint8_t, 32>& v) {
  bool nonzero = false;
  for (uint8_t b : v) nonzero |= (b != 0);
  return nonzero && std::memcmp(v.data(), kP256Order.data(), 32) < 0;
}

// Reads one strict DER INTEGER holding a non-negative value of at most 32 bytes into
// `v` (big-endian, left-padded) and advances `in` past it.
bool ReadStrictUnsignedInteger(Bytes* in, std::array<uint8_t, 32>* v) {
  if (in->size() < 2 || (*in)[0] != 0x02) return false;  // tag INTEGER, primitive
  size_t len = (*in)[1];
  // DER: lengths below 128 must use the one-byte short form; our integers are <= 33 bytes,
  // so any long-form length (0x81 ...) is BER, not DER. A zero length is not an INTEGER.
  if (len == 0 || len >= 0x80 || len > in->size() - 2) return false;
  const uint8_t* p = in->data() + 2;
  if (p[0] & 0x80) return false;                                // negative
  if (len > 1 && p[0] == 0x00 && !(p[1] & 0x80)) return false;  // non-minimal leading zero
  size_t value_len = len;
  if (p[0] == 0x00 && len > 1) {  // the one sign byte DER requires before a high bit
    ++p;
    --value_len;
  }
  if (value_len > 32) return false;
  v->fill(0);
  std::memcpy(v->data() + (32 - value_len), p, value_len);
  in->remove_prefix(2 + len);
  return true;
}

void AppendDerInteger(const std::array<uint8_t, 32>& v, std::vector<uint8_t>* out) {
  size_t start = 0;
  while (start < 31 && v[start] == 0) ++start;
  bool pad = (v[start] & 0x80) != 0;
  out->push_back(0x02);
  out->push_back(static_cast<uint8_t>(32 - start + (pad ? 1 : 0)));
  if (pad) out->push_back(0x00);
  out->insert(out->end(), v.begin() + start, v.end());
}

absl::Status MbedError(absl::string_view what, int ret) {
  return absl::InternalError(absl::StrCat(what, " failed (mbedTLS -0x", absl::Hex(-ret), ")"));
}

// A CTR-DRBG seeded from mbedTLS's default entropy source (getrandom / /dev/urandom).
class Drbg {
 public:
  Drbg() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
  }
  ~Drbg() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  Drbg(const Drbg&) = delete;
  Drbg& operator=(const Drbg&) = delete;

  absl::Status Seed(absl::string_view personalization) {
    int ret = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                    reinterpret_cast<const unsigned char*>(personalization.data()),
                                    personalization.size());
    return ret == 0 ? absl::OkStatus() : MbedError("mbedtls_ctr_drbg_seed", ret);
  }
  static int Random(void* self, unsigned char* out, size_t len) {
    return mbedtls_ctr_drbg_random(&static_cast<Drbg*>(self)->drbg_, out, len);
  }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

// True iff `pk` is an id-ecPublicKey key on secp256r1.
bool IsP256(const mbedtls_pk_context& pk) {
  return mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY &&
         mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

absl::StatusOr<std::vector<uint8_t>> WriteSpkiDer(mbedtls_pk_context* pk) {
  unsigned char buf[256];
  int len = mbedtls_pk_write_pubkey_der(pk, buf, sizeof(buf));
  if (len <= 0) return MbedError("mbedtls_pk_write_pubkey_der", len);
  // mbedtls_pk_write_pubkey_der writes at the end of the buffer.
  return std::vector<uint8_t>(buf + sizeof(buf) - len, buf + sizeof(buf));
}

}  // namespace

absl::string_view AlgorithmName(Algorithm a) {
  return a == Algorithm::kEcdsaP256Sha256 ? "ecdsa-p256-sha256" : "unknown";
}

std::string Hex(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// ---- SHA-256 -----------------------------------------------------------------------

Sha256::Sha256() {
  mbedtls_sha256_init(&ctx_);
  mbedtls_sha256_starts_ret(&ctx_, /*is224=*/0);
}
Sha256::~Sha256() { mbedtls_sha256_free(&ctx_); }
void Sha256::Update(Bytes data) { mbedtls_sha256_update_ret(&ctx_, data.data(), data.size()); }
Digest Sha256::Finish() {
  Digest d;
  mbedtls_sha256_finish_ret(&ctx_, d.data());
  return d;
}
Digest Sha256::Hash(Bytes data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

// ---- Signature encodings -------------------------------------------------------------

// Why this exists (and why it runs before mbedTLS sees a signature): mbedtls 2.28's
// mbedtls_ecdsa_read_signature parses leniently. On Wycheproof's P-256/SHA-256 DER file it
// accepts 9 invalid encodings (tcId 6, 8, 9: long-form BER lengths; 67, 68, 84: an
// integer missing its leading zero, i.e. a negative r or s read as positive; 114, 115,
// 128: zero bytes prepended to r or s). Each of these is a second encoding of a valid
// signature: accepting them makes signatures malleable (the same authorisation under
// several byte strings, so signature bytes cannot serve as an identifier or a replay
// cache key) and lets a parser differential between two verifiers decide which one
// accepts a bundle. So we insist on exactly one encoding: minimal DER, short-form
// lengths, no sign tricks, no trailing bytes, and 0 < r, s < n (mbedtls_ecdsa_verify also
// checks the range; we check it here too so that an out-of-range value is reported as an
// encoding error, not as a failed verification). Only then do r and s reach
// mbedtls_ecdsa_verify, as plain integers.
bool ParseStrictDerSignature(Bytes der, RawSignature* out) {
  if (der.size() < 2 || der[0] != 0x30) return false;  // tag SEQUENCE, constructed
  size_t len = der[1];
  if (len >= 0x80) return false;            // long-form or indefinite length: BER, not DER
  if (len != der.size() - 2) return false;  // truncated, or trailing data after the sequence
  Bytes body = der.subspan(2);
  if (!ReadStrictUnsignedInteger(&body, &out->r)) return false;
  if (!ReadStrictUnsignedInteger(&body, &out->s)) return false;
  if (!body.empty()) return false;  // trailing data inside the sequence
  return InScalarRange(out->r) && InScalarRange(out->s);
}

bool ParseP1363Signature(Bytes sig, RawSignature* out) {
  if (sig.size() != 64) return false;
  std::memcpy(out->r.data(), sig.data(), 32);
  std::memcpy(out->s.data(), sig.data() + 32, 32);
  return InScalarRange(out->r) && InScalarRange(out->s);
}

std::vector<uint8_t> EncodeDerSignature(const RawSignature& sig) {
  std::vector<uint8_t> ints;
  ints.reserve(70);
  AppendDerInteger(sig.r, &ints);
  AppendDerInteger(sig.s, &ints);
  std::vector<uint8_t> out;
  out.reserve(ints.size() + 2);
  out.push_back(0x30);
  out.push_back(static_cast<uint8_t>(ints.size()));  // <= 70: short form
  out.insert(out.end(), ints.begin(), ints.end());
  return out;
}

// ---- PublicKey -------------------------------------------------------------------------

struct PublicKey::Impl {
  Impl() { mbedtls_pk_init(&pk); }
  ~Impl() { mbedtls_pk_free(&pk); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // mbedtls_ecdsa_verify takes the group mutably: the first multiplication by the base
  // point caches a precomputed table in it. The mutex makes that safe across threads.
  mutable absl::Mutex mu;
  mbedtls_pk_context pk ABSL_GUARDED_BY(mu);
  std::vector<uint8_t> der;
  KeyId id;
};

namespace {

// Finishes a PublicKey::Impl whose `pk` has been parsed: checks the algorithm and fills
// the canonical DER and the key id. If `require_der` is non-empty, it must equal the
// canonical DER.
absl::Status FinishPublicKey(PublicKey::Impl* impl, Bytes require_der,
                             bool check_der) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (!IsP256(impl->pk)) {
    return absl::InvalidArgumentError("public key is not an ECDSA P-256 (secp256r1) key");
  }
  // mbedtls_pk_parse_public_key already checks the point (mbedtls_ecp_check_pubkey); check
  // again so this does not depend on that detail.
  if (mbedtls_ecp_check_pubkey(&mbedtls_pk_ec(impl->pk)->grp, &mbedtls_pk_ec(impl->pk)->Q) != 0) {
    return absl::InvalidArgumentError("public key point is not on P-256");
  }
  auto der = WriteSpkiDer(&impl->pk);
  if (!der.ok()) return der.status();
  if (check_der && (der->size() != require_der.size() ||
                    std::memcmp(der->data(), require_der.data(), der->size()) != 0)) {
    return absl::InvalidArgumentError("public key DER is not canonical SubjectPublicKeyInfo");
  }
  impl->der = *std::move(der);
  impl->id = Sha256::Hash(impl->der);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PublicKey> PublicKey::FromSpkiDer(Bytes der) {
  auto impl = std::make_shared<Impl>();
  if (der.empty() || der[0] != 0x30) {
    return absl::InvalidArgumentError("public key is not SubjectPublicKeyInfo DER");
  }
  int ret;
  {
    absl::MutexLock lock(&impl->mu);
    ret = mbedtls_pk_parse_public_key(&impl->pk, der.data(), der.size());
  }
  if (ret != 0) return absl::InvalidArgumentError("public key DER does not parse");
  absl::Status s = FinishPublicKey(impl.get(), der, /*check_der=*/true);
  if (!s.ok()) return s;
  return PublicKey(std::move(impl));
}

absl::StatusOr<PublicKey> PublicKey::FromPem(absl::string_view pem) {
  if (pem.find("-----BEGIN PUBLIC KEY-----") == absl::string_view::npos) {
    return absl::InvalidArgumentError("not a PUBLIC KEY PEM block");
  }
  std::string text(pem);  // mbedTLS wants PEM NUL-terminated, with the NUL counted
  auto impl = std::make_shared<Impl>();
  int ret;
  {
    absl::MutexLock lock(&impl->mu);
    ret = mbedtls_pk_parse_public_key(
        &impl->pk, reinterpret_cast<const unsigned char*>(text.c_str()), text.size() + 1);
  }
  if (ret != 0) return absl::InvalidArgumentError("public key PEM does not parse");
  absl::Status s = FinishPublicKey(impl.get(), {}, /*check_der=*/false);
  if (!s.ok()) return s;
  return PublicKey(std::move(impl));
}

const KeyId& PublicKey::id() const { return impl_->id; }
Bytes PublicKey::spki_der() const { return impl_->der; }

std::string PublicKey::ToPem() const {
  unsigned char buf[512];
  absl::MutexLock lock(&impl_->mu);
  if (mbedtls_pk_write_pubkey_pem(&impl_->pk, buf, sizeof(buf)) != 0) return {};
  return std::string(reinterpret_cast<const char*>(buf));
}

bool PublicKey::VerifyDigest(const Digest& digest, const RawSignature& sig) const {
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  bool ok = false;
  if (mbedtls_mpi_read_binary(&r, sig.r.data(), 32) == 0 &&
      mbedtls_mpi_read_binary(&s, sig.s.data(), 32) == 0) {
    absl::MutexLock lock(&impl_->mu);
    mbedtls_ecp_keypair* ec = mbedtls_pk_ec(impl_->pk);
    ok = mbedtls_ecdsa_verify(&ec->grp, digest.data(), digest.size(), &ec->Q, &r, &s) == 0;
  }
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  return ok;
}

bool PublicKey::VerifyDer(const Digest& digest, Bytes der) const {
  RawSignature raw;
  return ParseStrictDerSignature(der, &raw) && VerifyDigest(digest, raw);
}

bool PublicKey::VerifyP1363(const Digest& digest, Bytes sig) const {
  RawSignature raw;
  return ParseP1363Signature(sig, &raw) && VerifyDigest(digest, raw);
}

// ---- PrivateSigningKey -----------------------------------------------------------------

struct PrivateSigningKey::Impl {
  Impl() { mbedtls_pk_init(&pk); }
  ~Impl() { mbedtls_pk_free(&pk); }  // mbedtls_pk_free zeroizes the key material
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  mutable absl::Mutex mu;
  mbedtls_pk_context pk;
  Drbg drbg;  // only for blinding in signing and for generation; never for nonces
};

PrivateSigningKey::PrivateSigningKey(std::unique_ptr<Impl> impl, PublicKey pub)
    : impl_(std::move(impl)), public_key_(std::move(pub)) {}
PrivateSigningKey::~PrivateSigningKey() = default;

namespace {

absl::StatusOr<PublicKey> PublicOf(mbedtls_pk_context* pk) {
  auto der = WriteSpkiDer(pk);
  if (!der.ok()) return der.status();
  return PublicKey::FromSpkiDer(*der);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PrivateSigningKey>> PrivateSigningKey::Generate() {
  auto impl = std::make_unique<Impl>();
  if (absl::Status s = impl->drbg.Seed("edict keygen"); !s.ok()) return s;
  int ret = mbedtls_pk_setup(&impl->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (ret != 0) return MbedError("mbedtls_pk_setup", ret);
  ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(impl->pk), &Drbg::Random,
                            &impl->drbg);
  if (ret != 0) return MbedError("mbedtls_ecp_gen_key", ret);
  auto pub = PublicOf(&impl->pk);
  if (!pub.ok()) return pub.status();
  return std::unique_ptr<PrivateSigningKey>(
      new PrivateSigningKey(std::move(impl), *std::move(pub)));
}

absl::StatusOr<std::unique_ptr<PrivateSigningKey>> PrivateSigningKey::ReadSecretPem(
    absl::string_view pem) {
  if (pem.find("PRIVATE KEY-----") == absl::string_view::npos) {
    return absl::InvalidArgumentError("not a PRIVATE KEY PEM block");
  }
  auto impl = std::make_unique<Impl>();
  if (absl::Status s = impl->drbg.Seed("edict signing key"); !s.ok()) return s;
  std::string text(pem);
  int ret = mbedtls_pk_parse_key(&impl->pk, reinterpret_cast<const unsigned char*>(text.c_str()),
                                 text.size() + 1, nullptr, 0);
  mbedtls_platform_zeroize(text.data(), text.size());
  if (ret != 0) return absl::InvalidArgumentError("private key PEM does not parse");
  if (!IsP256(impl->pk)) {
    return absl::InvalidArgumentError("private key is not an ECDSA P-256 (secp256r1) key");
  }
  mbedtls_ecp_keypair* ec = mbedtls_pk_ec(impl->pk);
  if (mbedtls_ecp_check_privkey(&ec->grp, &ec->d) != 0) {
    return absl::InvalidArgumentError("private key scalar is out of range");
  }
  // A SEC1 file may carry a public point; it must be d*G.
  mbedtls_ecp_point q;
  mbedtls_ecp_point_init(&q);
  ret = mbedtls_ecp_mul(&ec->grp, &q, &ec->d, &ec->grp.G, &Drbg::Random, &impl->drbg);
  bool match = ret == 0 && mbedtls_ecp_point_cmp(&q, &ec->Q) == 0;
  mbedtls_ecp_point_free(&q);
  if (!match) return absl::InvalidArgumentError("private key's public point does not match");
  auto pub = PublicOf(&impl->pk);
  if (!pub.ok()) return pub.status();
  return std::unique_ptr<PrivateSigningKey>(
      new PrivateSigningKey(std::move(impl), *std::move(pub)));
}

std::string PrivateSigningKey::WriteSecretPem() const {
  unsigned char buf[1024];
  absl::MutexLock lock(&impl_->mu);
  std::string out;
  if (mbedtls_pk_write_key_pem(&impl_->pk, buf, sizeof(buf)) == 0) {
    out.assign(reinterpret_cast<const char*>(buf));
  }
  mbedtls_platform_zeroize(buf, sizeof(buf));
  return out;
}

absl::StatusOr<std::vector<uint8_t>> PrivateSigningKey::SignDigest(const Digest& digest) const {
  absl::MutexLock lock(&impl_->mu);
  mbedtls_ecp_keypair* ec = mbedtls_pk_ec(impl_->pk);
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  // RFC 6979: the nonce comes from HMAC-DRBG over (d, digest); the DRBG is used only to
  // blind the scalar multiplication and does not change the result.
  int ret = mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, digest.data(), digest.size(),
                                       MBEDTLS_MD_SHA256, &Drbg::Random, &impl_->drbg);
  RawSignature raw;
  if (ret == 0) ret = mbedtls_mpi_write_binary(&r, raw.r.data(), 32);
  if (ret == 0) ret = mbedtls_mpi_write_binary(&s, raw.s.data(), 32);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  if (ret != 0) return MbedError("mbedtls_ecdsa_sign_det_ext", ret);
  return EncodeDerSignature(raw);
}

}  // namespace edict::transport
