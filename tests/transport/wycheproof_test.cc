// Every Wycheproof ECDSA P-256/SHA-256 vector through our verification primitive:
// 100% of valid signatures accepted, 100% of invalid ones rejected. The DER file goes
// through PublicKey::VerifyDer (strict DER, then mbedtls_ecdsa_verify), exactly what
// bundle and trust signatures use; the P1363 file through PublicKey::VerifyP1363.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "policy/compiler/json.h"
#include "transport/keys.h"

namespace edict::transport {
namespace {

std::vector<uint8_t> Unhex(const std::string& hex) {
  std::string bytes = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

struct Counts {
  int valid = 0, valid_accepted = 0, invalid = 0, invalid_rejected = 0, groups = 0;
};

enum class Encoding { kDer, kP1363 };

Counts RunFile(const std::string& file, Encoding encoding) {
  Counts c;
  std::ifstream in(std::string(EDICT_WYCHEPROOF_DIR) + "/" + file, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << file;
  std::stringstream text;
  text << in.rdbuf();
  auto doc = json::Parse(text.str());
  EXPECT_TRUE(doc.ok()) << doc.status();
  if (!doc.ok()) return c;
  const json::Value* groups = doc->Find("testGroups");
  EXPECT_TRUE(groups && groups->is_array());
  if (!groups) return c;
  for (const json::Value& g : groups->items()) {
    ++c.groups;
    const json::Value* sha = g.Find("sha");
    EXPECT_TRUE(sha && sha->string() == "SHA-256");
    const json::Value* der = g.Find("publicKeyDer");
    EXPECT_TRUE(der && der->is_string());
    if (!der) continue;
    auto key = PublicKey::FromSpkiDer(Unhex(der->string()));
    EXPECT_TRUE(key.ok()) << "group " << c.groups << ": " << key.status();
    for (const json::Value& t : g.Find("tests")->items()) {
      const int id = static_cast<int>(t.Find("tcId")->integer());
      const std::string& result = t.Find("result")->string();
      EXPECT_TRUE(result == "valid" || result == "invalid") << "tcId " << id;  // no "acceptable"
      const std::vector<uint8_t> msg = Unhex(t.Find("msg")->string());
      const std::vector<uint8_t> sig = Unhex(t.Find("sig")->string());
      const Digest digest = Sha256::Hash(msg);
      bool accepted = false;
      if (key.ok()) {
        accepted = encoding == Encoding::kDer ? key->VerifyDer(digest, sig)
                                              : key->VerifyP1363(digest, sig);
      }
      if (result == "valid") {
        ++c.valid;
        c.valid_accepted += accepted;
        EXPECT_TRUE(accepted) << file << " tcId " << id << ": " << t.Find("comment")->string();
      } else {
        ++c.invalid;
        c.invalid_rejected += !accepted;
        EXPECT_FALSE(accepted) << file << " tcId " << id << ": " << t.Find("comment")->string();
      }
    }
  }
  std::printf("%s: %d groups; valid %d/%d accepted; invalid %d/%d rejected\n", file.c_str(),
              c.groups, c.valid_accepted, c.valid, c.invalid_rejected, c.invalid);
  return c;
}

TEST(Wycheproof, EcdsaP256Sha256Der) {
  Counts c = RunFile("ecdsa_secp256r1_sha256_test.json", Encoding::kDer);
  // The README's counts: 113 groups, 174 valid, 310 invalid.
  EXPECT_EQ(c.groups, 113);
  EXPECT_EQ(c.valid, 174);
  EXPECT_EQ(c.invalid, 310);
  EXPECT_EQ(c.valid_accepted, c.valid);
  EXPECT_EQ(c.invalid_rejected, c.invalid);
  ::testing::Test::RecordProperty("valid_accepted", c.valid_accepted);
  ::testing::Test::RecordProperty("invalid_rejected", c.invalid_rejected);
}

TEST(Wycheproof, EcdsaP256Sha256P1363) {
  Counts c = RunFile("ecdsa_secp256r1_sha256_p1363_test.json", Encoding::kP1363);
  EXPECT_EQ(c.groups, 112);
  EXPECT_EQ(c.valid, 173);
  EXPECT_EQ(c.invalid, 89);
  EXPECT_EQ(c.valid_accepted, c.valid);
  EXPECT_EQ(c.invalid_rejected, c.invalid);
}

}  // namespace
}  // namespace edict::transport
