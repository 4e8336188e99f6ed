#include "tools/agent/agent.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "flatbuffers/flatbuffers.h"
#include "policy/compiler/json.h"
#include "policy/edict_generated.h"
#include "ports/linux/dconf_store.h"
#include "ports/linux/linux_audit.h"
#include "ports/linux/linux_identity.h"
#include "ports/linux/linux_instance_lock.h"
#include "ports/linux/linux_state_store.h"
#include "ports/linux/managed_json_store.h"
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

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

absl::Status Errno(int e, absl::string_view what, absl::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(e),
                      absl::StrCat(what, " ", path, ": ", std::strerror(e)));
}

// Reads at most `cap` bytes of `path` (more is reported by a size one above the cap).
absl::StatusOr<std::string> ReadCapped(const std::string& path, size_t cap) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Errno(errno, "open", path);
  std::string out;
  char buf[65536];
  while (out.size() <= cap) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return Errno(e, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(std::min<size_t>(n, cap + 1 - out.size())));
  }
  ::close(fd);
  return out;
}

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

// Forwards to two sinks.
class TeeAuditSink : public ports::AuditSink {
 public:
  TeeAuditSink(std::unique_ptr<ports::AuditSink> a, ports::AuditSink* b)
      : a_(std::move(a)), b_(b) {}
  absl::Status Record(const ports::AuditEvent& e) override {
    absl::Status s = a_->Record(e);
    if (b_) (void)b_->Record(e);
    return s;
  }

 private:
  std::unique_ptr<ports::AuditSink> a_;
  ports::AuditSink* b_;
};

// Names the spool never processes: hidden files and the usual temporary suffixes, so a
// writer can use "write to .name or name.tmp, then rename".
bool Ignored(const std::string& name) {
  return name.empty() || name[0] == '.' || absl::EndsWith(name, ".tmp") ||
         absl::EndsWith(name, ".part") || absl::EndsWith(name, ".partial") ||
         absl::EndsWith(name, "~") || name == "processed" || name == "rejected";
}

struct FileStat {
  bool regular = false;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t ino = 0;
  bool operator==(const FileStat& o) const {
    return regular == o.regular && size == o.size && mtime_ns == o.mtime_ns && ino == o.ino;
  }
};

bool StatFile(const std::string& path, FileStat* out) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  out->regular = S_ISREG(st.st_mode);
  out->size = st.st_size;
  out->mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  out->ino = st.st_ino;
  return true;
}

std::vector<std::string> ListSpool(const std::string& dir, size_t cap) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (Ignored(name)) continue;
    out.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  if (out.size() > cap) out.resize(cap);
  return out;
}

// The serial a bundle claims, read without verifying anything (ordering hint only).
uint64_t PeekSerial(const std::string& bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier v(data, bytes.size(), 4, 32);
  if (!transport::fb::VerifyBundleBuffer(v)) return 0;
  const auto* b = transport::fb::GetBundle(data);
  if (!b->payload()) return 0;
  flatbuffers::Verifier pv(b->payload()->data(), b->payload()->size(), 64, 1000000);
  if (!fb::VerifyPayloadBuffer(pv)) return 0;
  const auto* p = fb::GetPayload(b->payload()->data());
  return p->header() ? p->header()->serial() : 0;
}

// The version a trust document claims, unverified (ordering hint only).
uint64_t PeekTrustVersion(const std::string& bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier v(data, bytes.size(), 4, 32);
  if (!transport::fb::VerifyTrustDocumentBuffer(v)) return 0;
  const auto* d = transport::fb::GetTrustDocument(data);
  if (!d->body()) return 0;
  flatbuffers::Verifier bv(d->body()->data(), d->body()->size(), 8, 100000);
  if (!bv.VerifyBuffer<transport::fb::TrustBody>(nullptr)) return 0;
  return flatbuffers::GetRoot<transport::fb::TrustBody>(d->body()->data())->version();
}

