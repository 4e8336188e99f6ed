// The primitive layer: strict DER, P1363, deterministic signing, key loading; and the
// error table.
#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"
#include "tests/transport/test_util.h"

namespace edict::transport::testing {
namespace {

std::vector<uint8_t> Unhex(absl::string_view hex) {
  std::string bytes = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// r = 1, s = 2 in several encodings.
TEST(StrictDer, AcceptsMinimalDer) {
  RawSignature raw;
  ASSERT_TRUE(ParseStrictDerSignature(Unhex("3006020101020102"), &raw));
  EXPECT_EQ(raw.r[31], 1);
  EXPECT_EQ(raw.s[31], 2);
  // A high bit needs exactly one leading zero.
  ASSERT_TRUE(ParseStrictDerSignature(Unhex("300702020080020102"), &raw));
  EXPECT_EQ(raw.r[31], 0x80);
}

TEST(StrictDer, RejectsEveryNonStrictForm) {
  RawSignature raw;
  const char* bad[] = {
      "",  // empty
      "3006020101020102"
      "00",                   // trailing data after the sequence
      "300702010102010200",   // trailing data inside the sequence
      "308106020101020102",   // long-form sequence length (BER)
      "30070281010102 0102",  // long-form integer length
      "3007020200010201 02",  // non-minimal: extra leading zero
      "3006020180020102",     // negative r (missing leading zero)
      "3006020101020182",     // negative s
      "3006020100020102",     // r = 0
      "3006020101020100",     // s = 0
      "3005020101020102",     // sequence length too short
      "3007020101020102",     // sequence length too long
      "3106020101020102",     // SET instead of SEQUENCE
      "3006030101020102",     // BIT STRING instead of INTEGER
      "300502000201 02",      // zero-length integer
      "3080020101020102"
      "0000",  // indefinite length
  };
  for (const char* hex : bad) {
    std::string h(hex);
    h.erase(std::remove(h.begin(), h.end(), ' '), h.end());
    EXPECT_FALSE(ParseStrictDerSignature(Unhex(h), &raw)) << hex;
  }
}

TEST(StrictDer, RejectsOutOfRangeScalars) {
  const std::string n = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
  const std::string n_minus_1 = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550";
  RawSignature raw;
  // r = n (33 bytes with the sign byte)
  EXPECT_FALSE(ParseStrictDerSignature(Unhex("3026022100" + n + "020101"), &raw));
  EXPECT_TRUE(ParseStrictDerSignature(Unhex("3026022100" + n_minus_1 + "020101"), &raw));
  EXPECT_FALSE(ParseStrictDerSignature(Unhex("3026020101022100" + n), &raw));
  // 33 significant bytes.
  EXPECT_FALSE(ParseStrictDerSignature(Unhex("302702220100" + n + "020101"), &raw));
  // P1363: exact length and range.
  EXPECT_TRUE(ParseP1363Signature(Unhex(n_minus_1 + n_minus_1), &raw));
  EXPECT_FALSE(ParseP1363Signature(Unhex(n + n_minus_1), &raw));
  EXPECT_FALSE(ParseP1363Signature(Unhex(std::string(64, '0') + n_minus_1), &raw));
  EXPECT_FALSE(ParseP1363Signature(Unhex(n_minus_1 + n_minus_1 + "00"), &raw));
}

TEST(StrictDer, EncodeParseRoundTrip) {
  auto key = NewKey();
  for (int i = 0; i < 32; ++i) {
    Digest d = Sha256::Hash(Bytes(reinterpret_cast<const uint8_t*>(&i), sizeof(i)));
    auto sig = key->SignDigest(d);
    ASSERT_TRUE(sig.ok());
    RawSignature raw;
    ASSERT_TRUE(ParseStrictDerSignature(*sig, &raw));
    EXPECT_EQ(EncodeDerSignature(raw), *sig);
    EXPECT_TRUE(key->public_key().VerifyDer(d, *sig));
    d[0] ^= 1;
    EXPECT_FALSE(key->public_key().VerifyDer(d, *sig));
  }
}

// RFC 6979, appendix A.2.5: ECDSA P-256 with SHA-256, message "sample".
TEST(DeterministicSigning, MatchesRfc6979Vector) {
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  ASSERT_EQ(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
  mbedtls_ecp_keypair* ec = mbedtls_pk_ec(pk);
  ASSERT_EQ(mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP256R1), 0);
  ASSERT_EQ(mbedtls_mpi_read_string(
                &ec->d, 16, "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"),
            0);
  ASSERT_EQ(mbedtls_ecp_mul(&ec->grp, &ec->Q, &ec->d, &ec->grp.G, nullptr, nullptr), 0);
  unsigned char pem[1024];
  ASSERT_EQ(mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem)), 0);
  mbedtls_pk_free(&pk);

