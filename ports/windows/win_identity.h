// Windows device identity and randomness: MachineGuid from the registry, BCryptGenRandom.

#ifndef EDICT_PORTS_WINDOWS_WIN_IDENTITY_H_
#define EDICT_PORTS_WINDOWS_WIN_IDENTITY_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ports/device_identity.h"

namespace edict::ports {

struct WindowsDeviceIdentityOptions {
  // Where the id is read (tests point these at HKCU). Always the 64-bit registry view
  // (RRF_SUBKEY_WOW6464KEY), so a 32-bit build reads the same value.
  bool local_machine = true;  // false: HKEY_CURRENT_USER
  std::string key = "SOFTWARE\\Microsoft\\Cryptography";
  std::string value = "MachineGuid";
  DeviceIdentityConfig config;
};

// Reads MachineGuid (a GUID as 36 characters, 8-4-4-4-12 hex digits, no braces; set by
// Windows setup). NotFound if the key or value is missing; DataLoss if it is not a GUID;
// FailedPrecondition if it is all zero. The id is kept in lower case.
absl::StatusOr<std::unique_ptr<DeviceIdentity>> ReadWindowsDeviceIdentity(
    const WindowsDeviceIdentityOptions& options);

// Fills `out` with `len` bytes from the system CSPRNG (BCryptGenRandom with
// BCRYPT_USE_SYSTEM_PREFERRED_RNG). Unavailable if it fails.
absl::Status WindowsRandomBytes(unsigned char* out, size_t len);

// The same as an mbedTLS entropy source (mbedtls_entropy_f_source_ptr): register it with
//   mbedtls_entropy_add_source(&entropy, EdictWindowsEntropySource, nullptr, 32,
//                              MBEDTLS_ENTROPY_SOURCE_STRONG);
// Returns 0, or MBEDTLS_ERR_ENTROPY_SOURCE_FAILED (-0x003C) when BCryptGenRandom fails.
// `data` is unused.
int EdictWindowsEntropySource(void* data, unsigned char* output, size_t len, size_t* olen);

}  // namespace edict::ports

#endif  // EDICT_PORTS_WINDOWS_WIN_IDENTITY_H_