// Saved pull status blobs in a state directory ("pull-" + 16 hex digits), sorted.
std::vector<std::string> ListSourceBlobs(const std::string& state_dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(state_dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() != 21 || name.rfind("pull-", 0) != 0) continue;
    bool hex = true;
    for (size_t i = 5; i < name.size(); ++i) {
      hex = hex && absl::ascii_isxdigit(static_cast<unsigned char>(name[i]));
    }
    if (hex) out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

int64_t NowSeconds(ports::Clock* c) { return absl::ToUnixSeconds(c->Now()); }

// True if `bytes` parses as a complete document of `kind` (FlatBuffers verifiers only;
// nothing is authenticated). A truncated file fails this.
bool LooksComplete(const std::string& bytes, transport::DocumentKind kind) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier v(data, bytes.size(), 4, 32);
  if (kind == transport::DocumentKind::kBundle) return transport::fb::VerifyBundleBuffer(v);
  if (kind == transport::DocumentKind::kTrust) {
    return transport::fb::VerifyTrustDocumentBuffer(v);
  }
  return false;
}

}  // namespace

std::string SourceStatusBlob(const std::string& url) {
  const transport::Digest d = transport::Sha256::Hash(
      transport::Bytes(reinterpret_cast<const uint8_t*>(url.data()), url.size()));
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
  ports::LinuxDeviceIdentityOptions o;
  o.machine_id_path = c.machine_id_file;
  o.config = std::move(ic);
  return ports::ReadLinuxDeviceIdentity(o);
}

// ---- Agent ----------------------------------------------------------------------------------