  auto key = PrivateSigningKey::ReadSecretPem(reinterpret_cast<const char*>(pem));
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string msg = "sample";
  Digest d = Sha256::Hash(Bytes(reinterpret_cast<const uint8_t*>(msg.data()), msg.size()));
  auto sig = (*key)->SignDigest(d);
  ASSERT_TRUE(sig.ok());
  RawSignature raw;
  ASSERT_TRUE(ParseStrictDerSignature(*sig, &raw));
  EXPECT_EQ(Hex(raw.r), "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716");
  EXPECT_EQ(Hex(raw.s), "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  // Same key, same digest: same bytes, every time.
  auto again = (*key)->SignDigest(d);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *sig);
}

TEST(Keys, PemRoundTripsAndKeyIdIsSha256OfSpki) {
  auto key = NewKey();
  auto pem = key->WriteSecretPem();
  EXPECT_NE(pem.find("BEGIN EC PRIVATE KEY"), std::string::npos);
  auto back = PrivateSigningKey::ReadSecretPem(pem);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->id(), key->id());
  auto pub = PublicKey::FromPem(key->public_key().ToPem());
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->id(), key->id());
  EXPECT_EQ(pub->id(), Sha256::Hash(pub->spki_der()));
  EXPECT_EQ(pub->spki_der().size(), 91u);  // P-256 SPKI, uncompressed point
  // Public and private paths do not mix.
  EXPECT_FALSE(PublicKey::FromPem(pem).ok());
  EXPECT_FALSE(PrivateSigningKey::ReadSecretPem(key->public_key().ToPem()).ok());
}

TEST(Keys, SpkiMustBeCanonicalP256) {
  auto key = NewKey();
  std::vector<uint8_t> der(key->public_key().spki_der().begin(),
                           key->public_key().spki_der().end());
  EXPECT_TRUE(PublicKey::FromSpkiDer(der).ok());
  auto trailing = der;
  trailing.push_back(0);
  EXPECT_FALSE(PublicKey::FromSpkiDer(trailing).ok());
  auto bad_point = der;
  bad_point.back() ^= 1;  // off the curve
  EXPECT_FALSE(PublicKey::FromSpkiDer(bad_point).ok());
  EXPECT_FALSE(PublicKey::FromSpkiDer({}).ok());
  // A P-384 key is not a P-256 key.
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  ASSERT_EQ(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
  mbedtls_ecp_keypair* ec = mbedtls_pk_ec(pk);
  ASSERT_EQ(mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP384R1), 0);
  ASSERT_EQ(mbedtls_mpi_lset(&ec->d, 12345), 0);
  ASSERT_EQ(mbedtls_ecp_mul(&ec->grp, &ec->Q, &ec->d, &ec->grp.G, nullptr, nullptr), 0);
  unsigned char buf[256];
  int len = mbedtls_pk_write_pubkey_der(&pk, buf, sizeof(buf));
  mbedtls_pk_free(&pk);
  ASSERT_GT(len, 0);
  auto p384 = PublicKey::FromSpkiDer(Bytes(buf + sizeof(buf) - len, len));
  EXPECT_FALSE(p384.ok());
}

TEST(Errors, TableIsCompleteStableAndUnique) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(Error::kCount); ++i) {
    Error e = static_cast<Error>(i);
    std::string name(ErrorName(e));
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_FALSE(ErrorAuditText(e).empty());
    if (i == 0) continue;
    EXPECT_EQ(name.rfind("ERR_", 0), 0u) << name;
    absl::Status s = MakeError(e, "detail");
    EXPECT_EQ(s.code(), ErrorCode(e));
    EXPECT_NE(s.code(), absl::StatusCode::kOk);
    EXPECT_EQ(ErrorOf(s), e);
    EXPECT_EQ(std::string(s.message()), name + ": detail");
    EXPECT_GE(static_cast<int>(ClassOf(e)), 10);
  }
  // Numbers are part of the audit format: spot-check that they never move.
  EXPECT_EQ(static_cast<int>(Error::kTooLarge), 1);
  EXPECT_EQ(static_cast<int>(Error::kSignature), 10);
  EXPECT_EQ(static_cast<int>(Error::kActivation), 21);
  EXPECT_EQ(static_cast<int>(Error::kStateEpoch), 30);
  EXPECT_EQ(ErrorName(Error::kSignature), "ERR_SIGNATURE");
  EXPECT_EQ(ErrorOf(absl::OkStatus()), Error::kOk);
  EXPECT_EQ(ErrorOf(absl::InternalError("x")), Error::kCount);
}

}  // namespace
}  // namespace edict::transport::testing
