// MachineGuid identity and BCryptGenRandom (also as mbedTLS's entropy source).

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/entropy.h"
#include "ports/windows/win_identity.h"
#include "tests/ports_windows/test_util.h"

namespace edict::ports {
namespace {

TEST(WindowsIdentity, ReadsThisMachinesGuid) {
  // wine creates HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid when the prefix is made.
  WindowsDeviceIdentityOptions options;
  options.config = {"tenant-a", {"b", "a"}};
  absl::StatusOr<std::unique_ptr<DeviceIdentity>> id = ReadWindowsDeviceIdentity(options);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ((*id)->device_id().size(), 36u);
  EXPECT_EQ((*id)->tenant(), "tenant-a");
  EXPECT_EQ((*id)->groups(), (std::vector<std::string>{"a", "b"}));
  // Stable across reads.
  EXPECT_EQ(ReadWindowsDeviceIdentity(options).value()->device_id(), (*id)->device_id());
}

TEST(WindowsIdentity, ReadsAndChecksAGuidAtAnOverriddenKey) {
  wintest::TempRegistryKey key;
  WindowsDeviceIdentityOptions options;
  options.local_machine = false;
  options.key = key.path();
  EXPECT_TRUE(absl::IsNotFound(ReadWindowsDeviceIdentity(options).status()));
  wintest::SetUserString(key.path(), "MachineGuid", "6F1C2A7E-1B2C-4D5E-8F90-0123456789AB");
  EXPECT_EQ(ReadWindowsDeviceIdentity(options).value()->device_id(),
            "6f1c2a7e-1b2c-4d5e-8f90-0123456789ab");
  for (const char* bad : {"", "not-a-guid", "{6F1C2A7E-1B2C-4D5E-8F90-0123456789AB}",
                          "6F1C2A7E-1B2C-4D5E-8F90-0123456789AZ"}) {
    wintest::SetUserString(key.path(), "MachineGuid", bad);
    EXPECT_TRUE(absl::IsDataLoss(ReadWindowsDeviceIdentity(options).status())) << bad;
  }
  wintest::SetUserString(key.path(), "MachineGuid", "00000000-0000-0000-0000-000000000000");
  EXPECT_TRUE(absl::IsFailedPrecondition(ReadWindowsDeviceIdentity(options).status()));
  wintest::SetUserDword(key.path(), "MachineGuid", 7);
  EXPECT_TRUE(absl::IsDataLoss(ReadWindowsDeviceIdentity(options).status()));
}

TEST(WindowsRandom, BCryptGenRandomFillsAndDiffers) {
  unsigned char a[64] = {}, b[64] = {};
  ASSERT_TRUE(WindowsRandomBytes(a, sizeof(a)).ok());
  ASSERT_TRUE(WindowsRandomBytes(b, sizeof(b)).ok());
  EXPECT_NE(std::memcmp(a, b, sizeof(a)), 0);
  unsigned char zero[64] = {};
  EXPECT_NE(std::memcmp(a, zero, sizeof(a)), 0);
}

TEST(WindowsRandom, SeedsMbedTlsKeyGeneration) {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ecdsa_context key;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  mbedtls_ecdsa_init(&key);
  ASSERT_EQ(mbedtls_entropy_add_source(&entropy, EdictWindowsEntropySource, nullptr, 32,
                                       MBEDTLS_ENTROPY_SOURCE_STRONG),
            0);
  const unsigned char personal[] = "edict-test";
  ASSERT_EQ(
      mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, personal, sizeof(personal)), 0);
  EXPECT_EQ(mbedtls_ecdsa_genkey(&key, MBEDTLS_ECP_DP_SECP256R1, mbedtls_ctr_drbg_random, &drbg),
            0);
  mbedtls_ecdsa_free(&key);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
}

}  // namespace
}  // namespace edict::ports
