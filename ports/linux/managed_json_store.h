// Managed/recommended JSON policy files, the convention Chromium-based browsers read
// (`/etc/<product>/policies/managed/*.json` mandatory, `.../recommended/*.json` defaults the
// user may change) and that several other applications copied.

#ifndef EDICT_PORTS_LINUX_MANAGED_JSON_STORE_H_
#define EDICT_PORTS_LINUX_MANAGED_JSON_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ports/fault_injector.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"

namespace edict::ports {

struct ManagedJsonTarget {
  std::string name;  // "chromium"; [A-Za-z0-9_-]+, unique among targets
  // Directory holding managed/ and recommended/, relative to the store root.
  // Empty: "etc/<name>/policies".
  std::string policy_dir;
  // Only entries whose key starts with this prefix go to this target, with the prefix removed
  // ("chromium." selects "chromium.HomepageLocation" and writes "HomepageLocation").
  // Empty: every entry, key unchanged.
  std::string key_prefix;
  // Write recommended entries to recommended/ (false: they are skipped for this target).
  bool recommended = true;
};

struct ManagedJsonOptions {
  std::string root = "/";
  // Default: chromium (etc/chromium/policies) and Google Chrome (etc/opt/chrome/policies).
  std::vector<ManagedJsonTarget> targets;
  std::string file_name = "edict.json";
  StateStore* state = nullptr;  // ownership record; required; not owned
  std::string record_name = "native_managed_json";
  FaultInjector* faults = nullptr;  // not owned
};

// Files are "{\n  \"key\": value,\n ...}\n" sorted by key, mode 0644, written by atomic
// rename; a level with no entries has no file (a previously written one is removed).
// Owned keys are reported as "<target>/<managed|recommended>/<key>".
absl::StatusOr<std::unique_ptr<NativePolicyStore>> OpenManagedJsonStore(ManagedJsonOptions options);

// The JSON text for `entries` as written to one file (exposed for tests and the Windows
// port's optional JSON output).
std::string RenderPolicyJson(const std::vector<const NativePolicyEntry*>& entries,
                             absl::string_view strip_prefix);

}  // namespace edict::ports

#endif  // EDICT_PORTS_LINUX_MANAGED_JSON_STORE_H_
