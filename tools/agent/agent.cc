// The Agent object: opening it (instance lock, state store, audit sinks, identity, native
// stores, catalogues) and wiring the platform's ports into a transport::Activation; start,
// unenrolment and the catalogue checks. The spool (agent_spool.cc), the pull sources
// (agent_sources.cc) and the daemon loop (agent_daemon.cc) are in their own files.
#include "tools/agent/agent.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ports/text.h"
#include "tools/agent/agent_internal.h"
#include "tools/agent/platform.h"
#include "tools/agent/product_context.h"
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

using platform::ReadCapped;

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

}  // namespace

namespace internal {

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
using internal::PinnedTrustProblem;

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
  // Product attributes of the device context, resolved against the set in use (handles are
  // per set); a line it cannot resolve is reported and left unknown, never fatal.
  ProductContext product_context = ResolveProductContext(config, catalog_set_);
  context_errors_ = std::move(product_context.errors);
  ReportContextErrors();
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
  o.device_context.attributes = std::move(product_context.attributes);
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
  // Resolved before the switch so the stores are materialised with the new set's handles.
  ProductContext product_context = ResolveProductContext(config_, load.set);
  if (absl::Status s = activation_->SetCatalogs(load.set, std::move(product_context.attributes));
      !s.ok()) {
    catalog_errors_.push_back(std::string(s.message()));  // audited by the activation
    std::fprintf(stderr, "edict-agent: %s\n", ports::EscapeForDisplay(s.message()).c_str());
    return false;
  }
  catalog_set_ = std::move(load.set);
  catalogs_ = std::move(load.catalogs);
  context_errors_ = std::move(product_context.errors);
  ReportContextErrors();
  return true;
}

void Agent::ReportContextErrors() {
  for (const std::string& e : context_errors_) {
    Audit(ports::AuditKind::kError, "CONTEXT", e);
    std::fprintf(stderr, "edict-agent: %s\n", ports::EscapeForDisplay(e).c_str());
  }
}

}  // namespace edict::agent
