// The spool: which files it holds, and one pass over them (Agent::ProcessSpool, `once`, and
// the daemon's ready files): ordering, reading, offering each to the activation, and moving
// it aside (processed/, rejected/, pruned) or leaving it for a retry.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "flatbuffers/flatbuffers.h"
#include "policy/aligned.h"
#include "ports/text.h"
#include "tools/agent/agent.h"
#include "tools/agent/agent_internal.h"
#include "tools/agent/platform.h"
#include "transport/bundle_generated.h"
#include "transport/describe.h"
#include "transport/trust_generated.h"

namespace edict::agent {
namespace {

using internal::AsBytes;
using platform::FileStat;
using platform::JoinPath;
using platform::ReadCapped;
using platform::StatFile;

// "spool file NAME" with NAME escaped for one line (ports::EscapeForDisplay).
std::string SpoolFileLabel(const std::string& name) {
  return absl::StrCat("spool file ", ports::EscapeForDisplay(name));
}

// The serial a bundle claims / the version a trust document claims, unverified: an
// ordering hint only (0 if malformed).
uint64_t PeekSerial(const std::string& bytes) {
  return transport::PeekBundleSerial(AsBytes(bytes)).value_or(0);
}
uint64_t PeekTrustVersion(const std::string& bytes) {
  return transport::PeekTrustVersion(AsBytes(bytes)).value_or(0);
}

int64_t NowSeconds(ports::Clock* c) { return absl::ToUnixSeconds(c->Now()); }

// True if `bytes` parses as a complete document of `kind` (FlatBuffers verifiers only;
// nothing is authenticated). A truncated file fails this.
bool LooksComplete(const std::string& bytes, transport::DocumentKind kind) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!IsFlatBufferAligned(data)) return false;
  flatbuffers::Verifier v(data, bytes.size(), 4, 32);
  if (kind == transport::DocumentKind::kBundle) return transport::fb::VerifyBundleBuffer(v);
  if (kind == transport::DocumentKind::kTrust) {
    return transport::fb::VerifyTrustDocumentBuffer(v);
  }
  return false;
}

}  // namespace

