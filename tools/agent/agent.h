// edict-agent's machinery, separate from main() so tests can drive it in-process: wiring the
// platform's ports into a transport::Activation, spool processing, the daemon loop, and the
// read-only view used by status/query/explain. The platform parts live in agent_linux.cc and
// agent_windows.cc (tools/agent/platform.h).
#ifndef EDICT_TOOLS_AGENT_AGENT_H_
#define EDICT_TOOLS_AGENT_AGENT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kernel/publisher.h"
#include "ports/audit.h"
#include "ports/clock.h"
#include "ports/device_identity.h"
#include "ports/fault_injector.h"
#include "ports/instance_lock.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"
#include "tools/agent/catalogs.h"
#include "tools/agent/config.h"
#include "transport/activation.h"

namespace edict::transport::pull {
class PullSource;
}  // namespace edict::transport::pull

namespace edict::agent {

namespace platform {
class SpoolWatcher;
}  // namespace platform

// Exit statuses of edict-agent.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLocked = 3;  // another agent holds the instance lock

// True for the error Agent::Open returns when another agent holds the instance lock (the
// only start-up failure that exits kExitLocked).
bool IsLockHeld(const absl::Status& s);

// Test and debugging hooks (all optional, not owned).
struct AgentHooks {
  ports::FaultInjector* faults = nullptr;   // state store, audit file, native stores
  transport::StepHook step_hook;            // activation steps
  ports::Clock* clock = nullptr;            // default: the system clock
  ports::AuditSink* extra_audit = nullptr;  // receives every event too
};

// A StateStore over a state directory that only reads (status, query, explain, and any
// reader running beside the daemon): it never creates the directory nor removes the
// daemon's temporary files, which the platform's state store does on open. Writes fail with
// PermissionDenied.
std::unique_ptr<ports::StateStore> OpenReadOnlyStateStore(const std::string& root);

// The device identity the config describes (device_id override, else machine_id_file on
// Linux, MachineGuid on Windows).
absl::StatusOr<std::unique_ptr<ports::DeviceIdentity>> IdentityFromConfig(const AgentConfig& c);

// What one spool pass did.
struct SpoolReport {
  int activated = 0;               // bundles or trust documents made active
  int rejected = 0;                // moved to rejected/
  int deferred = 0;                // left in the spool: incomplete or still changing
  int retry = 0;                   // left in the spool: a transient failure (disk full, ...)
  std::vector<std::string> lines;  // one human-readable line per file handled
};

// State blob holding a pull source's saved status (SourceStatus JSON, transport/pull/source.h):
// "pull-" + the first 16 hex digits of SHA-256(index URL). Keyed by URL, so a configured
// source and `once --source` with the same URL share the record (ETag, digests).
std::string SourceStatusBlob(const std::string& url);

// True when this build has the pull client (transport/pull; not in the Windows build).
bool PullSupported();

class Agent {
 public:
  // Takes the instance lock (FailedPrecondition naming the holder if another agent runs),
  // opens the state store, audit sinks, identity and native stores. Does not Start().
  static absl::StatusOr<std::unique_ptr<Agent>> Open(const AgentConfig& config,
                                                     const AgentHooks& hooks = {});
  ~Agent();

  // Re-verifies the stored state and enforces it (transport::Activation::Start).
  absl::Status Start();

  // One pass over the spool. `settle` waits the settle window and processes only files
  // whose size and modification time did not change during it (`once`); the daemon passes
  // false and does its own settling.
  SpoolReport ProcessSpool(bool settle);

#ifdef _WIN32
  // The daemon: ReadDirectoryChangesW on the spool (polling if that fails). Returns OK when
  // `stop_event` (an event HANDLE; the service's stop control, tests) is signalled or on
  // Ctrl+C / Ctrl+Break / console close; `reload_event` (optional) re-reads the config.
  absl::Status Run(void* stop_event = nullptr, void* reload_event = nullptr);
#else
  // The daemon: inotify on the spool, SIGHUP reloads the config, SIGTERM/SIGINT return OK.
  // `stop_fd` (test hook, -1 for none): readable means stop.
  absl::Status Run(int stop_fd = -1);
#endif

  // Clears native stores and state (transport::Activation::Unenroll), and the pull sources'
  // saved status (so a later enrolment downloads everything again).
  absl::Status Unenroll();

  // Polls every configured pull source now, whatever its schedule, offers what it fetched
  // (trust document first, then the bundle) and saves its status. One line per source
  // ("source NAME (URL): CODE ..."); *all_ok is false if a poll or an offer failed.
  std::vector<std::string> PollSourcesNow(bool* all_ok);
  size_t source_count() const { return sources_.size(); }

  // Reads the catalogue directories again if they changed since the last look (`force`:
  // whatever their state) and, when the new set builds, re-activates the active policy
  // against it (transport::Activation::SetCatalogs). A directory or file that is refused, a
  // broken catalogue or a set the active policy cannot be activated against is reported
  // (audit CATALOG, stderr, catalog_errors()) and the previous set and policy stay. The
  // daemon calls it every catalog_poll_seconds. True if the set changed.
  bool CheckCatalogs(bool force = false);
  // The catalogues in use and the errors of the last load (empty when it succeeded).
  const std::vector<LoadedCatalog>& catalogs() const { return catalogs_; }
  const std::vector<std::string>& catalog_errors() const { return catalog_errors_; }
  // The `context.<product>.<name>` lines the catalogue set in use could not resolve (each
  // left unknown; ResolveProductContext), as last reported.
  const std::vector<std::string>& context_errors() const { return context_errors_; }

