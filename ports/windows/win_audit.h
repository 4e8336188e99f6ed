// Windows audit sinks: the Event Log (ReportEventW with an event source) and a JSON-lines
// file with size-based rotation (the same format and rotation as the Linux file sink).

#ifndef EDICT_PORTS_WINDOWS_WIN_AUDIT_H_
#define EDICT_PORTS_WINDOWS_WIN_AUDIT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ports/audit.h"
#include "ports/fault_injector.h"

namespace edict::ports {

struct WindowsJsonLinesAuditOptions {
  // Empty: %ProgramData%\edict\audit.jsonl.
  std::string path;
  // Rotate before a line would make the file larger than this.
  size_t max_file_bytes = size_t{1} << 20;
  // Files kept in total: `path` and `path.1` .. `path.<keep_files - 1>`.
  int keep_files = 5;
  // FlushFileBuffers after every event.
  bool sync_each_event = false;
  FaultInjector* faults = nullptr;  // not owned
};

// Appends one FormatAuditJson line ("\n"-terminated, no CR) per event. Creates the parent
// directory and the file. Thread-safe; one process per file (the agent holds the lock).
absl::StatusOr<std::unique_ptr<AuditSink>> OpenWindowsJsonLinesAuditSink(
    const WindowsJsonLinesAuditOptions& options);

// Event types (EVENTLOG_*_TYPE values) and event ids used for each audit kind.
struct EventLogRecord {
  uint16_t type;      // EVENTLOG_INFORMATION_TYPE, EVENTLOG_WARNING_TYPE, EVENTLOG_ERROR_TYPE
  uint32_t event_id;  // 1000 + the AuditKind ordinal (start = 1000, ..., error = 1007)
  std::string text;   // "kind=<kind> code=<code> [serial=<n>] <message>", one line
};

// What Record sends for `event` (exposed for tests).
EventLogRecord ToEventLogRecord(const AuditEvent& event);

struct EventLogAuditOptions {
  // Event source name (under HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application).
  // RegisterEventSourceW works without the registration; the Event Viewer then shows the
  // text with a "description not found" preamble. Installing the source (and a message DLL)
  // is the installer's job.
  std::string source = "edict-agent";
  // Test hook: receives each record instead of ReportEventW when set.
  std::function<void(const EventLogRecord&)> emit;
};

// Reports each event with ReportEventW (one insertion string, the record text). Rejections
// are warnings; errors and state fallbacks are errors; the rest information. Thread-safe.
absl::StatusOr<std::unique_ptr<AuditSink>> OpenEventLogAuditSink(EventLogAuditOptions options);

}  // namespace edict::ports

#endif  // EDICT_PORTS_WINDOWS_WIN_AUDIT_H_
