// Who this endpoint is: a stable device id from the OS, and the tenant and groups the agent
// configuration assigns. Bundles are targeted at these (mix-and-match defence).

#ifndef EDICT_PORTS_DEVICE_IDENTITY_H_
#define EDICT_PORTS_DEVICE_IDENTITY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edict::ports {

// What the agent configuration says about this device.
struct DeviceIdentityConfig {
  std::string tenant;
  std::vector<std::string> groups;
};

// Immutable after creation, hence thread-safe.
class DeviceIdentity {
 public:
  // Creates an identity from a device id read by a platform factory (Linux: /etc/machine-id;
  // Windows: MachineGuid). The id is kept as given; InvalidArgument if it is empty or has
  // characters outside printable ASCII, or a group name is empty or repeated.
  static absl::StatusOr<std::unique_ptr<DeviceIdentity>> Create(std::string device_id,
                                                                DeviceIdentityConfig config);

  const std::string& device_id() const { return device_id_; }
  const std::string& tenant() const { return config_.tenant; }
  // Sorted, no duplicates.
  const std::vector<std::string>& groups() const { return config_.groups; }

 private:
  DeviceIdentity(std::string device_id, DeviceIdentityConfig config)
      : device_id_(std::move(device_id)), config_(std::move(config)) {}

  std::string device_id_;
  DeviceIdentityConfig config_;
};

}  // namespace edict::ports

#endif  // EDICT_PORTS_DEVICE_IDENTITY_H_
