#include "ports/device_identity.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edict::ports {

absl::StatusOr<std::unique_ptr<DeviceIdentity>> DeviceIdentity::Create(
    std::string device_id, DeviceIdentityConfig config) {
  if (device_id.empty()) return absl::InvalidArgumentError("device id is empty");
  for (char c : device_id) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError("device id has characters outside printable ASCII");
    }
  }
  std::sort(config.groups.begin(), config.groups.end());
  for (size_t i = 0; i < config.groups.size(); ++i) {
    if (config.groups[i].empty()) return absl::InvalidArgumentError("empty group name");
    if (i > 0 && config.groups[i] == config.groups[i - 1]) {
      return absl::InvalidArgumentError(absl::StrCat("group listed twice: ", config.groups[i]));
    }
  }
  return std::unique_ptr<DeviceIdentity>(
      new DeviceIdentity(std::move(device_id), std::move(config)));
}

}  // namespace edict::ports
