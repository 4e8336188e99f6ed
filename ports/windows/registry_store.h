// The Windows registry as a native policy store, the way Group Policy and Chromium-based
// browsers read admin policy: values under HKLM\SOFTWARE\Policies\<Vendor>\<Product>
// (mandatory) and HKLM\SOFTWARE\Policies\<Vendor>\<Product>\Recommended (defaults the user
// may change). Product catalogue settings go under their own product's key the same way:
// HKLM\SOFTWARE\Policies\<catalogue vendor>\<display name>[\Recommended].

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
  // Write product settings (entries with a registry_key) under <base_key>\<registry_key>
  // (false: they are skipped). key_prefix does not apply to them. Only one store per
  // registry root and base key should write them.
  bool products = true;
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
//
// Product settings (NativePolicyEntry::registry_key "<vendor>\<display name>", as
// transport/native_entries.cc fills it and `edictctl gen admx` declares it): the value
// registry_value (the entry key if empty) under <base_key>\<registry_key>, or its
// \Recommended subkey when recommended, with registry_type: Auto as above; DWord for bool and
// integers in [-2^31, 2^32) (negative ones as 32-bit two's complement); QWord for bool and any
// integer; String for strings; MultiString for lists. A registry_key that is not two key names
// (1..255 bytes of UTF-8 without control characters or '\', not "." or ".."), a value name
// that is empty, longer than 255 bytes or holds a control character or '/', a value that does
// not fit its type, and two settings mapping to one value (key and value names compare
// case-insensitively, ASCII only) are InvalidArgument, before anything is written.
//
// Ownership: a record of "<mandatory|recommended>/<value name>" items (built-in settings) and
// "<mandatory|recommended>/<vendor>\<display name>/<value name>" items (product settings),
// widened before and narrowed after every change; values not recorded are never touched, and
// a value at one of our names that we did not write is refused (FailedPrecondition). Values
// recorded but no longer in the policy (also every value of a product whose catalogue is
// gone) are deleted. A key we write to that is left without values (and without subkeys) is
// deleted; the vendor keys above are left. Owned keys are reported as those items, sorted.
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
