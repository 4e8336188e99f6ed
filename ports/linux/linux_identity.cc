#include "ports/linux/linux_identity.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ports/linux/posix_io.h"

namespace edict::ports {

absl::StatusOr<std::unique_ptr<DeviceIdentity>> ReadLinuxDeviceIdentity(
    const LinuxDeviceIdentityOptions& options) {
  absl::StatusOr<std::string> text = posix::PosixIo::ReadFile(options.machine_id_path, 4096);
  if (!text.ok()) return text.status();
  absl::string_view id = absl::StripAsciiWhitespace(*text);
  if (id == "uninitialized") {
    return absl::FailedPreconditionError(
        absl::StrCat(options.machine_id_path, " is \"uninitialized\" (first boot not complete)"));
  }
  bool all_zero = true;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::DataLossError(
          absl::StrCat(options.machine_id_path, " is not 32 lower-case hex digits"));
    }
    if (c != '0') all_zero = false;
  }
  if (id.size() != 32) {
    return absl::DataLossError(
        absl::StrCat(options.machine_id_path, " is not 32 lower-case hex digits"));
  }
  if (all_zero) {
    return absl::FailedPreconditionError(absl::StrCat(options.machine_id_path, " is all zero"));
  }
  return DeviceIdentity::Create(std::string(id), options.config);
}

}  // namespace edict::ports
