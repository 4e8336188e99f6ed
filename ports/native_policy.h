// Native policy stores: where applications that never link edict read admin policy (managed
// JSON files, dconf databases, the Windows registry). The input is a neutral effective policy;
// the ports know nothing of edict's policy semantics.

#ifndef EDICT_PORTS_NATIVE_POLICY_H_
#define EDICT_PORTS_NATIVE_POLICY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace edict::ports {

// bool | int64 | string | list of strings.
using NativeValue = std::variant<bool, int64_t, std::string, std::vector<std::string>>;

struct NativePolicyEntry {
  // Dotted setting name, e.g. "communicator.ceip": 1..255 characters, segments of
  // [A-Za-z0-9_-] separated by single dots. Stores may restrict further (dconf).
  std::string key;
  NativeValue value;
  bool mandatory = true;  // false: recommended (a default the user may change)

  // Native names from a product catalogue's mapping (docs/catalogs.md "Native mappings");
  // empty for built-in settings, whose native names each store derives from `key` as
  // always. The managed JSON store uses `key` (the mapping's managed_key).
  std::string dconf_path = {};      // the full dconf key, "/com/acme/vpn/always-on"
  std::string registry_key = {};    // below the registry root: "<vendor>\\<display name>"
  std::string registry_value = {};  // the value name
  uint8_t registry_type = 0;        // catalog.fbs RegistryType: 0 Auto, 1 DWord, 2 QWord, 3 String,
                                    // 4 MultiString
};

// Checks what every store requires: well-formed, unique keys; strings (also list items) are
// well-formed UTF-8 without NUL. InvalidArgument naming the first offending key otherwise.
absl::Status ValidateNativeEntries(absl::Span<const NativePolicyEntry> entries);

// Writes the effective policy where applications read it, and nothing else.
//
// Each store keeps an ownership record (in a StateStore) of every file, key or profile line it
// wrote. Apply writes exactly `entries` and removes everything recorded as written before that
// is no longer present (no stale "tattooed" values); it never touches what it does not own,
// and refuses (FailedPrecondition) to overwrite a file at its own target path that it did not
// write. The record is widened before writing and narrowed after, so a crash at any point
// leaves nothing owned but unrecorded; the next Apply converges. Apply validates every entry
// before writing anything: one bad value never reaches the native store.
//
// Not thread-safe: one materialiser calls it (the agent serialises activation).
class NativePolicyStore {
 public:
  virtual ~NativePolicyStore() = default;

  // Short identifier for audit lines ("managed-json", "dconf:local").
  virtual std::string Name() const = 0;

  // Makes the native store hold exactly `entries` (those this store handles).
  virtual absl::Status Apply(absl::Span<const NativePolicyEntry> entries) = 0;

  // Removes everything this store owns and its ownership record (unenroll).
  virtual absl::Status Clear() = 0;

  // The native names of the keys currently owned (for status and tests), sorted.
  virtual absl::StatusOr<std::vector<std::string>> OwnedKeys() = 0;
};

// Applies to several stores in order; a failing store does not stop the others. Returns the
// first error, prefixed with the failing store's name.
class CompositeNativePolicyStore : public NativePolicyStore {
 public:
  explicit CompositeNativePolicyStore(std::vector<std::unique_ptr<NativePolicyStore>> stores)
      : stores_(std::move(stores)) {}

  std::string Name() const override;
  absl::Status Apply(absl::Span<const NativePolicyEntry> entries) override;
  absl::Status Clear() override;
  absl::StatusOr<std::vector<std::string>> OwnedKeys() override;

 private:
  std::vector<std::unique_ptr<NativePolicyStore>> stores_;
};

// What a store owns: named sets of strings ("file" -> paths, "key" -> native key names, ...).
// Portable text encoding, one "<set>\t<item>" line each, after a version line.
struct OwnershipRecord {
  std::map<std::string, std::set<std::string>> sets;

  const std::set<std::string>& Get(const std::string& set) const;
  bool Has(const std::string& set, const std::string& item) const;
  // Adds every item of `other` to this record.
  void MergeFrom(const OwnershipRecord& other);

  // Items must not contain tab or newline, set names must be [a-z-]+ (InvalidArgument).
  absl::StatusOr<std::string> Encode() const;
  // DataLoss on anything malformed.
  static absl::StatusOr<OwnershipRecord> Decode(absl::string_view text);

  bool operator==(const OwnershipRecord& other) const { return sets == other.sets; }
};

}  // namespace edict::ports

#endif  // EDICT_PORTS_NATIVE_POLICY_H_
