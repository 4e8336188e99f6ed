// Linux device identity: /etc/machine-id plus the tenant and groups from the agent config.

#ifndef EDICT_PORTS_LINUX_LINUX_IDENTITY_H_
#define EDICT_PORTS_LINUX_LINUX_IDENTITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ports/device_identity.h"

namespace edict::ports {

struct LinuxDeviceIdentityOptions {
  std::string machine_id_path = "/etc/machine-id";
  DeviceIdentityConfig config;
};

// Reads the machine id (32 lower-case hex digits and a newline, see machine-id(5)).
// NotFound if the file is missing; FailedPrecondition if it is "uninitialized" (first boot not
// finished) or all zero; DataLoss if it is malformed.
absl::StatusOr<std::unique_ptr<DeviceIdentity>> ReadLinuxDeviceIdentity(
    const LinuxDeviceIdentityOptions& options);

}  // namespace edict::ports

#endif  // EDICT_PORTS_LINUX_LINUX_IDENTITY_H_
