// Audit: what the agent did and why, as structured events, to the system log and a JSON-lines
// file. Event kinds and error codes are stable strings so logs can be searched across versions.

#ifndef EDICT_PORTS_AUDIT_H_
#define EDICT_PORTS_AUDIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace edict::ports {

// Append-only list; the names (AuditKindName) are stable.
enum class AuditKind {
  kStart,            // agent started
  kStop,             // agent stopping
  kActivation,       // a bundle became active
  kRejection,        // a bundle or trust document was refused (code says why)
  kMaterialisation,  // native stores written (or failed)
  kStateFallback,    // stored state failed verification; previous generation or defaults used
  kUnenroll,         // native stores cleared, state removed
  kError,            // any other failure worth an operator's attention
};

// "start", "stop", "activation", "rejection", "materialisation", "state_fallback",
// "unenroll", "error".
absl::string_view AuditKindName(AuditKind kind);

struct AuditEvent {
  absl::Time time;
  AuditKind kind = AuditKind::kError;
  std::string code;                // stable error code ("OK", "SIGNATURE_THRESHOLD", ...)
  std::string message;             // one human-readable sentence
  std::optional<uint64_t> serial;  // bundle serial, when one is concerned
};

// Renders one event as a single JSON object without a trailing newline:
// {"time":"2024-05-01T12:00:00.25Z","kind":"activation","code":"OK","serial":7,"message":"..."}
// `serial` is omitted when unknown. Strings are escaped; invalid UTF-8 is replaced by U+FFFD,
// control characters are \u-escaped, so a line is always valid JSON on one line. Messages
// longer than kMaxAuditMessageBytes are cut and marked with "...".
std::string FormatAuditJson(const AuditEvent& event);
inline constexpr size_t kMaxAuditMessageBytes = 4096;

// Thread-safe.
class AuditSink {
 public:
  virtual ~AuditSink() = default;

  // Records one event. An error means this sink lost the event (callers may report it
  // through another sink; they must not stop working because of it).
  virtual absl::Status Record(const AuditEvent& event) = 0;
};

// Forwards each event to every sink, in order, even when an earlier one fails; returns the
// first error. Thread-safe if the sinks are.
class CompositeAuditSink : public AuditSink {
 public:
  explicit CompositeAuditSink(std::vector<std::unique_ptr<AuditSink>> sinks)
      : sinks_(std::move(sinks)) {}

  absl::Status Record(const AuditEvent& event) override;

 private:
  std::vector<std::unique_ptr<AuditSink>> sinks_;
};

// Keeps events in memory (tests, `edict-agent status` last error). Thread-safe.
class MemoryAuditSink : public AuditSink {
 public:
  absl::Status Record(const AuditEvent& event) override;
  std::vector<AuditEvent> Events() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<AuditEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edict::ports

#endif  // EDICT_PORTS_AUDIT_H_