Agent::~Agent() {
  sources_.clear();     // they point to the audit sink
  activation_.reset();  // before the stores it points to
}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Open(const AgentConfig& config,
                                                   const AgentHooks& hooks) {
  std::unique_ptr<Agent> a(new Agent());
  a->hooks_ = hooks;
  ports::LinuxInstanceLockOptions lo;
  lo.path = config.lock_file;
  auto lock = ports::AcquireLinuxInstanceLock(lo);
  if (!lock.ok()) return lock.status();
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

  ports::LinuxStateStoreOptions so;
  so.root = config.state_dir;
  so.faults = hooks_.faults;
  auto state = ports::OpenLinuxStateStore(so);
  if (!state.ok()) return state.status();
  state_ = *std::move(state);

  std::vector<std::unique_ptr<ports::AuditSink>> sinks;
  ports::JsonLinesAuditOptions ao;
  ao.path = config.audit_file;
  ao.max_file_bytes = config.audit_max_bytes;
  ao.keep_files = config.audit_keep_files;
  ao.sync_each_event = config.audit_sync;
  ao.faults = hooks_.faults;
  auto file_sink = ports::OpenJsonLinesAuditSink(ao);
  if (!file_sink.ok()) return file_sink.status();
  sinks.push_back(*std::move(file_sink));
  if (config.audit_syslog) {
    auto sys = ports::OpenSyslogAuditSink({});
    if (sys.ok()) sinks.push_back(*std::move(sys));
  }
  audit_ = std::make_unique<TeeAuditSink>(
      std::make_unique<ports::CompositeAuditSink>(std::move(sinks)), hooks_.extra_audit);

  auto identity = IdentityFromConfig(config);
  if (!identity.ok()) return identity.status();
  identity_ = *std::move(identity);

  transport::ActivationOptions o;
  if (config.managed_json) {
    ports::ManagedJsonOptions mo;
    mo.root = config.native_root;
    for (const JsonTarget& t : config.managed_json_targets) {
      mo.targets.push_back({t.name, t.dir, t.prefix, t.recommended});
    }
    mo.file_name = config.managed_json_file;
    mo.state = state_.get();
    mo.faults = hooks_.faults;
    auto store = ports::OpenManagedJsonStore(std::move(mo));
    if (!store.ok()) return store.status();
    native_.push_back(*std::move(store));
    o.native.push_back({native_.back().get(), transport::NativeKeyStyle::kCatalog});
  }
  if (config.dconf) {
    ports::DconfOptions dopt;
    dopt.root = config.native_root;
    dopt.db = config.dconf_db;
    dopt.priority = config.dconf_priority;
    dopt.profile = config.dconf_profile;
    dopt.path_prefix = config.dconf_path_prefix;
    if (!config.dconf_update) dopt.update_command.clear();
    dopt.state = state_.get();
    dopt.faults = hooks_.faults;
    auto store = ports::OpenDconfStore(std::move(dopt));
    if (!store.ok()) return store.status();
    native_.push_back(*std::move(store));
    o.native.push_back({native_.back().get(), transport::NativeKeyStyle::kGSettings});
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
  } else if (!absl::IsNotFound(pinned.status())) {
    Audit(ports::AuditKind::kError, "TRUST_UNREADABLE",
          absl::StrCat("cannot read the pinned trust document: ", pinned.status().message()));
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
  return line;
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

void Agent::Prune(const std::string& dir, int keep) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  ::closedir(d);
  if (static_cast<int>(names.size()) <= keep) return;
  std::sort(names.begin(), names.end());  // "<20-digit ns>-<seq>-<name>": oldest first
  for (size_t i = 0; i + keep < names.size(); ++i) {
    (void)::unlink(JoinPath(dir, names[i]).c_str());
  }
}

void Agent::MoveAside(const std::string& name, bool accepted) {
  const std::string sub = JoinPath(config_.spool_dir, accepted ? "processed" : "rejected");
  ::mkdir(sub.c_str(), 0750);
  const std::string target =
      JoinPath(sub, absl::StrFormat("%020d-%06d-%s", absl::ToUnixNanos(clock_->Now()),
                                    ++move_seq_ % 1000000, name));
  if (::rename(JoinPath(config_.spool_dir, name).c_str(), target.c_str()) != 0) {
    const int e = errno;
    // Could not move: remove it so it is not reprocessed for ever (its fate is audited).
    if (::unlink(JoinPath(config_.spool_dir, name).c_str()) != 0) {
      Audit(ports::AuditKind::kError, "SPOOL_IO",
            absl::StrCat("cannot move or remove spool file ", name, ": ", std::strerror(e)));
    }
    return;
  }
  Prune(sub, accepted ? config_.processed_keep : config_.rejected_keep);
}

Agent::Fate Agent::HandleFile(const std::string& name, SpoolReport* report) {
  const std::string path = JoinPath(config_.spool_dir, name);
  auto line = [&](auto&&... parts) { report->lines.push_back(absl::StrCat(name, ": ", parts...)); };
  FileStat st;
  if (!StatFile(path, &st)) return Fate::kGone;
  if (!st.regular) {
    Audit(ports::AuditKind::kRejection, "NOT_A_DOCUMENT",
          absl::StrCat("spool entry ", name, " is not a regular file"));
    MoveAside(name, false);
    ++report->rejected;
    line("rejected (not a regular file)");
    return Fate::kDone;
  }
  const size_t cap = std::max(config_.max_bundle_bytes, config_.max_trust_bytes);
  auto bytes = ReadCapped(path, cap);
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
          absl::StrCat("spool file ", name, ": ", r.status.message()));
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
    line(what, " ", r.serial, " activated");
  } else {
    ++report->rejected;
    line(what, " rejected: ", r.code, " (", r.status.message(), ")");
  }
  return Fate::kDone;
}

