#include "tools/agent/agent.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "flatbuffers/flatbuffers.h"
#include "policy/aligned.h"
#include "policy/compiler/json.h"
#include "ports/text.h"
#include "tools/agent/agent_internal.h"
#include "tools/agent/platform.h"
#include "transport/bundle_generated.h"
#include "transport/describe.h"
#include "transport/errors.h"
#include "transport/keys.h"
#include "transport/trust_generated.h"
#ifdef EDICT_AGENT_PULL
#include "transport/pull/errors.h"
#include "transport/pull/source.h"
#else
namespace edict::transport::pull {
class PullSource {};  // not built: the agent has no pull sources
}  // namespace edict::transport::pull
#endif

namespace edict::agent {
namespace {

using platform::FileStat;
using platform::JoinPath;
using platform::ReadCapped;
using platform::StatFile;

// ---- Read-only state store ------------------------------------------------------------------

class ReadOnlyStateStore : public ports::StateStore {
 public:
  explicit ReadOnlyStateStore(std::string root) : root_(std::move(root)) {}

  absl::Status Write(absl::string_view name, absl::string_view) override {
    return absl::PermissionDeniedError(
        absl::StrCat("read-only view of ", root_, ": cannot write ", name));
  }
  absl::StatusOr<std::string> Read(absl::string_view name) override {
    if (absl::Status s = ports::ValidateStateBlobName(name); !s.ok()) return s;
    return ReadGeneration(name, "");
  }
  absl::StatusOr<ports::StateRead> ReadWithFallback(absl::string_view name) override {
    if (absl::Status s = ports::ValidateStateBlobName(name); !s.ok()) return s;
    ports::StateRead out;
    absl::StatusOr<std::string> current = ReadGeneration(name, "");
    if (current.ok()) {
      out.bytes = *std::move(current);
      return out;
    }
    if (!absl::IsNotFound(current.status()) && !absl::IsDataLoss(current.status())) {
      return current.status();
    }
    absl::StatusOr<std::string> prev = ReadGeneration(name, ".prev");
    if (!prev.ok()) {
      if (absl::IsNotFound(prev.status())) return current.status();
      if (absl::IsNotFound(current.status())) return prev.status();
      return absl::DataLossError(absl::StrCat("both generations of state blob \"", name,
                                              "\" are unusable: ", current.status().message(), "; ",
                                              prev.status().message()));
    }
    out.bytes = *std::move(prev);
    out.generation = ports::StateGeneration::kPrevious;
    out.current_error = current.status();
    return out;
  }
  absl::Status Remove(absl::string_view name) override { return Write(name, ""); }
  std::string Location() const override { return root_; }

 private:
  absl::StatusOr<std::string> ReadGeneration(absl::string_view name, absl::string_view suffix) {
    const std::string path = JoinPath(root_, absl::StrCat(name, suffix));
    auto image = ReadCapped(path, (size_t{64} << 20) + ports::kStateBlobHeaderSize);
    if (!image.ok()) {
      if (absl::IsNotFound(image.status())) {
        return absl::NotFoundError(absl::StrCat("no state file ", path));
      }
      return image.status();
    }
    auto content = ports::DecodeStateBlob(name, *image);
    if (!content.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": ", content.status().message()));
    }
    return content;
  }
  std::string root_;
};

// Forwards to two sinks. While `*context` is not empty (the spool file being handled), each
// event's message starts with it, so the activation's own rejections name the file.
class TeeAuditSink : public ports::AuditSink {
 public:
  TeeAuditSink(std::unique_ptr<ports::AuditSink> a, ports::AuditSink* b, const std::string* context)
      : a_(std::move(a)), b_(b), context_(context) {}
  absl::Status Record(const ports::AuditEvent& event) override {
    const ports::AuditEvent* e = &event;
    ports::AuditEvent prefixed;
    if (context_ && !context_->empty() && !absl::StartsWith(event.message, *context_)) {
      prefixed = event;
      prefixed.message = absl::StrCat(*context_, ": ", event.message);
      e = &prefixed;
    }
    absl::Status s = a_->Record(*e);
    if (b_) (void)b_->Record(*e);
    return s;
  }

 private:
  std::unique_ptr<ports::AuditSink> a_;
  ports::AuditSink* b_;
  const std::string* context_;
};

