// Linux audit sinks: a JSON-lines file with size-based rotation, and syslog(3) (which the
// systemd journal collects).

#ifndef EDICT_PORTS_LINUX_LINUX_AUDIT_H_
#define EDICT_PORTS_LINUX_LINUX_AUDIT_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ports/audit.h"
#include "ports/fault_injector.h"

namespace edict::ports {

struct JsonLinesAuditOptions {
  std::string path = "/var/log/edict/audit.jsonl";
  // Rotate before a line would make the file larger than this (a line longer than the limit
  // goes alone into a fresh file).
  size_t max_file_bytes = size_t{1} << 20;
  // Files kept in total: `path` and `path.1` (newest rotated) .. `path.<keep_files - 1>`.
  int keep_files = 5;
  // fdatasync after every event (survives power loss, costs a disk flush per event).
  bool sync_each_event = false;
  FaultInjector* faults = nullptr;  // not owned
};

// Appends one FormatAuditJson line per event. Creates the parent directory (0750) and the file
// (0640). Thread-safe; one process per file (the agent holds the InstanceLock).
absl::StatusOr<std::unique_ptr<AuditSink>> OpenJsonLinesAuditSink(
    const JsonLinesAuditOptions& options);

struct SyslogAuditOptions {
  std::string ident = "edict-agent";
  int facility = -1;  // -1: LOG_DAEMON
  // Test hook: receives (priority, line) instead of syslog(3) when set.
  std::function<void(int priority, const std::string& line)> emit;
};

// Sends "kind=<kind> code=<code> [serial=<n>] <message>" to syslog with a priority by kind:
// rejection -> LOG_WARNING; error, state_fallback -> LOG_ERR; others -> LOG_INFO.
// syslog(3) state is process-wide: create one such sink per process. Thread-safe.
absl::StatusOr<std::unique_ptr<AuditSink>> OpenSyslogAuditSink(SyslogAuditOptions options);

}  // namespace edict::ports

#endif  // EDICT_PORTS_LINUX_LINUX_AUDIT_H_