void Agent::ProcessNames(const std::vector<std::string>& names, SpoolReport* report,
                         std::map<std::string, Fate>* fates) {
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
      report.lines.push_back(absl::StrCat(n, ": still changing, left for the next pass"));
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

absl::Status Agent::Run(int stop_fd) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (::pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return absl::InternalError("cannot block signals");
  }
  const int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return Errno(errno, "signalfd", "");
  ::mkdir(config_.spool_dir.c_str(), 0750);
  int ifd = -1;
  int wd = -1;
  auto watch = [&]() -> absl::Status {
    if (ifd >= 0) ::close(ifd);
    ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0) return Errno(errno, "inotify_init1", "");
    wd = ::inotify_add_watch(ifd, config_.spool_dir.c_str(),
                             IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_ATTRIB |
                                 IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
    if (wd < 0) return Errno(errno, "inotify_add_watch", config_.spool_dir);
    return absl::OkStatus();
  };
  if (absl::Status s = watch(); !s.ok()) {
    ::close(sfd);
    return s;
  }

  // Per-file readiness: a file is processed once it was closed after writing (or moved in,
  // or was there when we started) and its size and mtime stayed the same for the settle
  // window; files never closed become eligible after incomplete_grace_seconds unchanged.
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
      note(n, /*closed=*/true);
    }
  };
  rescan();

  const absl::Duration settle = absl::Milliseconds(config_.settle_ms);
  absl::Status result;
  bool running = true;
  alignas(struct inotify_event) char buf[16384];
  while (running) {
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
    std::vector<std::string> ready;
    for (auto it = pending.begin(); it != pending.end();) {
      FileStat st;
      if (!StatFile(JoinPath(config_.spool_dir, it->first), &st)) {
        it = pending.erase(it);
        continue;
      }
      if (!(st == it->second.stat)) {
        it->second.stat = st;
        it->second.since = now;
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

    pollfd fds[3] = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    const int nfds = stop_fd >= 0 ? 3 : 2;
    const int timeout_ms =
        next == absl::InfiniteDuration()
            ? -1
            : static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(next) + 1, 3600000));
    const int n = ::poll(fds, nfds, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = Errno(errno, "poll", "");
      break;
    }
    if (nfds == 3 && (fds[2].revents & (POLLIN | POLLHUP))) break;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
        if (si.ssi_signo == SIGHUP) {
          auto reloaded = config_.path.empty() ? absl::StatusOr<AgentConfig>(config_)
                                               : LoadConfig(config_.path);
          if (!reloaded.ok()) {
            Audit(ports::AuditKind::kError, "CONFIG",
                  absl::StrCat("SIGHUP: config not reloaded, keeping the running one: ",
                               reloaded.status().message()));
            continue;
          }
          if (reloaded->lock_file != config_.lock_file) {
            Audit(ports::AuditKind::kError, "CONFIG",
                  "SIGHUP: lock_file changes take effect at the next start");
            reloaded->lock_file = config_.lock_file;
          }
          const AgentConfig old = config_;
          if (absl::Status s = Wire(*reloaded); !s.ok()) {
            Audit(ports::AuditKind::kError, "CONFIG",
                  absl::StrCat("SIGHUP: new config unusable (", s.message(),
                               "); keeping the running one"));
            if (absl::Status back = Wire(old); !back.ok()) {
              result = back;
              running = false;
              break;
            }
          }
          (void)Start();
          pending.clear();
          retry_after_.clear();
          if (absl::Status s = watch(); !s.ok()) {
            result = s;
            running = false;
            break;
          }
          rescan();
        } else {
          running = false;
        }
      }
    }
    if (running && (fds[1].revents & POLLIN)) {
      for (;;) {
        const ssize_t len = ::read(ifd, buf, sizeof(buf));
        if (len <= 0) break;
        for (char* p = buf; p < buf + len;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(p);
          p += sizeof(inotify_event) + ev->len;
          if (ev->mask & IN_Q_OVERFLOW) {
            rescan();
            continue;
          }
          if (ev->len == 0) continue;
          const std::string name = ev->name;
          if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
            pending.erase(name);
            continue;
          }
          note(name, (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0);
        }
      }
    }
  }
  Audit(ports::AuditKind::kStop, "OK", "edict-agent stopping");
  if (ifd >= 0) ::close(ifd);
  ::close(sfd);
  ::pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
  return result;
}

// ---- Status ---------------------------------------------------------------------------------