// "spool file NAME" with NAME escaped for one line (ports::EscapeForDisplay).
std::string SpoolFileLabel(const std::string& name) {
  return absl::StrCat("spool file ", ports::EscapeForDisplay(name));
}

// Names the spool never processes: hidden files and the usual temporary suffixes, so a
// writer can use "write to .name or name.tmp, then rename".
bool Ignored(const std::string& name) {
  return name.empty() || name[0] == '.' || absl::EndsWith(name, ".tmp") ||
         absl::EndsWith(name, ".part") || absl::EndsWith(name, ".partial") ||
         absl::EndsWith(name, "~") || name == "processed" || name == "rejected";
}

// The serial a bundle claims / the version a trust document claims, unverified: an
// ordering hint only (0 if malformed).
transport::Bytes AsBytes(const std::string& s) {
  return transport::Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
uint64_t PeekSerial(const std::string& bytes) {
  return transport::PeekBundleSerial(AsBytes(bytes)).value_or(0);
}
uint64_t PeekTrustVersion(const std::string& bytes) {
  return transport::PeekTrustVersion(AsBytes(bytes)).value_or(0);
}

// What triggers a configuration reload, for the audit messages.
#ifdef _WIN32
constexpr char kReloadWhat[] = "reload";
#else
constexpr char kReloadWhat[] = "SIGHUP";
#endif

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

std::vector<std::string> ListSpool(const std::string& dir, size_t cap) {
  std::vector<std::string> out;
  for (std::string& name : platform::ListDir(dir)) {
    if (!Ignored(name)) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  if (out.size() > cap) out.resize(cap);
  return out;
}

std::vector<std::string> ListSourceBlobs(const std::string& state_dir) {
  std::vector<std::string> out;
  for (const std::string& name : platform::ListDir(state_dir)) {
    if (name.size() != 21 || name.rfind("pull-", 0) != 0) continue;
    bool hex = true;
    for (size_t i = 5; i < name.size(); ++i) {
      hex = hex && absl::ascii_isxdigit(static_cast<unsigned char>(name[i]));
    }
    if (hex) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string PinnedTrustProblem(const AgentConfig& config, const absl::Status& read) {
  return absl::StrCat("the pinned trust document ", config.trust_pinned,
                      absl::IsNotFound(read)
                          ? " is missing"
                          : absl::StrCat(" cannot be read (", read.message(), ")"),
                      " (trust_pinned): every bundle and trust document is refused until it is "
                      "installed again");
}

}  // namespace internal

using internal::ListSourceBlobs;
using internal::ListSpool;
using internal::PinnedTrustProblem;

std::string SourceStatusBlob(const std::string& url) {
  const transport::Digest d = transport::Sha256::Hash(AsBytes(url));
  return absl::StrCat("pull-", transport::Hex(transport::Bytes(d.data(), 8)));
}

bool PullSupported() {
#ifdef EDICT_AGENT_PULL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<ports::StateStore> OpenReadOnlyStateStore(const std::string& root) {
  return std::make_unique<ReadOnlyStateStore>(root);
}

absl::StatusOr<std::unique_ptr<ports::DeviceIdentity>> IdentityFromConfig(const AgentConfig& c) {
  ports::DeviceIdentityConfig ic{c.tenant, c.groups};
  std::sort(ic.groups.begin(), ic.groups.end());
  if (!c.device_id.empty()) return ports::DeviceIdentity::Create(c.device_id, std::move(ic));
  return platform::ReadMachineIdentity(c, std::move(ic));
}

// ---- Agent ----------------------------------------------------------------------------------

Agent::~Agent() {
  sources_.clear();     // they point to the audit sink
  activation_.reset();  // before the stores it points to
}

namespace {
constexpr char kLockHeldPayload[] = "edict.agent/lock-held";
}  // namespace

bool IsLockHeld(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) && s.GetPayload(kLockHeldPayload).has_value();
}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Open(const AgentConfig& config,
                                                   const AgentHooks& hooks) {
  std::unique_ptr<Agent> a(new Agent());
  a->hooks_ = hooks;
  auto lock = platform::AcquireLock(config);
  if (!lock.ok()) {
    absl::Status s = lock.status();
    // The lock ports report a held lock (only that) as FailedPrecondition.
    if (absl::IsFailedPrecondition(s)) s.SetPayload(kLockHeldPayload, absl::Cord("1"));
    return s;
  }
  a->lock_ = *std::move(lock);
  if (hooks.clock) {
    a->clock_ = hooks.clock;
  } else {
    a->own_clock_ = ports::NewSystemClock();
    a->clock_ = a->own_clock_.get();
  }
  if (absl::Status s = a->Wire(config); !s.ok()) return s;
  return a;
}

absl::Status Agent::Wire(const AgentConfig& config) {
  sources_.clear();
  activation_.reset();
  native_.clear();
  config_ = config;

  // No directory the agent writes or prunes may be a link or writable by others.
  if (absl::Status s = platform::CheckAgentDirs(config); !s.ok()) return s;
  auto state = platform::OpenStateStore(config, hooks_.faults);
  if (!state.ok()) return state.status();
  state_ = *std::move(state);

  auto sinks = platform::OpenAuditSinks(config, hooks_.faults);
  if (!sinks.ok()) return sinks.status();
  audit_ =
      std::make_unique<TeeAuditSink>(std::make_unique<ports::CompositeAuditSink>(*std::move(sinks)),
                                     hooks_.extra_audit, &audit_context_);

  auto identity = IdentityFromConfig(config);
  if (!identity.ok()) return identity.status();
  identity_ = *std::move(identity);

  // Product catalogues: loaded once here (start, configuration reload); a load that fails
  // keeps the set already in use (the built-in one at start).
  catalog_fingerprint_ = CatalogFingerprint(config.catalog_dirs);
  {
    CatalogLoad load = LoadCatalogs(config.catalog_dirs);
    catalog_errors_ = load.errors;
    if (load.set) {
      catalog_set_ = std::move(load.set);
      catalogs_ = std::move(load.catalogs);
    } else {
      ReportCatalogErrors();
    }
  }

  transport::ActivationOptions o;
  o.catalogs = catalog_set_;
  if (absl::Status s =
          platform::OpenNativeStores(config, state_.get(), hooks_.faults, &native_, &o.native);
      !s.ok()) {
    return s;
  }

  o.state = state_.get();
  o.audit = audit_.get();
  o.clock = clock_;
  o.identity = identity_.get();
  o.publisher = &publisher_;
  o.device_context = config.device_context;
  o.verify.max_clock_skew_seconds = config.freeze_skew_seconds;
  o.limits.max_bundle_bytes = config.max_bundle_bytes;
  o.limits.max_trust_bytes = config.max_trust_bytes;
  o.step_hook = hooks_.step_hook;
  auto pinned = ReadCapped(config.trust_pinned, config.max_trust_bytes);
  if (pinned.ok()) {
    o.pinned_trust.assign(pinned->begin(), pinned->end());
  } else {
    // Every offer is refused (NO_TRUST) until it is back; the stored state stays verified
    // against the copy stored at enrolment (Activation::Start audits it).
    o.pinned_trust_unavailable = PinnedTrustProblem(config, pinned.status());
    if (!absl::IsNotFound(pinned.status())) {
      Audit(ports::AuditKind::kError, "TRUST_UNREADABLE",
            absl::StrCat("cannot read the pinned trust document: ", pinned.status().message()));
    }
  }
  auto activation = transport::Activation::Create(std::move(o));
  if (!activation.ok()) return activation.status();
  activation_ = *std::move(activation);
  return WireSources();
}

// ---- Pull sources ---------------------------------------------------------------------------

#ifdef EDICT_AGENT_PULL
absl::Status Agent::WireSources() {
  namespace pull = transport::pull;
  for (const PullSourceSpec& spec : config_.sources) {
    pull::SourceConfig sc;
    sc.name = spec.name;
    sc.index_url = spec.url;
    sc.fetch.tls.ca_file = spec.ca_file;
    for (const auto& pin : spec.pins) sc.fetch.tls.spki_pins.push_back(pin);
    sc.fetch.tls.pins_only = spec.pins_only;
    sc.fetch.allow_http = spec.allow_http;
    sc.max_bundle_bytes = std::min(sc.max_bundle_bytes, config_.max_bundle_bytes);
    sc.max_trust_bytes = std::min(sc.max_trust_bytes, config_.max_trust_bytes);
    sc.schedule.interval = absl::Seconds(config_.poll_interval_seconds);
    sc.schedule.jitter = absl::Seconds(config_.poll_jitter_seconds);
    sc.schedule.initial_splay = absl::Seconds(config_.poll_splay_seconds);
    sc.audit = audit_.get();
    auto source = pull::PullSource::Create(sc);
    if (!source.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("source ", spec.name, " (", spec.url, "): ", source.status().message()));
    }
    auto saved = state_->Read(SourceStatusBlob(spec.url));
    if (saved.ok()) {
      auto record = pull::SourceStatus::FromJson(*saved);
      if (record.ok()) (*source)->Restore(*record);
    }
    sources_.push_back(*std::move(source));
  }
  return absl::OkStatus();
}

void Agent::StartSources() {
  const transport::ActiveStateInfo info = activation_->Info();
  const absl::Duration mono = clock_->Monotonic();
  for (auto& s : sources_) {
    if (s->status().index_serial > info.serial) s->Forget();
    s->NoteActive(info.serial, info.trust_version);
    s->StartAt(mono);
  }
}

std::string Agent::PollOne(size_t i, bool* ok) {
  namespace pull = transport::pull;
  pull::PullSource& s = *sources_[i];
  pull::ActivationOfferSink sink(activation_.get());
  std::optional<transport::OfferResult> trust, bundle;
  const pull::PollResult r =
      s.PollAndOffer(clock_->Now(), clock_->Monotonic(), sink, &trust, &bundle);
  const pull::SourceStatus st = s.status();
  if (absl::Status w = state_->Write(SourceStatusBlob(s.config().index_url), st.ToJson());
      !w.ok()) {
    Audit(ports::AuditKind::kError, "STATE_IO",
          absl::StrCat("pull source ", st.name, ": status not saved: ", w.message()));
  }
  const std::string& url = s.config().index_url;
  std::string line = st.name == url ? absl::StrCat("source ", url, ": ", r.code)
                                    : absl::StrCat("source ", st.name, " (", url, "): ", r.code);
  if (!r.status.ok()) absl::StrAppend(&line, " ", r.status.message());
  absl::StrAppend(&line, "; HTTP ", r.http_status, ", ", r.requests, " request(s), ",
                  r.bytes_received, " bytes received");
  *ok = r.status.ok();
  auto offer = [&](const char* what, const std::optional<transport::OfferResult>& o) {
    if (!o) return;
    absl::StrAppend(&line, "; ", what, " ", o->serial, ": ", o->activated ? "activated" : o->code);
    if (!o->activated) {
      absl::StrAppend(&line, " (", o->status.message(), ")");
      *ok = false;
    }
  };
  offer("trust version", trust);
  offer("bundle serial", bundle);
  return ports::EscapeForDisplay(line);
}
#else
absl::Status Agent::WireSources() {
  if (!config_.sources.empty()) {
    return absl::InvalidArgumentError("pull sources are not supported in this build");
  }
  return absl::OkStatus();
}
void Agent::StartSources() {}
std::string Agent::PollOne(size_t, bool* ok) {
  *ok = false;
  return "";
}
#endif

std::vector<std::string> Agent::PollSourcesNow(bool* all_ok) {
  std::vector<std::string> lines;
  *all_ok = true;
  for (size_t i = 0; i < sources_.size(); ++i) {
    bool ok = false;
    lines.push_back(PollOne(i, &ok));
    *all_ok = *all_ok && ok;
  }
  return lines;
}

void Agent::Audit(ports::AuditKind kind, absl::string_view code, absl::string_view message) {
  if (!audit_) return;
  ports::AuditEvent e;
  e.time = clock_->Now();
  e.kind = kind;
  e.code = std::string(code);
  e.message = std::string(message);
  (void)audit_->Record(e);
}

absl::Status Agent::Start() {
  absl::Status s = activation_->Start();
  StartSources();
  return s;
}

absl::Status Agent::Unenroll() {
  absl::Status s = activation_->Unenroll();
  for (const std::string& blob : ListSourceBlobs(config_.state_dir)) {
    absl::Status r = state_->Remove(blob);
    if (s.ok() && !r.ok()) s = r;
  }
#ifdef EDICT_AGENT_PULL
  for (auto& src : sources_) src->Forget();
#endif
  return s;
}

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

// ---- Daemon ---------------------------------------------------------------------------------

bool Agent::Reload(absl::Status* fatal) {
  auto reloaded =
      config_.path.empty() ? absl::StatusOr<AgentConfig>(config_) : LoadConfig(config_.path);
  if (!reloaded.ok()) {
    Audit(ports::AuditKind::kError, "CONFIG",
          absl::StrCat(kReloadWhat, ": config not reloaded, keeping the running one: ",
                       reloaded.status().message()));
    return false;
  }
  if (reloaded->lock_file != config_.lock_file) {
    Audit(ports::AuditKind::kError, "CONFIG",
          absl::StrCat(kReloadWhat, ": lock_file changes take effect at the next start"));
    reloaded->lock_file = config_.lock_file;
  }
  const AgentConfig old = config_;
  if (absl::Status s = Wire(*reloaded); !s.ok()) {
    Audit(ports::AuditKind::kError, "CONFIG",
          absl::StrCat(kReloadWhat, ": new config unusable (", s.message(),
                       "); keeping the running one"));
    if (absl::Status back = Wire(old); !back.ok()) {
      *fatal = back;
      return true;
    }
  }
  (void)Start();
  return true;
}

void Agent::ReportCatalogErrors() {
  for (const std::string& e : catalog_errors_) {
    const std::string msg = absl::StrCat(e, "; the catalogue set in use stays (", catalogs_.size(),
                                         " product catalogue(s))");
    Audit(ports::AuditKind::kError, "CATALOG", msg);
    std::fprintf(stderr, "edict-agent: %s\n", ports::EscapeForDisplay(msg).c_str());
  }
}

bool Agent::CheckCatalogs(bool force) {
  std::string fingerprint = CatalogFingerprint(config_.catalog_dirs);
  if (!force && fingerprint == catalog_fingerprint_) return false;
  catalog_fingerprint_ = std::move(fingerprint);
  CatalogLoad load = LoadCatalogs(config_.catalog_dirs);
  catalog_errors_ = load.errors;
  if (!load.set) {
    ReportCatalogErrors();
    return false;
  }
  if (absl::Status s = activation_->SetCatalogs(load.set); !s.ok()) {
    catalog_errors_.push_back(std::string(s.message()));  // audited by the activation
    std::fprintf(stderr, "edict-agent: %s\n", ports::EscapeForDisplay(s.message()).c_str());
    return false;
  }
  catalog_set_ = std::move(load.set);
  catalogs_ = std::move(load.catalogs);
  return true;
}

absl::Status Agent::RunLoop(platform::SpoolWatcher& watcher) {
  if (absl::Status s = platform::MakeSpoolDir(config_.spool_dir); !s.ok()) return s;
  if (absl::Status s = watcher.Watch(config_.spool_dir); !s.ok()) return s;

  // Per-file readiness: a file is processed once it was closed after writing (or moved in,
  // or was there when we started) and its size and mtime stayed the same for the settle
  // window; files never closed become eligible after incomplete_grace_seconds unchanged.
  // Where the platform tells whether a file still has a writer (Windows share modes), a file
  // unchanged for the settle window without a writer counts as closed.
  struct Pending {
    FileStat stat;
    absl::Duration since;  // monotonic time the stat was first seen
    bool closed = false;
  };
  std::map<std::string, Pending> pending;
  auto note = [&](const std::string& name, bool closed) {
    if (Ignored(name)) return;
    FileStat st;
    if (!StatFile(JoinPath(config_.spool_dir, name), &st)) {
      pending.erase(name);
      return;
    }
    auto it = pending.find(name);
    const absl::Duration now = clock_->Monotonic();
    if (it == pending.end()) {
      pending[name] = {st, now, closed};
      return;
    }
    if (!(it->second.stat == st)) {
      it->second.stat = st;
      it->second.since = now;
      it->second.closed = closed;  // a write after the close: wait for the next close
    } else if (closed) {
      it->second.closed = true;
    }
  };
  auto rescan = [&]() {
    for (const std::string& n : ListSpool(config_.spool_dir, config_.spool_max_files)) {
      note(n, /*closed=*/!watcher.MayHaveWriter(JoinPath(config_.spool_dir, n)));
    }
  };
  rescan();

  const absl::Duration settle = absl::Milliseconds(config_.settle_ms);
  // How often a file without a close notification is checked for writers.
  const absl::Duration writer_check = std::max(settle, absl::Milliseconds(100));
  // A native store that could not be written is retried every retry_seconds.
  absl::Duration native_retry_at = absl::InfiniteDuration();
  auto schedule_native_retry = [&]() {
    if (activation_->native_error().ok()) {
      native_retry_at = absl::InfiniteDuration();
    } else if (native_retry_at == absl::InfiniteDuration()) {
      native_retry_at = clock_->Monotonic() + absl::Seconds(config_.retry_seconds);
    }
  };
  // Catalogue directories are looked at every catalog_poll_seconds.
  const absl::Duration catalog_poll = absl::Seconds(config_.catalog_poll_seconds);
  absl::Duration catalog_check_at = clock_->Monotonic() + catalog_poll;
  absl::Status result;
  for (;;) {
    if (clock_->Monotonic() >= catalog_check_at) {
      (void)CheckCatalogs();
      catalog_check_at = clock_->Monotonic() + catalog_poll;
    }
    schedule_native_retry();
    if (clock_->Monotonic() >= native_retry_at) {
      native_retry_at = absl::InfiniteDuration();
      (void)activation_->Rematerialise();  // audited either way
      continue;
    }
    // Pull sources that are due: poll (bounded by the fetch timeouts) and offer.
    for (size_t i = 0; i < sources_.size(); ++i) {
#ifdef EDICT_AGENT_PULL
      if (!sources_[i]->Due(clock_->Monotonic())) continue;
      bool ok = false;
      (void)PollOne(i, &ok);
#endif
    }
    // Which files are ready, and when the next one (or the next poll) might be.
    const absl::Duration now = clock_->Monotonic();
    absl::Duration next = absl::InfiniteDuration();
#ifdef EDICT_AGENT_PULL
    for (const auto& src : sources_) next = std::min(next, src->Wait(now));
#endif
    if (native_retry_at != absl::InfiniteDuration()) {
      next = std::min(next, native_retry_at - now);
    }
    next = std::min(next, std::max(absl::ZeroDuration(), catalog_check_at - now));
    std::vector<std::string> ready;
    for (auto it = pending.begin(); it != pending.end();) {
      const std::string path = JoinPath(config_.spool_dir, it->first);
      FileStat st;
      if (!StatFile(path, &st)) {
        it = pending.erase(it);
        continue;
      }
      if (!(st == it->second.stat)) {
        it->second.stat = st;
        it->second.since = now;
      }
      if (!it->second.closed && watcher.ChecksWriters()) {
        if (it->second.since + settle <= now && !watcher.MayHaveWriter(path)) {
          it->second.closed = true;
        } else {
          next = std::min(next, writer_check);
        }
      }
      const absl::Duration wait =
          it->second.closed ? settle : absl::Seconds(config_.incomplete_grace_seconds);
      absl::Duration at = it->second.since + wait;
      auto r = retry_after_.find(it->first);
      if (r != retry_after_.end()) at = std::max(at, r->second);
      if (at <= now) {
        ready.push_back(it->first);
      } else {
        next = std::min(next, at - now);
      }
      ++it;
    }
    if (!ready.empty()) {
      SpoolReport report;
      std::map<std::string, Fate> fates;
      ProcessNames(ready, &report, &fates);
      for (const auto& [name, fate] : fates) {
        if (fate == Fate::kDeferred) {
          // Young and malformed: offered again when it changes or once it is old enough.
          pending[name].closed = false;
          pending[name].since = clock_->Monotonic();
        } else if (fate != Fate::kRetry) {
          pending.erase(name);
        }
      }
      continue;
    }

    absl::StatusOr<platform::SpoolWatcher::Wake> wake = watcher.Wait(next);
    if (!wake.ok()) {
      result = wake.status();
      break;
    }
    if (wake->stop) break;
    if (wake->reload) {
      absl::Status fatal;
      if (!Reload(&fatal)) continue;
      if (!fatal.ok()) {
        result = fatal;
        break;
      }
      pending.clear();
      retry_after_.clear();
      if (absl::Status s = watcher.Watch(config_.spool_dir); !s.ok()) {
        result = s;
        break;
      }
      rescan();
      continue;
    }
    if (wake->rescan) rescan();
    for (const platform::SpoolWatcher::Change& c : wake->changes) {
      if (c.removed) {
        pending.erase(c.name);
      } else {
        note(c.name, c.closed);
      }
    }
  }
  Audit(ports::AuditKind::kStop, "OK", "edict-agent stopping");
  return result;
}

}  // namespace edict::agent
