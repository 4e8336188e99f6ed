// dconf system database keyfiles, for desktop settings read through GSettings.
//
// Writes `<root>/etc/dconf/db/<db>.d/<priority>-edict` (values; in dconf a system database
// value is a default the user may override) and `<db>.d/locks/<priority>-edict` (one line per
// mandatory key: locked keys cannot be changed by the user), both by atomic rename; makes sure
// `<root>/etc/dconf/profile/<profile>` lists `system-db:<db>` (creating the profile as
// "user-db:user\nsystem-db:<db>\n" if absent, appending the line otherwise, never removing
// other lines); bumps the mtime of `<db>.d` and `<db>.d/locks` past the compiled database's
// (dconf update rebuilds only databases whose directory is newer); then runs the update
// command.
//
// Key mapping: an entry with dconf_path (a product setting) is written at that key, whole;
// otherwise "<a>.<b>.<c>" becomes key `c` in directory `<path_prefix>a/b/`, i.e. with the
// default prefix `[org/edict/a/b] c=...`. The key name (after the last dot) must be a valid
// GSettings key name (lower-case letters, digits, dashes; starts with a letter; no "--"; does
// not end with a dash).
//
// Values (GVariant text format): bool -> true/false; int64 -> a plain number when it fits in
// int32 (GVariant's default 'i'), else `int64 <n>`; string -> '...' with \\, \' and control
// characters escaped; list -> ['a', 'b'] or `@as []` when empty.

#ifndef EDICT_PORTS_LINUX_DCONF_STORE_H_
#define EDICT_PORTS_LINUX_DCONF_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ports/fault_injector.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"

namespace edict::ports {

struct DconfOptions {
  std::string root = "/";
  std::string db = "local";      // [A-Za-z0-9_-]+
  std::string priority = "50";   // digits; file name "<priority>-edict"
  std::string profile = "user";  // etc/dconf/profile/<profile>
  // dconf directory for the first key segment; must start and end with '/'.
  std::string path_prefix = "/org/edict/";
  // Only entries whose key starts with this prefix are written, with the prefix removed.
  // Empty: every entry.
  std::string key_prefix;
  // Program and leading arguments; the databases directory `<root>/etc/dconf/db` is appended.
  // Empty: do not run anything (tests check the keyfiles with `dconf compile` instead).
  std::vector<std::string> update_command = {"dconf", "update"};
  StateStore* state = nullptr;  // ownership record; required; not owned
  std::string record_name = "native_dconf";
  FaultInjector* faults = nullptr;  // not owned
};

// Owned keys are reported as full dconf paths ("/org/edict/communicator/ceip").
absl::StatusOr<std::unique_ptr<NativePolicyStore>> OpenDconfStore(DconfOptions options);

// `s` as a GVariant text-format string literal (single-quoted, escaped).
std::string GVariantQuote(absl::string_view s);
// `value` in GVariant text format as described above.
std::string GVariantText(const NativeValue& value);

}  // namespace edict::ports

#endif  // EDICT_PORTS_LINUX_DCONF_STORE_H_