absl::StatusOr<StatusView> LoadStatus(const AgentConfig& config) {
  StatusView v;
  auto store = OpenReadOnlyStateStore(config.state_dir);
  transport::LoadActiveStateOptions o;
  auto pinned = ReadCapped(config.trust_pinned, config.max_trust_bytes);
  if (pinned.ok()) o.pinned_trust.assign(pinned->begin(), pinned->end());
  auto identity = IdentityFromConfig(config);
  if (identity.ok()) {
    o.identity = transport::EndpointIdentity{(*identity)->tenant(), (*identity)->device_id(),
                                             (*identity)->groups()};
  }
  o.verify.max_clock_skew_seconds = config.freeze_skew_seconds;
  o.limits.max_bundle_bytes = config.max_bundle_bytes;
  o.limits.max_trust_bytes = config.max_trust_bytes;
  auto state = transport::LoadActiveState(*store, o);
  if (!state.ok()) return state.status();
  v.state = *std::move(state);

  // The newest rotated file first would be wrong: read the oldest kept file first so the
  // last match wins.
  std::vector<std::string> files;
  for (int i = config.audit_keep_files - 1; i >= 1; --i) {
    files.push_back(absl::StrCat(config.audit_file, ".", i));
  }
  files.push_back(config.audit_file);
  for (const std::string& f : files) {
    auto text = ReadCapped(f, size_t{64} << 20);
    if (!text.ok()) continue;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      auto j = json::Parse(line);
      if (!j.ok() || !j->is_object()) continue;
      const json::Value* kind = j->Find("kind");
      const json::Value* code = j->Find("code");
      if (!kind || !kind->is_string()) continue;
      const std::string& k = kind->string();
      const bool ok_code = code && code->is_string() && code->string() == "OK";
      if (k == "activation") v.last_activation = line;
      if (k == "rejection" || k == "error" || k == "state_fallback" ||
          (k == "materialisation" && !ok_code)) {
        v.last_error = line;
      }
    }
  }
  v.spool_pending = ListSpool(config.spool_dir, 1000);

#ifdef EDICT_AGENT_PULL
  std::set<std::string> shown;
  auto saved = [&](const std::string& blob) -> std::optional<transport::pull::SourceStatus> {
    auto bytes = store->Read(blob);
    if (!bytes.ok()) return std::nullopt;
    auto r = transport::pull::SourceStatus::FromJson(*bytes);
    if (!r.ok()) return std::nullopt;
    return *std::move(r);
  };
  for (const PullSourceSpec& spec : config.sources) {
    const std::string blob = SourceStatusBlob(spec.url);
    if (!shown.insert(blob).second) continue;
    std::optional<transport::pull::SourceStatus> st = saved(blob);
    if (!st || st->url != spec.url) {
      st = transport::pull::SourceStatus{};
      st->url = spec.url;
    }
    st->name = spec.name;
    v.sources.push_back(st->ToJson());
  }
  for (const std::string& blob : ListSourceBlobs(config.state_dir)) {
    if (!shown.insert(blob).second) continue;
    if (auto st = saved(blob)) v.sources.push_back(st->ToJson());
  }
#endif
  return v;
}

namespace {
std::string Time(int64_t t) {
  if (t == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t), absl::UTCTimeZone());
}
}  // namespace