namespace internal {

bool Ignored(const std::string& name) {
  return name.empty() || name[0] == '.' || absl::EndsWith(name, ".tmp") ||
         absl::EndsWith(name, ".part") || absl::EndsWith(name, ".partial") ||
         absl::EndsWith(name, "~") || name == "processed" || name == "rejected";
}

std::vector<std::string> ListSpool(const std::string& dir, size_t cap) {
  std::vector<std::string> out;
  for (std::string& name : platform::ListDir(dir)) {
    if (!Ignored(name)) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  if (out.size() > cap) out.resize(cap);
  return out;
}

}  // namespace internal

using internal::ListSpool;

void Agent::Prune(const std::string& sub, int keep) {
  // Through descriptors, never following a link (platform::PruneSubdir).
  if (absl::Status s = platform::PruneSubdir(config_.spool_dir, sub, keep); !s.ok()) {
    Audit(ports::AuditKind::kError, absl::IsPermissionDenied(s) ? "UNSAFE_DIR" : "SPOOL_IO",
          absl::StrCat("not pruned: ", s.message()));
  }
}

void Agent::MoveAside(const std::string& name, bool accepted) {
  const std::string sub = accepted ? "processed" : "rejected";
  const std::string target = absl::StrFormat("%020d-%06d-%s", absl::ToUnixNanos(clock_->Now()),
                                             ++move_seq_ % 1000000, name);
  if (absl::Status moved = platform::MoveToSubdir(config_.spool_dir, name, sub, target);
      !moved.ok()) {
    if (absl::IsPermissionDenied(moved) && absl::StartsWith(moved.message(), "refusing")) {
      // The spool or sub is a link or writable by others: nothing is moved there, and the file
      // stays (removing it would lose it).
      Audit(ports::AuditKind::kError, "UNSAFE_DIR",
            absl::StrCat(SpoolFileLabel(name), " left in the spool: ", moved.message()));
      return;
    }
    // Could not move: remove it so it is not reprocessed for ever (its fate is audited).
    if (!platform::RemoveEntry(config_.spool_dir, name).ok()) {
      Audit(ports::AuditKind::kError, "SPOOL_IO",
            absl::StrCat("cannot move or remove ", SpoolFileLabel(name), ": ", moved.message()));
    }
    return;
  }
  Prune(sub, accepted ? config_.processed_keep : config_.rejected_keep);
}

Agent::Fate Agent::HandleFile(const std::string& name, SpoolReport* report) {
  const std::string path = JoinPath(config_.spool_dir, name);
  // One line per file, escaped: a name or value with a newline or NUL cannot forge or cut it.
  auto line = [&](auto&&... parts) {
    report->lines.push_back(ports::EscapeForDisplay(absl::StrCat(name, ": ", parts...)));
  };
  // Every audit event while this file is handled names it (the activation's own too).
  struct Context {
    std::string* slot;
    ~Context() { slot->clear(); }
  } context{&audit_context_};
  audit_context_ = SpoolFileLabel(name);
  FileStat st;
  if (!StatFile(path, &st)) return Fate::kGone;
  const size_t cap = std::max(config_.max_bundle_bytes, config_.max_trust_bytes);
  // Never blocks (a FIFO is not opened for reading, a link not followed); capped by fstat
  // before anything is read.
  auto bytes = ReadCapped(path, cap);
  if (!bytes.ok() && absl::IsNotFound(bytes.status())) return Fate::kGone;
  if (!bytes.ok() && absl::IsFailedPrecondition(bytes.status())) {
    // Not a regular file (FIFO, device, socket, directory, symbolic link): refused and left
    // where it is; it is not read, moved or followed.
    Audit(ports::AuditKind::kRejection, "NOT_A_REGULAR_FILE",
          absl::StrCat(SpoolFileLabel(name), ": ", bytes.status().message(),
                       "; refused and left in the spool"));
    ++report->rejected;
    line("refused (", bytes.status().message(), "); left in the spool");
    return Fate::kDone;
  }
  if (!bytes.ok() && absl::IsResourceExhausted(bytes.status())) {
    Audit(ports::AuditKind::kRejection, "ERR_TOO_LARGE",
          absl::StrCat(SpoolFileLabel(name), ": ", bytes.status().message()));
    retry_after_.erase(name);
    MoveAside(name, false);
    ++report->rejected;
    line("rejected: ERR_TOO_LARGE (", bytes.status().message(), ")");
    return Fate::kDone;
  }
  if (!bytes.ok()) {
    ++report->retry;
    retry_after_[name] = clock_->Monotonic() + absl::Seconds(config_.retry_seconds);
    line("cannot read (", bytes.status().message(), "); will retry");
    return Fate::kRetry;
  }
  const transport::Bytes span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  const transport::DocumentKind kind = transport::DetectDocument(span);
  const char* what = kind == transport::DocumentKind::kTrust ? "trust document" : "bundle";
  const int64_t age_s = NowSeconds(clock_) - st.mtime_ns / 1000000000;
  // A file that does not even parse and is still young may be half-written: leave it
  // without offering it (nothing is audited); it is looked at again when it changes, and
  // offered (and rejected, audited) once it is older than the grace period.
  if (age_s < config_.incomplete_grace_seconds && !LooksComplete(*bytes, kind)) {
    ++report->deferred;
    line("incomplete (does not parse yet), left for up to ", config_.incomplete_grace_seconds,
         " s");
    return Fate::kDeferred;
  }
  transport::OfferResult r;
  if (kind == transport::DocumentKind::kTrust) {
    r = activation_->OfferTrust(span);
  } else if (kind == transport::DocumentKind::kBundle) {
    r = activation_->Offer(span);
  } else {
    r.code = "NOT_A_DOCUMENT";
    r.status = absl::InvalidArgumentError("neither a bundle (EDB1) nor a trust document (EDT1)");
    Audit(ports::AuditKind::kRejection, r.code,
          absl::StrCat(SpoolFileLabel(name), ": ", r.status.message()));
  }
  if (r.retryable) {
    ++report->retry;
    retry_after_[name] = clock_->Monotonic() + absl::Seconds(config_.retry_seconds);
    line(what, " not applied yet (", r.code, ": ", r.status.message(), "); will retry");
    return Fate::kRetry;
  }
  retry_after_.erase(name);
  const bool ok = r.activated || r.committed;
  MoveAside(name, ok);
  if (ok) {
    ++report->activated;
    const absl::Status enforced = activation_->native_error();
    if (enforced.ok()) {
      line(what, " ", r.serial, " activated");
    } else {
      line(what, " ", r.serial, " activated but not enforced (", enforced.message(),
           "); will retry");
    }
  } else {
    ++report->rejected;
    line(what, " rejected: ", r.code, " (", r.status.message(), ")");
  }
  return Fate::kDone;
}

void Agent::ProcessNames(const std::vector<std::string>& names, SpoolReport* report,
                         std::map<std::string, Fate>* fates) {
  if (names.empty()) return;
  // A directory swapped for a link (or opened to others) since the start: nothing is read,
  // moved or pruned; every file waits for a retry, the active policy stays.
  if (absl::Status s = platform::CheckAgentDirs(config_); !s.ok()) {
    Audit(ports::AuditKind::kError, "UNSAFE_DIR",
          absl::StrCat(s.message(), "; spool not processed, the active policy stays"));
    report->lines.push_back(ports::EscapeForDisplay(
        absl::StrCat("spool not processed: ", s.message(), "; will retry")));
    for (const std::string& n : names) {
      ++report->retry;
      retry_after_[n] = clock_->Monotonic() + absl::Seconds(config_.retry_seconds);
      if (fates) (*fates)[n] = Fate::kRetry;
    }
    return;
  }
  struct Item {
    std::string name;
    bool trust = false;
    uint64_t serial = 0;
  };
  std::vector<Item> items;
  for (const std::string& n : names) {
    Item item{n};
    auto head = ReadCapped(JoinPath(config_.spool_dir, n), config_.max_bundle_bytes);
    if (head.ok()) {
      const transport::Bytes span(reinterpret_cast<const uint8_t*>(head->data()), head->size());
      item.trust = transport::DetectDocument(span) == transport::DocumentKind::kTrust;
      item.serial = item.trust ? PeekTrustVersion(*head) : PeekSerial(*head);
    }
    items.push_back(std::move(item));
  }
  auto record = [&](const std::string& n, Fate f) {
    if (fates) (*fates)[n] = f;
  };
  // Trust documents in version order (a rotation chain may be dropped in any order).
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.trust != b.trust) return a.trust;
    return a.trust ? a.serial < b.serial : a.serial > b.serial;
  });
  for (const Item& i : items) {
    if (i.trust) record(i.name, HandleFile(i.name, report));
  }
  for (const Item& i : items) {
    if (i.trust) continue;
    record(i.name, HandleFile(i.name, report));
  }
}

SpoolReport Agent::ProcessSpool(bool settle) {
  SpoolReport report;
  std::vector<std::string> names = ListSpool(config_.spool_dir, config_.spool_max_files);
  if (names.empty()) return report;
  std::map<std::string, FileStat> before;
  for (const auto& n : names) StatFile(JoinPath(config_.spool_dir, n), &before[n]);
  if (settle && config_.settle_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(config_.settle_ms));
  }
  const absl::Duration mono = clock_->Monotonic();
  std::vector<std::string> ready;
  for (const auto& n : names) {
    FileStat now;
    if (!StatFile(JoinPath(config_.spool_dir, n), &now)) continue;
    if (settle && !(now == before[n])) {
      ++report.deferred;
      report.lines.push_back(
          ports::EscapeForDisplay(absl::StrCat(n, ": still changing, left for the next pass")));
      continue;
    }
    auto it = retry_after_.find(n);
    if (it != retry_after_.end() && mono < it->second) {
      ++report.retry;
      continue;
    }
    ready.push_back(n);
  }
  ProcessNames(ready, &report, nullptr);
  return report;
}

}  // namespace edict::agent
