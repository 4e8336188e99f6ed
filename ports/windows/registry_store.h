// The Windows registry as a native policy store, the way Group Policy and Chromium-based
// browsers read admin policy: values under HKLM\SOFTWARE\Policies\<Vendor>\<Product>
// (mandatory) and HKLM\SOFTWARE\Policies\<Vendor>\<Product>\Recommended (defaults the user
// may change).

#ifndef EDICT_PORTS_WINDOWS_REGISTRY_STORE_H_
#define EDICT_PORTS_WINDOWS_REGISTRY_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ports/fault_injector.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"

namespace edict::ports {

struct RegistryPolicyOptions {
  // HKEY_LOCAL_MACHINE (true) or HKEY_CURRENT_USER (false; tests, per-user policy).
  bool local_machine = true;
  // Parent of <vendor>\<product>; tests use e.g. "Software\\edict-test-<pid>".
  std::string base_key = "SOFTWARE\\Policies";
  std::string vendor = "edict";   // [A-Za-z0-9 _.-]+
  std::string product = "edict";  // [A-Za-z0-9 _.-]+
  // Only entries whose key starts with this prefix, with the prefix removed from the value
  // name ("chromium." selects "chromium.HomepageLocation" and writes "HomepageLocation").
  std::string key_prefix;
  // Write recommended entries to ...\Recommended (false: they are skipped).
  bool recommended = true;
  StateStore* state = nullptr;  // ownership record; required; not owned
  std::string record_name = "native_registry";
  // Consulted before each registry change: creating a key (kMkdir), setting a value
  // (kWrite), flushing a key (kFsync), deleting a value or a key (kUnlink). Not owned.
  FaultInjector* faults = nullptr;
};

// Value types by NativeValue: bool -> REG_DWORD 0/1; int64 in [0, 2^32) -> REG_DWORD, any
// other int64 -> REG_QWORD (two's complement); string -> REG_SZ (UTF-16); list -> REG_MULTI_SZ
// (items may not be empty: REG_MULTI_SZ cannot hold an empty string; InvalidArgument). Value
// names are the entry keys (minus key_prefix), always in the 64-bit registry view.
// Ownership: a record of "<mandatory|recommended>/<value name>" items, widened before and
// narrowed after every change; values not recorded are never touched, and a value at one of
// our names that we did not write is refused (FailedPrecondition). A level key left without
// values (and without subkeys) is deleted. Owned keys are reported as
// "<mandatory|recommended>/<value name>".
absl::StatusOr<std::unique_ptr<NativePolicyStore>> OpenRegistryPolicyStore(
    RegistryPolicyOptions options);

// What a registry value holds, read back (for tests and `edict-agent status`).
struct RegistryValue {
  unsigned long type = 0;         // REG_DWORD, REG_QWORD, REG_SZ, REG_MULTI_SZ, ...
  uint64_t number = 0;            // REG_DWORD / REG_QWORD
  std::string text;               // REG_SZ (UTF-8)
  std::vector<std::string> list;  // REG_MULTI_SZ (UTF-8)
};

// Reads value `name` of `key` (64-bit view). NotFound if the key or the value is missing.
absl::StatusOr<RegistryValue> ReadRegistryValue(bool local_machine, const std::string& key,
                                                const std::string& name);
// Value names of `key`, sorted; empty if the key does not exist.
std::vector<std::string> ListRegistryValues(bool local_machine, const std::string& key);
bool RegistryKeyExists(bool local_machine, const std::string& key);

}  // namespace edict::ports

#endif  // EDICT_PORTS_WINDOWS_REGISTRY_STORE_H_