std::string RenderStatusText(const AgentConfig& config, const StatusView& v) {
  const transport::ActiveStateInfo& i = v.state->info();
  std::string out;
  absl::StrAppend(&out, "state dir:       ", config.state_dir, "\n");
  if (i.source == transport::ActiveSource::kDefaults) {
    absl::StrAppend(&out, "active policy:   catalogue defaults (no verified bundle)\n");
  } else {
    absl::StrAppend(&out, "active serial:   ", i.serial, " (",
                    transport::ActiveSourceName(i.source), " generation)\n");
    absl::StrAppend(&out, "bundle digest:   ", i.digest_hex, "\n");
    absl::StrAppend(&out, "issued / expires: ", Time(i.issued_at), " / ", Time(i.expires_at), "\n");
    absl::StrAppend(&out, "activated at:    ", Time(i.activated_at), "\n");
  }
  absl::StrAppend(&out, "trust version:   ", i.trust_version, "\n");
  absl::StrAppend(&out, "last serial:     ", i.last_serial, " (rollback epoch ", i.rollback_epoch,
                  ")\n");
  for (const auto& p : i.problems) absl::StrAppend(&out, "problem:         ", p, "\n");
  absl::StrAppend(&out, "last activation: ", v.last_activation.empty() ? "-" : v.last_activation,
                  "\n");
  absl::StrAppend(&out, "last error:      ", v.last_error.empty() ? "-" : v.last_error, "\n");
  absl::StrAppend(&out, "spool pending:   ", v.spool_pending.size(), "\n");
#ifdef EDICT_AGENT_PULL
  for (const std::string& j : v.sources) {
    auto st = transport::pull::SourceStatus::FromJson(j);
    if (!st.ok()) continue;
    absl::StrAppend(&out, "source:          ", st->name == st->url ? "" : st->name + " ", st->url,
                    "\n");
    absl::StrAppend(&out, "  last result:   ", st->last_result);
    if (st->http_status != 0) absl::StrAppend(&out, " (HTTP ", st->http_status, ")");
    absl::StrAppend(&out, " at ", Time(st->last_attempt), ", last success ", Time(st->last_success),
                    ", ", st->consecutive_failures, " consecutive failure(s)\n");
    absl::StrAppend(&out, "  etag:          ", st->etag.empty() ? "-" : st->etag, ", ",
                    st->bytes_received, " bytes received last poll, index serial ",
                    st->index_serial, "\n");
    if (!st->last_error.empty()) absl::StrAppend(&out, "  last error:    ", st->last_error, "\n");
  }
#endif
  return out;
}

std::string RenderStatusJson(const AgentConfig& config, const StatusView& v) {
  const transport::ActiveStateInfo& i = v.state->info();
  std::vector<std::string> problems;
  for (const auto& p : i.problems) problems.push_back(json::Quote(p));
  std::vector<std::string> keys;
  for (const auto& k : i.signer_key_ids) keys.push_back(json::Quote(k));
  std::string out = "{";
  absl::StrAppend(&out, "\"state_dir\":", json::Quote(config.state_dir));
  absl::StrAppend(&out,
                  ",\"source\":", json::Quote(std::string(transport::ActiveSourceName(i.source))));
  absl::StrAppend(&out, ",\"serial\":", i.serial);
  absl::StrAppend(&out, ",\"trust_version\":", i.trust_version);
  absl::StrAppend(&out, ",\"last_serial\":", i.last_serial);
  absl::StrAppend(&out, ",\"rollback_epoch\":", i.rollback_epoch);
  absl::StrAppend(&out, ",\"time_floor\":", i.time_floor);
  absl::StrAppend(&out, ",\"catalog_version\":", i.catalog_version);
  absl::StrAppend(&out, ",\"issued_at\":", i.issued_at);
  absl::StrAppend(&out, ",\"expires_at\":", i.expires_at);
  absl::StrAppend(&out, ",\"activated_at\":", i.activated_at);
  absl::StrAppend(&out, ",\"digest\":", json::Quote(i.digest_hex));
  absl::StrAppend(&out, ",\"signer_key_ids\":[", absl::StrJoin(keys, ","), "]");
  absl::StrAppend(&out, ",\"skipped_rules\":", i.skipped_rules);
  absl::StrAppend(&out, ",\"problems\":[", absl::StrJoin(problems, ","), "]");
  absl::StrAppend(&out,
                  ",\"last_activation\":", v.last_activation.empty() ? "null" : v.last_activation);
  absl::StrAppend(&out, ",\"last_error\":", v.last_error.empty() ? "null" : v.last_error);
  absl::StrAppend(&out, ",\"spool_pending\":", v.spool_pending.size());
  absl::StrAppend(&out, ",\"sources\":[", absl::StrJoin(v.sources, ","), "]");
  out += "}";
  return out;
}

}  // namespace edict::agent
