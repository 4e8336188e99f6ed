// edict-agent configuration: `key = value` lines (docs/agent.md lists every key).
#ifndef EDICT_TOOLS_AGENT_CONFIG_H_
#define EDICT_TOOLS_AGENT_CONFIG_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/activation.h"

namespace edict::agent {

// /etc/edict/agent.conf; on Windows %ProgramData%\edict\agent.conf.
std::string DefaultConfigPath();

struct JsonTarget {
  std::string name;
  std::string dir;     // relative to native_root; empty: etc/<name>/policies
  std::string prefix;  // key prefix selecting (and stripped from) entries; empty: all
  bool recommended = true;
};

// One pull source (docs/agent.md "Pull sources"; transport/pull/source.h).
struct PullSourceSpec {
  std::string name;     // from `source.NAME.*` (for a `once --source URL`: the URL)
  std::string url;      // the index URL, https:// (http:// only with allow_http)
  std::string ca_file;  // trust exactly these CAs instead of the system bundle
  std::vector<std::array<uint8_t, 32>> pins;  // SHA-256 of the server's SubjectPublicKeyInfo
  bool pins_only = false;                     // accept a chain no CA vouches for if pinned
  bool allow_http = false;
};

// A `context.<product>.<name> = value` line, kept as text: product attributes are declared
// by catalogues, which are loaded after the configuration and may change (or arrive) later,
// so each catalogue set the agent loads resolves these again (product_context.h).
struct ProductContextEntry {
  std::string key;    // "<product>.<name>", without "context."
  std::string value;  // as written (unquoted)
  int line = 0;       // in the configuration file, for messages
};

// The defaults below are Linux's; on Windows DefaultConfig() puts the files under
// %ProgramData%\edict, the lock is the mutex Global\edict-agent, and the registry store replaces
// managed JSON and dconf (docs/windows.md).
struct AgentConfig {
  std::string path;  // the file this was read from ("" for defaults)

  // Files and directories. On Windows lock_file is the instance mutex's name.
  std::string state_dir = "/var/lib/edict";
  std::string spool_dir = "/var/spool/edict";
  std::string lock_file = "/run/edict/agent.lock";
  std::string trust_pinned = "/etc/edict/trust.edt";

  // Audit.
  std::string audit_file = "/var/log/edict/audit.jsonl";
  size_t audit_max_bytes = size_t{1} << 20;
  int audit_keep_files = 5;
  bool audit_sync = false;
  bool audit_syslog = true;

  // Identity.
  std::string tenant;
  std::vector<std::string> groups;
  std::string device_id;  // overrides machine_id_file when set
  std::string machine_id_file = "/etc/machine-id";
  transport::DeviceContext device_context;           // built-in keys (context.plan, ...)
  std::vector<ProductContextEntry> product_context;  // context.<product>.<name>, in file order

  // Native stores.
  std::string native_root = "/";
  bool managed_json = true;
  std::vector<JsonTarget> managed_json_targets;  // default: edict -> etc/edict/policies
  std::string managed_json_file = "edict.json";
  bool dconf = true;
  std::string dconf_db = "local";
  std::string dconf_profile = "user";
  std::string dconf_priority = "50";
  std::string dconf_path_prefix = "/org/edict/";
  bool dconf_update = true;
  // Windows registry policy store: <registry_root>\<vendor>\<product>[\Recommended].
  bool registry = false;
  bool registry_local_machine = true;               // registry_root's hive: HKLM (true) or HKCU
  std::string registry_key = "SOFTWARE\\Policies";  // registry_root below the hive
  std::string registry_vendor = "edict";
  std::string registry_product = "edict";

  // Product catalogues (*.edcat) loaded at start and whenever these directories change, in
  // this order (docs/agent.md "Product catalogues"). Windows: %ProgramFiles%\edict\catalogs.
  std::vector<std::string> catalog_dirs = {"/usr/share/edict/catalogs", "/etc/edict/catalogs"};
  int catalog_poll_seconds = 5;  // how often `run` looks for changes

  // Limits and checks.
  size_t max_bundle_bytes = size_t{4} << 20;
  size_t max_trust_bytes = size_t{512} << 10;
  int64_t freeze_skew_seconds = 300;

  // Spool handling.
  int settle_ms = 500;
  int incomplete_grace_seconds = 60;
  int retry_seconds = 30;
  int processed_keep = 100;
  int rejected_keep = 100;
  size_t spool_max_files = 10000;

  // Pull delivery over HTTPS (issue 8).
  std::vector<PullSourceSpec> sources;
  int64_t poll_interval_seconds = 900;  // + U[0, poll_jitter_seconds)
  int64_t poll_jitter_seconds = 300;
  int64_t poll_splay_seconds = 60;  // first poll after U[0, splay) (fleet-wide restarts)
};

// The built-in configuration of this platform.
AgentConfig DefaultConfig();

// Parses a public key pin: 64 hex digits or "sha256/<base64>" (the HPKP form).
bool ParsePin(absl::string_view text, std::array<uint8_t, 32>* out);

// Caps on the configuration file (docs/agent.md "Configuration").
inline constexpr size_t kMaxConfigBytes = size_t{1} << 20;
inline constexpr size_t kMaxConfigLineBytes = 4096;

// Parses configuration text. Blank lines and lines starting with '#' are ignored; every
// other line is `key = value` (spaces around '=' and at the ends are trimmed). A value wholly
// wrapped in matching double or single quotes is the text between them; a quote anywhere
// else, an inline comment, an unquoted empty value, a control character, ill-formed UTF-8,
// a line over kMaxConfigLineBytes, an unknown key, a key set twice (except the repeatable
// managed_json_target and source.NAME.pin) and a malformed value are errors
// "label:line: reason" (InvalidArgument).
absl::StatusOr<AgentConfig> ParseConfig(absl::string_view text, absl::string_view label);

// Reads and parses `path`: a regular file (or a link to one) of at most kMaxConfigBytes,
// opened without blocking. A missing file is NotFound (the caller decides whether defaults are
// acceptable); one that cannot be opened or read is PermissionDenied; a directory, FIFO,
// device or oversized file, and every parse error, are InvalidArgument. Messages start with
// the path.
absl::StatusOr<AgentConfig> LoadConfig(const std::string& path);

}  // namespace edict::agent

#endif  // EDICT_TOOLS_AGENT_CONFIG_H_
