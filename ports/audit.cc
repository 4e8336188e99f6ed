#include "ports/audit.h"

#include "absl/strings/str_cat.h"
#include "ports/text.h"

namespace edict::ports {

absl::string_view AuditKindName(AuditKind kind) {
  switch (kind) {
    case AuditKind::kStart:
      return "start";
    case AuditKind::kStop:
      return "stop";
    case AuditKind::kActivation:
      return "activation";
    case AuditKind::kRejection:
      return "rejection";
    case AuditKind::kMaterialisation:
      return "materialisation";
    case AuditKind::kStateFallback:
      return "state_fallback";
    case AuditKind::kUnenroll:
      return "unenroll";
    case AuditKind::kError:
      return "error";
  }
  return "error";
}

std::string FormatAuditJson(const AuditEvent& event) {
  std::string out = "{\"time\":\"";
  out += absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", event.time, absl::UTCTimeZone());
  absl::StrAppend(&out, "\",\"kind\":\"", AuditKindName(event.kind), "\",\"code\":\"");
  AppendJsonEscaped(&out, event.code);
  out += "\"";
  if (event.serial.has_value()) absl::StrAppend(&out, ",\"serial\":", *event.serial);
  out += ",\"message\":\"";
  if (event.message.size() > kMaxAuditMessageBytes) {
    // Cutting may split a UTF-8 sequence; the escaper turns the remnant into U+FFFD.
    AppendJsonEscaped(&out, absl::string_view(event.message).substr(0, kMaxAuditMessageBytes));
    out += "...";
  } else {
    AppendJsonEscaped(&out, event.message);
  }
  out += "\"}";
  return out;
}

absl::Status CompositeAuditSink::Record(const AuditEvent& event) {
  absl::Status first;
  for (const auto& sink : sinks_) {
    absl::Status s = sink->Record(event);
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

absl::Status MemoryAuditSink::Record(const AuditEvent& event) {
  absl::MutexLock lock(&mu_);
  events_.push_back(event);
  return absl::OkStatus();
}

std::vector<AuditEvent> MemoryAuditSink::Events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

}  // namespace edict::ports