  transport::Activation& activation() { return *activation_; }
  const AgentConfig& config() const { return config_; }
  SnapshotPublisher& publisher() { return publisher_; }

 private:
  Agent() = default;
  absl::Status Wire(const AgentConfig& config);
  void Audit(ports::AuditKind kind, absl::string_view code, absl::string_view message);
  // Audits (kError, CATALOG) and prints on stderr each of catalog_errors_.
  void ReportCatalogErrors();
  // Audits (kError, CONTEXT) and prints on stderr each of context_errors_.
  void ReportContextErrors();
  // The daemon loop over the platform's events (Run sets up `watcher`).
  absl::Status RunLoop(platform::SpoolWatcher& watcher);
  // Re-reads the configuration file and rewires (SIGHUP / the reload event); an unusable one
  // is audited and the running one kept. False if the file could not be read or parsed
  // (nothing changed); *fatal is set when not even the running one could be rewired.
  bool Reload(absl::Status* fatal);

  enum class Fate { kGone, kDone, kDeferred, kRetry };
  // Handles one complete file, adding its outcome line to `report`.
  Fate HandleFile(const std::string& name, SpoolReport* report);
  // Trust documents first (exactly the next version each), then bundles newest first by
  // their claimed serial, so a burst costs one activation. `fates` (optional) receives
  // each file's fate.
  void ProcessNames(const std::vector<std::string>& names, SpoolReport* report,
                    std::map<std::string, Fate>* fates);
  void MoveAside(const std::string& name, bool accepted);
  // Keeps the newest `keep` files of spool subdirectory `sub` (processed, rejected).
  void Prune(const std::string& sub, int keep);
  // Creates the pull sources of config_.sources and restores their saved status
  // (InvalidArgument naming the source when one cannot be created).
  absl::Status WireSources();
  // After the active state is known: tells the sources what is active and starts their
  // schedules. A saved index that named a newer bundle than the active one (refused, or the
  // state was lost) is forgotten, so the documents are fetched again.
  void StartSources();
  // One poll + offers of sources_[i], status saved; returns the report line.
  std::string PollOne(size_t i, bool* ok);

  AgentConfig config_;
  AgentHooks hooks_;
  std::unique_ptr<ports::InstanceLock> lock_;
  std::unique_ptr<ports::Clock> own_clock_;
  ports::Clock* clock_ = nullptr;
  std::unique_ptr<ports::StateStore> state_;
  std::unique_ptr<ports::AuditSink> audit_;
  std::unique_ptr<ports::DeviceIdentity> identity_;
  std::vector<std::unique_ptr<ports::NativePolicyStore>> native_;
  SnapshotPublisher publisher_;
  std::unique_ptr<transport::Activation> activation_;
  // The catalogue set the activation uses (null until the first load) and what it holds.
  std::shared_ptr<const CatalogSet> catalog_set_;
  std::vector<LoadedCatalog> catalogs_;
  std::vector<std::string> catalog_errors_;
  std::vector<std::string> context_errors_;
  std::string catalog_fingerprint_;
  // Declared after activation_ and audit_: destroyed before them.
  std::vector<std::unique_ptr<transport::pull::PullSource>> sources_;
  uint64_t move_seq_ = 0;
  // "spool file NAME" while HandleFile runs: prefixed to every audit message (TeeAuditSink).
  std::string audit_context_;
  // Files a previous pass left for a retry: name -> earliest retry time (monotonic).
  std::map<std::string, absl::Duration> retry_after_;
};

// The read-only view: the verified active state as LoadActiveState returns it, plus what
// the audit file says about the last activation and the last error.
struct StatusView {
  std::unique_ptr<transport::ActiveState> state;
  std::string last_activation;  // the audit line (JSON), or ""
  std::string last_error;       // the audit line (JSON), or ""
  std::vector<std::string> spool_pending;
  // Pull sources: the configured ones (in config order) then any other saved record (from a
  // `once --source URL`), each as SourceStatus JSON; a configured source never polled has a
  // record with last_result "NEVER".
  std::vector<std::string> sources;
  // Product catalogues from the configured directories (loaded as the daemon does) and the
  // errors that load met (then the built-in set is used here; the daemon keeps its own).
  std::vector<LoadedCatalog> catalogs;
  std::vector<std::string> catalog_errors;
  // The `context.<product>.<name>` lines that set leaves unknown (as the daemon reports them).
  std::vector<std::string> context_errors;
};

absl::StatusOr<StatusView> LoadStatus(const AgentConfig& config);

// Status as text (several lines) or one JSON object.
std::string RenderStatusText(const AgentConfig& config, const StatusView& v);
std::string RenderStatusJson(const AgentConfig& config, const StatusView& v);

}  // namespace edict::agent

#endif  // EDICT_TOOLS_AGENT_AGENT_H_
