// Activation::Impl, the activation state machine's state and its small helpers, shared by
// activation.cc (the steps) and activation_native.cc (materialising the native stores).
// Not part of the transport interface.
#ifndef EDICT_TRANSPORT_ACTIVATION_IMPL_H_
#define EDICT_TRANSPORT_ACTIVATION_IMPL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "transport/activation.h"
#include "transport/activation_internal.h"

namespace edict::transport {

class Activation::Impl {
 public:
  explicit Impl(ActivationOptions options) : o_(std::move(options)) {
    o_.verify.catalogs = o_.catalogs;
    SetActive(ActiveStateLoader::Defaults(o_.catalogs));
    for (const auto& g : o_.identity->groups()) group_views_.emplace_back(g);
  }

  absl::Status Start();
  OfferResult Offer(absl::Span<const uint8_t> bundle);
  OfferResult OfferTrust(absl::Span<const uint8_t> document);
  absl::Status Rematerialise() { return Materialise(); }
  absl::Status SetCatalogs(std::shared_ptr<const CatalogSet> catalogs,
                           std::shared_ptr<const DeviceAttributes> attributes);
  std::shared_ptr<const ActiveState> Current() const {
    absl::MutexLock l(&current_mu_);
    return current_;
  }
  std::shared_ptr<const CatalogSet> catalogs() const {
    absl::MutexLock l(&current_mu_);
    return catalogs_;
  }
  absl::Status Unenroll();

  ActiveStateInfo Info() const {
    absl::MutexLock l(&mu_);
    return info_;
  }
  absl::Status last_error() const {
    absl::MutexLock l(&mu_);
    return last_error_;
  }
  absl::Time last_error_time() const {
    absl::MutexLock l(&mu_);
    return last_error_time_;
  }
  absl::Status native_error() const {
    absl::MutexLock l(&mu_);
    return native_error_;
  }

 private:
  int64_t Now() { return UnixSeconds(o_.clock->Now()); }

  EndpointIdentity Identity() const {
    return {o_.identity->tenant(), o_.identity->device_id(), o_.identity->groups()};
  }

  Context DeviceCtx() const {
    Context c;
    c.identity = o_.device_context.identity;
    c.domain_joined = o_.device_context.domain_joined;
    c.device_managed = o_.device_context.device_managed;
    c.plan = o_.device_context.plan;
    c.os_generation = o_.device_context.os_generation;
    c.device_state = o_.device_context.device_state;
    c.role = o_.device_context.role;
    c.region = o_.device_context.region;
    c.groups = group_views_;
    // Handles of another set would name other attributes (or none): leave them unknown.
    const DeviceAttributes* a = o_.device_context.attributes.get();
    if (a && &a->catalogs() == &active_->catalogs()) c.attributes = a->values();
    return c;
  }

  absl::Status Hook(ActivationStep step) {
    if (!o_.step_hook) return absl::OkStatus();
    absl::Status s = o_.step_hook(step);
    if (!s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("injected at step ", ActivationStepName(step), ": ", s.message()));
    }
    return s;
  }

  void Audit(ports::AuditKind kind, absl::string_view code, absl::string_view message,
             std::optional<uint64_t> serial = std::nullopt) {
    ports::AuditEvent e;
    e.time = o_.clock->Now();
    e.kind = kind;
    e.code = std::string(code);
    e.message = std::string(message);
    e.serial = serial;
    (void)o_.audit->Record(e);  // a lost audit line must not stop enforcement
    if (kind == ports::AuditKind::kRejection || kind == ports::AuditKind::kError ||
        kind == ports::AuditKind::kStateFallback ||
        (kind == ports::AuditKind::kMaterialisation && code != kCodeOk)) {
      absl::MutexLock l(&mu_);
      last_error_ = absl::UnknownError(absl::StrCat(code, ": ", message));
      last_error_time_ = e.time;
    }
  }

  // Publishes the active state (or the defaults) to the kernel publisher, activated
  // against the same catalogue set it was verified against (the publisher keeps the set
  // alive while the snapshot is current).
  absl::Status PublishActive();
  // Makes `state` the active one (Current() swaps under its lock).
  void SetActive(std::shared_ptr<ActiveState> state) {
    std::shared_ptr<const ActiveState> old;
    {
      absl::MutexLock l(&current_mu_);
      old = std::move(current_);
      current_ = state;
      catalogs_ = o_.catalogs ? o_.catalogs
                              : std::shared_ptr<const CatalogSet>(std::shared_ptr<void>(),
                                                                  &CatalogSet::Builtin());
    }
    active_ = std::move(state);
    // `old` (snapshot, arena, set) is freed here unless a reader still holds it.
  }

  absl::Status Materialise();
  void RefreshInfo();
  void SetTrust(std::shared_ptr<const TrustStore> trust) {
    trust_ = std::move(trust);
    verifier_.reset();
    if (trust_) {
      auto v = BundleVerifier::Create(trust_, o_.verify);
      if (v.ok()) verifier_ = *std::move(v);
    }
  }
  absl::Status WriteFloor() {
    FloorRecord f{effective_, trust_ ? trust_->version() : 0};
    return o_.state->Write(kFloorBlobName, EncodeFloor(f));
  }

  ActivationOptions o_;
  std::vector<std::string_view> group_views_;
  std::shared_ptr<const TrustStore> trust_;
  std::unique_ptr<BundleVerifier> verifier_;
  TrustImage trust_image_;
  std::shared_ptr<ActiveState> active_;  // == current_; written only through SetActive
  ActiveRecord active_record_;
  mutable absl::Mutex current_mu_;
  std::shared_ptr<const ActiveState> current_ ABSL_GUARDED_BY(current_mu_);
  std::shared_ptr<const CatalogSet> catalogs_ ABSL_GUARDED_BY(current_mu_);
  EndpointState effective_;

  mutable absl::Mutex mu_;
  ActiveStateInfo info_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  absl::Time last_error_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status native_error_ ABSL_GUARDED_BY(mu_);
  bool native_failed_stored_ = false;             // the kNativeFailedBlobName blob may exist
  std::map<std::string, int64_t> failing_since_;  // store name -> first failure (Unix seconds)
};

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_ACTIVATION_IMPL_H_
