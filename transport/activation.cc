// The activation state machine (see activation.h): Activation and the steps of its Impl
// (Start, Offer, OfferTrust, SetCatalogs, Unenroll). The durable records, the state loader
// and the native stores' materialisation are in activation_records.cc,
// activation_loader.cc and activation_native.cc; Activation::Impl is in activation_impl.h.
#include "transport/activation.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/catalog.h"
#include "policy/edict_generated.h"
#include "transport/activation_impl.h"
#include "transport/activation_internal.h"
#include "transport/bundle_generated.h"
#include "transport/describe.h"
#include "transport/errors.h"

namespace edict::transport {
namespace {

// A valid payload with no rules and serial 0: publishing it is publishing the defaults
// (SnapshotPublisher has no "back to defaults" operation).
std::vector<uint8_t> DefaultsPayload() {
  flatbuffers::FlatBufferBuilder fbb;
  auto header = edict::fb::CreateHeader(fbb, /*format_version=*/1, catalog::kVersion, /*serial=*/0);
  fbb.Finish(edict::fb::CreatePayload(fbb, header), edict::fb::PayloadIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace

absl::string_view ActivationStepName(ActivationStep s) {
  switch (s) {
    case ActivationStep::kVerify:
      return "verify";
    case ActivationStep::kStage:
      return "stage";
    case ActivationStep::kCommit:
      return "commit";
    case ActivationStep::kCommitFloor:
      return "commit_floor";
    case ActivationStep::kPublish:
      return "publish";
    case ActivationStep::kMaterialise:
      return "materialise";
    case ActivationStep::kAudit:
      return "audit";
    case ActivationStep::kCount:
      break;
  }
  return "unknown";
}

// ---- Activation -----------------------------------------------------------------------------

absl::Status Activation::Impl::PublishActive() {
  if (active_->payload().empty()) return o_.publisher->Publish(DefaultsPayload(), o_.catalogs);
  return o_.publisher->Publish(
      std::vector<uint8_t>(active_->payload().begin(), active_->payload().end()), o_.catalogs);
}

void Activation::Impl::RefreshInfo() {
  ActiveStateInfo info = active_->info();
  info.trust_version = trust_ ? trust_->version() : 0;
  info.rollback_epoch = effective_.rollback_epoch;
  info.last_serial = effective_.last_serial;
  info.time_floor = effective_.time_floor;
  absl::MutexLock l(&mu_);
  info_ = std::move(info);
}

absl::Status Activation::Impl::Start() {
  const int64_t now = Now();
  auto loaded =
      ActiveStateLoader::Load(*o_.state, o_.pinned_trust, Identity(), o_.verify, o_.limits, now);
  absl::Status result;
  if (!loaded.ok()) {
    Audit(ports::AuditKind::kError, kCodeStateIo,
          absl::StrCat("cannot read the state in ", o_.state->Location(), ": ",
                       loaded.status().message(), "; running on the catalogue defaults"));
    SetActive(ActiveStateLoader::Defaults(o_.catalogs));
    SetTrust(nullptr);
    result = loaded.status();
  } else {
    for (const Problem& p : loaded->problems) {
      Audit(ports::AuditKind::kStateFallback, p.code, p.message, p.serial);
    }
    SetTrust(loaded->trust);
    trust_image_ = std::move(loaded->trust_image);
    SetActive(std::move(loaded->active));
    active_record_ = std::move(loaded->record);
    effective_ = loaded->effective;
    if (trust_ && loaded->trust_image_dirty) {
      if (absl::Status w = o_.state->Write(kTrustBlobName, EncodeTrust(trust_image_)); !w.ok()) {
        Audit(ports::AuditKind::kError, kCodeStateIo,
              absl::StrCat("cannot store the trust chain: ", w.message()));
      }
    }
    if (!o_.pinned_trust_unavailable.empty()) {
      Audit(ports::AuditKind::kError, kCodeNoTrust,
            absl::StrCat(
                o_.pinned_trust_unavailable,
                trust_ ? "; the active policy (verified against the stored copy) stays" : ""));
    } else if (!trust_) {
      Audit(ports::AuditKind::kError, kCodeNoTrust,
            "no pinned trust document: every bundle will be refused until one is installed");
    }
  }
  // Whether an earlier run recorded a native store failure (removed once all stores hold),
  // and since when each store fails.
  {
    auto failed = o_.state->Read(kNativeFailedBlobName);
    native_failed_stored_ = !absl::IsNotFound(failed.status());
    failing_since_.clear();
    if (failed.ok()) {
      for (const NativeFailure& f : ParseNativeFailures(*failed)) {
        failing_since_.emplace(f.store, f.since);
      }
    }
  }
  if (absl::Status p = PublishActive(); !p.ok()) {
    Audit(ports::AuditKind::kError, CodeOf(p),
          absl::StrCat("cannot publish the verified policy: ", p.message()));
    if (result.ok()) result = p;
  }
  RefreshInfo();
  (void)Materialise();
  const ActiveStateInfo info = Info();
  Audit(ports::AuditKind::kStart, kCodeOk,
        absl::StrCat("started: ",
                     info.source == ActiveSource::kDefaults
                         ? std::string("catalogue defaults")
                         : absl::StrCat("serial ", info.serial, " (", ActiveSourceName(info.source),
                                        " generation)"),
                     ", trust version ", info.trust_version, ", last serial ", info.last_serial),
        info.serial ? std::optional<uint64_t>(info.serial) : std::nullopt);
  return result;
}

OfferResult Activation::Impl::Offer(absl::Span<const uint8_t> bundle) {
  OfferResult res;
  auto fail = [&](ports::AuditKind kind, const absl::Status& s, std::string code, bool retryable) {
    res.status = s;
    res.code = std::move(code);
    res.retryable = retryable;
    Audit(kind, res.code, Msg(s), res.serial ? std::optional<uint64_t>(res.serial) : std::nullopt);
    return res;
  };

  // 1. Verify.
  if (absl::Status h = Hook(ActivationStep::kVerify); !h.ok()) {
    return fail(ports::AuditKind::kError, h, kCodeInjected, true);
  }
  if (!o_.pinned_trust_unavailable.empty()) {
    return fail(ports::AuditKind::kRejection,
                absl::FailedPreconditionError(
                    absl::StrCat("bundle refused: ", o_.pinned_trust_unavailable)),
                kCodeNoTrust, false);
  }
  if (!verifier_) {
    return fail(ports::AuditKind::kRejection,
                absl::FailedPreconditionError(
                    "bundle refused: no trust document is installed (enrol the endpoint first)"),
                kCodeNoTrust, false);
  }
  const int64_t now = Now();
  std::vector<uint8_t> owned;
  if (bundle.size() <= trust_->limits().max_bundle_bytes)
    owned.assign(bundle.begin(), bundle.end());
  auto verified =
      verifier_->Verify(owned.empty() ? bundle : Bytes(owned), Identity(), effective_, now);
  if (!verified.ok()) {
    const Error e = ErrorOf(verified.status());
    const uint64_t claimed =
        (e == Error::kRollback || e == Error::kReplay) ? 0 : PeekBundleSerial(owned).value_or(0);
    return fail(ports::AuditKind::kRejection,
                claimed == 0
                    ? verified.status()
                    : absl::Status(verified.status().code(),
                                   absl::StrCat(verified.status().message(),
                                                " (unverified claim: serial ", claimed, ")")),
                CodeOf(verified.status()), false);
  }
  res.serial = verified->serial;

  // 2. Stage.
  if (absl::Status h = Hook(ActivationStep::kStage); !h.ok()) {
    return fail(ports::AuditKind::kError, h, kCodeInjected, true);
  }
  ActiveRecord record;
  record.serial = verified->serial;
  record.next_state = verified->next_state;
  record.trust_version = verified->trust_version;
  record.activated_at = now;
  record.verified_at = now;
  record.identity = Identity();
  std::string image = EncodeActive(record, owned);

  // 3. Commit (the point of no return).
  absl::Status commit = Hook(ActivationStep::kCommit);
  if (commit.ok()) commit = o_.state->Write(kActiveBlobName, image);
  image.clear();
  image.shrink_to_fit();
  if (!commit.ok()) {
    return fail(
        ports::AuditKind::kError,
        absl::Status(commit.code(), absl::StrCat("bundle serial ", res.serial,
                                                 " verified but not committed (the previous policy "
                                                 "stays active; will retry): ",
                                                 commit.message())),
        ErrorOf(commit) == Error::kCount ? std::string(kCodeStateIo) : CodeOf(commit), true);
  }
  res.committed = true;
  effective_ = Merge(effective_, record.next_state);
  // The verified bundle points into `owned`: move both into the new active state.
  // Moving `owned` keeps its buffer, so the payload span and the snapshot stay valid.
  std::unique_ptr<ActiveState> next = ActiveStateLoader::Adopt(
      std::move(owned), std::make_unique<VerifiedBundle>(*std::move(verified)), record);

  // 4. Raise the anti-rollback floor.
  absl::Status floor = Hook(ActivationStep::kCommitFloor);
  if (floor.ok()) floor = WriteFloor();
  if (!floor.ok()) {
    Audit(ports::AuditKind::kError, kCodeStateIo,
          absl::StrCat("the anti-rollback floor was not raised (the active record carries it): ",
                       floor.message()),
          res.serial);
  }

  // 5. Publish.
  SetActive(std::move(next));
  active_record_ = record;
  absl::Status pub = Hook(ActivationStep::kPublish);
  if (pub.ok()) pub = PublishActive();
  RefreshInfo();
  if (!pub.ok()) {
    res.status = pub;
    res.code = CodeOf(pub);
    Audit(ports::AuditKind::kError, res.code,
          absl::StrCat("serial ", res.serial, " committed but not published: ", pub.message()),
          res.serial);
    return res;
  }

  // 6. Materialise.
  absl::Status mat = Hook(ActivationStep::kMaterialise);
  if (!mat.ok()) {
    Audit(ports::AuditKind::kMaterialisation, kCodeInjected, Msg(mat), res.serial);
  } else {
    mat = Materialise();
  }

  // 7. Audit.
  res.activated = true;
  res.code = kCodeOk;
  if (absl::Status h = Hook(ActivationStep::kAudit); !h.ok()) {
    res.status = h;
    return res;
  }
  Audit(
      ports::AuditKind::kActivation, kCodeOk,
      absl::StrCat("bundle serial ", res.serial, " active (digest ",
                   active_->info().digest_hex.substr(0, 16), ", trust version ",
                   record.trust_version, ")", mat.ok() ? "" : "; native stores not fully written"),
      res.serial);
  return res;
}

OfferResult Activation::Impl::OfferTrust(absl::Span<const uint8_t> document) {
  OfferResult res;
  auto fail = [&](ports::AuditKind kind, const absl::Status& s, std::string code, bool retryable) {
    res.status = s;
    res.code = std::move(code);
    res.retryable = retryable;
    Audit(kind, res.code, absl::StrCat("trust document: ", Msg(s)));
    return res;
  };
  if (absl::Status h = Hook(ActivationStep::kVerify); !h.ok()) {
    return fail(ports::AuditKind::kError, h, kCodeInjected, true);
  }
  if (!o_.pinned_trust_unavailable.empty()) {
    return fail(
        ports::AuditKind::kRejection,
        absl::FailedPreconditionError(absl::StrCat("refused: ", o_.pinned_trust_unavailable)),
        kCodeNoTrust, false);
  }
  if (!trust_) {
    return fail(ports::AuditKind::kRejection,
                absl::FailedPreconditionError(
                    "refused: no pinned trust document is installed to rotate from"),
                kCodeNoTrust, false);
  }
  const int64_t now = Now();
  std::vector<uint8_t> owned(document.begin(), document.end());
  const Bytes one[] = {Bytes(owned)};
  auto rotated = trust_->Rotate(one, now);
  if (!rotated.ok()) {
    return fail(ports::AuditKind::kRejection, rotated.status(), CodeOf(rotated.status()), false);
  }
  std::shared_ptr<const TrustStore> next(*std::move(rotated));
  res.serial = next->version();

  if (absl::Status h = Hook(ActivationStep::kStage); !h.ok()) {
    return fail(ports::AuditKind::kError, h, kCodeInjected, true);
  }
  TrustImage image = trust_image_;
  if (image.chain.empty()) image.chain.emplace_back(o_.pinned_trust);
  image.chain.push_back(std::move(owned));
  image.accepted_at = now;

  absl::Status commit = Hook(ActivationStep::kCommit);
  if (commit.ok()) commit = o_.state->Write(kTrustBlobName, EncodeTrust(image));
  if (!commit.ok()) {
    return fail(
        ports::AuditKind::kError,
        absl::Status(commit.code(),
                     absl::StrCat("version ", res.serial,
                                  " verified but not committed (will retry): ", commit.message())),
        kCodeStateIo, true);
  }
  res.committed = true;
  trust_image_ = std::move(image);
  SetTrust(next);

  absl::Status floor = Hook(ActivationStep::kCommitFloor);
  if (floor.ok()) floor = WriteFloor();
  if (!floor.ok()) {
    Audit(ports::AuditKind::kError, kCodeStateIo,
          absl::StrCat("the recorded trust version was not raised: ", floor.message()));
  }

  // Re-verify the active bundle under the new trust (a revoked signer drops it).
  bool changed = false;
  if (!active_->payload().empty()) {
    std::vector<uint8_t> bytes(active_->bundle().begin(), active_->bundle().end());
    auto again = ActiveStateLoader::VerifyStored(std::move(bytes), active_record_, trust_,
                                                 active_record_.identity, o_.verify);
    if (!again.ok()) {
      Audit(ports::AuditKind::kStateFallback, CodeOf(again.status()),
            absl::StrCat("the active bundle does not verify under trust version ", res.serial, " (",
                         Msg(again.status()), "); using the catalogue defaults"),
            active_record_.serial);
      SetActive(ActiveStateLoader::Defaults(o_.catalogs));
      changed = true;
    }
  }
  absl::Status pub = Hook(ActivationStep::kPublish);
  if (pub.ok() && changed) pub = PublishActive();
  RefreshInfo();
  if (!pub.ok()) {
    res.status = pub;
    res.code = CodeOf(pub);
    Audit(ports::AuditKind::kError, res.code,
          absl::StrCat("trust version ", res.serial,
                       " committed; publishing failed: ", pub.message()));
    return res;
  }
  absl::Status mat = Hook(ActivationStep::kMaterialise);
  if (!mat.ok()) {
    Audit(ports::AuditKind::kMaterialisation, kCodeInjected, Msg(mat));
  } else if (changed) {
    mat = Materialise();
  }
  res.activated = true;
  res.code = kCodeOk;
  if (absl::Status h = Hook(ActivationStep::kAudit); !h.ok()) {
    res.status = h;
    return res;
  }
  Audit(ports::AuditKind::kActivation, kCodeOk,
        absl::StrCat("trust document version ", res.serial, " accepted (rollback epoch ",
                     trust_->spec().rollback_epoch, ")"));
  return res;
}

absl::Status Activation::Impl::Unenroll() {
  absl::Status first;
  std::vector<std::string> cleared;
  for (const NativeTarget& t : o_.native) {
    absl::Status s = t.store->Clear();
    if (!s.ok()) {
      Audit(ports::AuditKind::kError, kCodeNativeStore,
            absl::StrCat("unenroll: ", t.store->Name(), ": ", s.message()));
      if (first.ok()) first = s;
    } else {
      cleared.push_back(t.store->Name());
    }
  }
  for (const char* blob :
       {kActiveBlobName, kFloorBlobName, kTrustBlobName, kNativeFailedBlobName}) {
    absl::Status s = o_.state->Remove(blob);
    if (!s.ok()) {
      Audit(ports::AuditKind::kError, kCodeStateIo,
            absl::StrCat("unenroll: cannot remove ", blob, ": ", s.message()));
      if (first.ok()) first = s;
    }
  }
  if (first.ok()) native_failed_stored_ = false;
  failing_since_.clear();
  {
    absl::MutexLock l(&mu_);
    native_error_ = absl::OkStatus();
  }
  SetActive(ActiveStateLoader::Defaults(o_.catalogs));
  active_record_ = ActiveRecord();
  effective_ = EndpointState();
  trust_image_ = TrustImage();
  SetTrust(nullptr);
  (void)PublishActive();
  RefreshInfo();
  Audit(ports::AuditKind::kUnenroll, first.ok() ? kCodeOk : CodeOf(first),
        absl::StrCat("native stores cleared (", absl::StrJoin(cleared, ", "),
                     ") and state removed from ", o_.state->Location()));
  return first;
}

Activation::Activation(ActivationOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
Activation::~Activation() = default;

absl::Status Activation::Impl::SetCatalogs(std::shared_ptr<const CatalogSet> catalogs,
                                           std::shared_ptr<const DeviceAttributes> attributes) {
  VerifyOptions verify = o_.verify;
  verify.catalogs = catalogs;
  const ActiveStateInfo was = active_->info();
  std::unique_ptr<ActiveState> next;
  if (!active_->payload().empty() && trust_) {
    std::vector<uint8_t> bytes(active_->bundle().begin(), active_->bundle().end());
    auto again = ActiveStateLoader::VerifyStored(std::move(bytes), active_record_, trust_,
                                                 active_record_.identity, verify);
    if (!again.ok()) {
      absl::Status s = absl::FailedPreconditionError(
          absl::StrCat("the active policy (serial ", was.serial,
                       ") cannot be activated against the new catalogue set (", Msg(again.status()),
                       "); the previous catalogues and policy stay"));
      Audit(ports::AuditKind::kError, "CATALOG", s.message(), was.serial);
      return s;
    }
    next = *std::move(again);
  } else {
    next = ActiveStateLoader::Defaults(catalogs);
  }
  ActiveStateInfo& info = ActiveStateLoader::InfoOf(next.get());
  info.source = was.source;
  info.problems = was.problems;
  o_.catalogs = std::move(catalogs);
  o_.verify.catalogs = o_.catalogs;
  o_.device_context.attributes = std::move(attributes);
  SetTrust(trust_);  // a verifier activating against the new set
  SetActive(std::move(next));
  if (absl::Status p = PublishActive(); !p.ok()) {
    Audit(ports::AuditKind::kError, CodeOf(p),
          absl::StrCat("cannot publish the verified policy: ", p.message()));
  }
  RefreshInfo();
  const size_t products = o_.catalogs ? o_.catalogs->products().size() : 0;
  Audit(
      ports::AuditKind::kActivation, "CATALOGS",
      absl::StrCat(
          "catalogue set changed (", products, " product catalogue(s)); the active policy (",
          was.serial == 0 ? std::string("catalogue defaults") : absl::StrCat("serial ", was.serial),
          ") was activated again against it"),
      was.serial == 0 ? std::nullopt : std::optional<uint64_t>(was.serial));
  (void)Materialise();  // audited either way; a failure is retried like any other
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Activation>> Activation::Create(ActivationOptions options) {
  if (!options.state || !options.audit || !options.clock || !options.identity ||
      !options.publisher) {
    return absl::InvalidArgumentError(
        "activation needs a state store, an audit sink, a clock, an identity and a publisher");
  }
  for (const NativeTarget& t : options.native) {
    if (!t.store) return absl::InvalidArgumentError("a native target has no store");
  }
  return std::unique_ptr<Activation>(new Activation(std::move(options)));
}

absl::Status Activation::Start() { return impl_->Start(); }
OfferResult Activation::Offer(absl::Span<const uint8_t> bundle) { return impl_->Offer(bundle); }
OfferResult Activation::OfferTrust(absl::Span<const uint8_t> document) {
  return impl_->OfferTrust(document);
}
absl::Status Activation::Rematerialise() { return impl_->Rematerialise(); }
absl::Status Activation::SetCatalogs(std::shared_ptr<const CatalogSet> catalogs,
                                     std::shared_ptr<const DeviceAttributes> attributes) {
  return impl_->SetCatalogs(std::move(catalogs), std::move(attributes));
}
std::shared_ptr<const ActiveState> Activation::Current() const { return impl_->Current(); }
std::shared_ptr<const CatalogSet> Activation::catalogs() const { return impl_->catalogs(); }
absl::Status Activation::Unenroll() { return impl_->Unenroll(); }
ActiveStateInfo Activation::Info() const { return impl_->Info(); }
absl::Status Activation::last_error() const { return impl_->last_error(); }
absl::Time Activation::last_error_time() const { return impl_->last_error_time(); }
absl::Status Activation::native_error() const { return impl_->native_error(); }

}  // namespace edict::transport
