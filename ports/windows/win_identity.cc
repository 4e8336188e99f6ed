#include "ports/windows/win_identity.h"

// clang-format off
#include <windows.h>
#include <bcrypt.h>
// clang-format on

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ports/windows/win_io.h"

namespace edict::ports {
namespace {

bool IsGuid(absl::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (id[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(id[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeviceIdentity>> ReadWindowsDeviceIdentity(
    const WindowsDeviceIdentityOptions& options) {
  const std::string where =
      absl::StrCat(options.local_machine ? "HKLM\\" : "HKCU\\", options.key, "\\", options.value);
  const std::wstring key = win::Widen(options.key);
  const std::wstring value = win::Widen(options.value);
  HKEY root = options.local_machine ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER;
  wchar_t buf[128];
  DWORD size = sizeof(buf);
  const LSTATUS rc = ::RegGetValueW(root, key.c_str(), value.c_str(),
                                    RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, nullptr, buf, &size);
  if (rc == ERROR_FILE_NOT_FOUND) return absl::NotFoundError(absl::StrCat(where, " is not set"));
  if (rc == ERROR_MORE_DATA || rc == ERROR_UNSUPPORTED_TYPE) {
    return absl::DataLossError(absl::StrCat(where, " is not a GUID string"));
  }
  if (rc != ERROR_SUCCESS) return win::Win32ErrorStatus(static_cast<DWORD>(rc), "read", where);
  size_t chars = size / sizeof(wchar_t);
  while (chars > 0 && buf[chars - 1] == L'\0') --chars;
  const std::string id = absl::AsciiStrToLower(win::Narrow(buf, chars));
  if (!IsGuid(id)) return absl::DataLossError(absl::StrCat(where, " is not a GUID: \"", id, "\""));
  if (id == "00000000-0000-0000-0000-000000000000") {
    return absl::FailedPreconditionError(absl::StrCat(where, " is all zero"));
  }
  return DeviceIdentity::Create(id, options.config);
}

absl::Status WindowsRandomBytes(unsigned char* out, size_t len) {
  while (len > 0) {
    const ULONG chunk = static_cast<ULONG>(len > (1u << 30) ? (1u << 30) : len);
    const NTSTATUS st = ::BCryptGenRandom(nullptr, out, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
    if (st < 0) {
      return absl::UnavailableError(absl::StrCat("BCryptGenRandom failed with NTSTATUS 0x",
                                                 absl::Hex(static_cast<ULONG>(st))));
    }
    out += chunk;
    len -= chunk;
  }
  return absl::OkStatus();
}

int EdictWindowsEntropySource(void* /*data*/, unsigned char* output, size_t len, size_t* olen) {
  if (!WindowsRandomBytes(output, len).ok()) {
    *olen = 0;
    return -0x003C;  // MBEDTLS_ERR_ENTROPY_SOURCE_FAILED
  }
  *olen = len;
  return 0;
}

}  // namespace edict::ports
