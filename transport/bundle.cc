#include "transport/bundle.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "policy/aligned.h"
#include "policy/edict_generated.h"
#include "transport/bundle_generated.h"
#include "transport/errors.h"
#include "transport/internal.h"

namespace edict::transport {

using internal::VecBytes;

namespace {

Bytes DomainBytes() {
  return Bytes(reinterpret_cast<const uint8_t*>(kBundleDomain), sizeof(kBundleDomain));
}

absl::string_view Str(const flatbuffers::String* s) {
  return s ? absl::string_view(s->data(), s->size()) : absl::string_view();
}

}  // namespace

Digest BundleDigest(Bytes payload) {
  Sha256 hasher;
  hasher.Update(DomainBytes());
  hasher.Update(payload);
  return hasher.Finish();
}

std::vector<uint8_t> BuildEnvelope(Bytes payload, absl::Span<const EnvelopeSignature> signatures,
                                   uint32_t format_version) {
  flatbuffers::FlatBufferBuilder fbb(payload.size() + 256 + 128 * signatures.size());
  std::vector<flatbuffers::Offset<fb::Signature>> sigs;
  for (const EnvelopeSignature& s : signatures) {
    auto key_id = fbb.CreateVector(s.key_id);
    auto sig = fbb.CreateVector(s.signature);
    sigs.push_back(
        fb::CreateSignature(fbb, key_id, static_cast<fb::SigAlgorithm>(s.algorithm), sig));
  }
  auto sigs_vec = signatures.empty() ? 0 : fbb.CreateVector(sigs);
  // The payload is itself a FlatBuffer: keep it aligned for its widest scalars.
  fbb.ForceVectorAlignment(payload.size(), 1, 16);
  auto payload_vec = fbb.CreateVector(payload.data(), payload.size());
  fbb.Finish(fb::CreateBundle(fbb, format_version, payload_vec, sigs_vec), fb::BundleIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

absl::StatusOr<std::vector<uint8_t>> SignBundle(Bytes payload,
                                                absl::Span<const PrivateSigningKey* const> keys) {
  const Digest digest = BundleDigest(payload);
  std::vector<EnvelopeSignature> sigs;
  for (const PrivateSigningKey* key : keys) {
    auto sig = key->SignDigest(digest);
    if (!sig.ok()) return sig.status();
    sigs.push_back({std::vector<uint8_t>(key->id().begin(), key->id().end()),
                    static_cast<uint8_t>(key->public_key().algorithm()), *std::move(sig)});
  }
  return BuildEnvelope(payload, sigs);
}

absl::StatusOr<std::unique_ptr<BundleVerifier>> BundleVerifier::Create(
    std::shared_ptr<const TrustStore> trust, const VerifyOptions& options) {
  if (!trust) return absl::InvalidArgumentError("no trust store");
  if (options.max_clock_skew_seconds < 0) {
    return absl::InvalidArgumentError("negative clock skew");
  }
  if (options.min_catalog_version > options.max_catalog_version) {
    return absl::InvalidArgumentError("empty catalogue version range");
  }
  return std::unique_ptr<BundleVerifier>(new BundleVerifier(std::move(trust), options));
}

absl::StatusOr<VerifiedBundle> BundleVerifier::Verify(Bytes bundle,
                                                      const EndpointIdentity& identity,
                                                      const EndpointState& state,
                                                      int64_t now) const {
  const Limits& limits = trust_->limits();
  const TrustSpec& trust = trust_->spec();

  // 1. Size cap: only bundle.size() is looked at; nothing is read or allocated yet.
  if (bundle.size() > limits.max_bundle_bytes) {
    return MakeError(
        Error::kTooLarge,
        absl::StrCat("bundle is ", bundle.size(), " bytes; the cap is ", limits.max_bundle_bytes));
  }

  // 2. Envelope: one Bundle table and its Signature tables, nothing deeper. FlatBuffers
  // reads scalars in place: the buffer must be 8-byte aligned (policy/aligned.h).
  if (!IsFlatBufferAligned(bundle.data())) {
    return MakeError(Error::kEnvelope, "bundle does not start on an 8-byte boundary");
  }
  flatbuffers::Verifier envelope_verifier(bundle.data(), bundle.size(), /*max_depth=*/4,
                                          /*max_tables=*/1 + limits.max_signatures);
  if (!fb::VerifyBundleBuffer(envelope_verifier)) {
    return MakeError(Error::kEnvelope, "bundle envelope fails FlatBuffers verification");
  }
  const fb::Bundle* env = fb::GetBundle(bundle.data());
  if (env->format_version() != kBundleFormatVersion) {
    return MakeError(Error::kEnvelope,
                     absl::StrCat("unsupported bundle format version ", env->format_version()));
  }
  const Bytes payload = VecBytes(env->payload());
  if (payload.empty()) return MakeError(Error::kEnvelope, "bundle has an empty payload");
  if (!IsFlatBufferAligned(payload.data())) {
    return MakeError(Error::kEnvelope, "payload is not 8-byte aligned in the envelope");
  }
  const auto* sigs = env->signatures();
  if (!sigs || sigs->size() == 0) {
    return MakeError(Error::kUnsigned, "bundle carries no signature");
  }
  if (sigs->size() > limits.max_signatures) {
    return MakeError(Error::kEnvelope,
                     absl::StrCat(sigs->size(), " signatures; the cap is ", limits.max_signatures));
  }
  for (const fb::Signature* s : *sigs) {
    if (s->key_id()->size() != 32) {
      return MakeError(Error::kEnvelope, "signature key id is not 32 bytes");
    }
  }

  // 3-5. Keys, encodings, signatures (hashed once), then the threshold.
  const int64_t effective_now = std::max(now, state.time_floor);
  if (effective_now >= trust.expires_at) {
    return MakeError(Error::kTrustExpired,
                     absl::StrCat("trust version ", trust.version, " expired at ",
                                  Rfc3339(trust.expires_at), "; now is ", Rfc3339(effective_now)));
  }
  auto resolve = [this](const KeyId& id, const TrustKey** out) -> absl::Status {
    const TrustKey* key = trust_->Find(id);
    if (!key) {
      return MakeError(Error::kKeyUnknown,
                       absl::StrCat("bundle signed by unknown key ", KeyIdHex(id)));
    }
    if (key->status != KeyStatus::kActive) {
      return MakeError(Error::kKeyRevoked,
                       absl::StrCat("bundle signed by revoked key ", KeyIdHex(id)));
    }
    if (key->role != KeyRole::kSigner) {
      return MakeError(Error::kKeyRole, absl::StrCat("bundle signed by root key ", KeyIdHex(id),
                                                     "; only signer keys sign bundles"));
    }
    *out = key;
    return absl::OkStatus();
  };
  std::vector<internal::CheckedSignature> checked;
  VerifiedBundle out;
  if (absl::Status s = internal::CheckSignatures(*sigs, resolve, "bundle", DomainBytes(), payload,
                                                 &checked, &out.digest);
      !s.ok()) {
    return s;
  }
  for (const internal::CheckedSignature& c : checked) {
    const KeyId& id = c.key->key.id();
    if (std::find(out.key_ids.begin(), out.key_ids.end(), id) == out.key_ids.end()) {
      out.key_ids.push_back(id);  // duplicate key ids count once
    }
  }
  if (out.key_ids.size() < trust.signer_threshold) {
    return MakeError(Error::kThreshold,
                     absl::StrCat(out.key_ids.size(), " distinct signer keys of ",
                                  trust.signer_threshold, " required"));
  }

  // 6. Payload structure.
  flatbuffers::Verifier payload_verifier(payload.data(), payload.size(), limits.max_payload_depth,
                                         limits.max_payload_tables);
  if (!edict::fb::VerifyPayloadBuffer(payload_verifier)) {
    return MakeError(Error::kPayload, "payload fails FlatBuffers verification (EDP1)");
  }
  const edict::fb::Header* header = edict::fb::GetPayload(payload.data())->header();

  // 7. Anti-rollback, within the trust document's rollback epoch.
  const uint64_t serial = header->serial();
  uint64_t floor = state.last_serial;
  if (state.rollback_epoch > trust.rollback_epoch) {
    return MakeError(Error::kStateEpoch,
                     absl::StrCat("endpoint state is at rollback epoch ", state.rollback_epoch,
                                  ", trust version ", trust.version, " at ", trust.rollback_epoch));
  }
  if (state.rollback_epoch < trust.rollback_epoch) floor = trust.epoch_serial_floor;
  if (serial == floor) {
    return MakeError(Error::kReplay,
                     absl::StrCat("serial ", serial, " is the last activated serial"));
  }
  if (serial < floor) {
    return MakeError(Error::kRollback,
                     absl::StrCat("serial ", serial, " is older than the last activated ", floor));
  }

  // 8. Freeze.
  const int64_t issued_at = header->issued_at();
  const int64_t expires_at = header->expires_at();
  if (expires_at != 0 && effective_now >= expires_at) {
    return MakeError(Error::kExpired, absl::StrCat("bundle expired at ", Rfc3339(expires_at),
                                                   "; now is ", Rfc3339(effective_now)));
  }
  if (issued_at > effective_now &&
      static_cast<uint64_t>(issued_at) - static_cast<uint64_t>(effective_now) >
          static_cast<uint64_t>(options_.max_clock_skew_seconds)) {
    return MakeError(
        Error::kNotYetValid,
        absl::StrCat("bundle issued at ", Rfc3339(issued_at), "; now is ", Rfc3339(effective_now),
                     " and the allowed skew ", options_.max_clock_skew_seconds, " s"));
  }

  // 9. Target.
  const edict::fb::Target* target = header->target();
  const absl::string_view tenant = target ? Str(target->tenant()) : absl::string_view();
  if (tenant != identity.tenant) {
    return MakeError(Error::kTargetTenant,
                     absl::StrCat("bundle for tenant \"", tenant, "\", this device is in \"",
                                  identity.tenant, "\""));
  }
  if (target && target->device_ids() && target->device_ids()->size() > 0) {
    bool found = false;
    for (const flatbuffers::String* d : *target->device_ids()) {
      found |= !identity.device_id.empty() && Str(d) == identity.device_id;
    }
    if (!found) {
      return MakeError(Error::kTargetDevice,
                       absl::StrCat("bundle lists ", target->device_ids()->size(),
                                    " devices, not \"", identity.device_id, "\""));
    }
  }
  if (target && target->groups() && target->groups()->size() > 0) {
    bool found = false;
    for (const flatbuffers::String* g : *target->groups()) {
      for (const std::string& mine : identity.groups) found |= Str(g) == mine;
    }
    if (!found) {
      return MakeError(Error::kTargetGroup, "bundle is for groups this device is not in");
    }
  }

  // 10. Catalogue version.
  const uint32_t catalog_version = header->catalog_version();
  if (catalog_version < options_.min_catalog_version ||
      catalog_version > options_.max_catalog_version) {
    return MakeError(
        Error::kCatalogVersion,
        absl::StrCat("catalogue version ", catalog_version, " outside [",
                     options_.min_catalog_version, ", ", options_.max_catalog_version, "]"));
  }

  // 11. Kernel activation into a fresh arena (publishing it is the caller's step).
  const CatalogSet& catalogs = options_.catalogs ? *options_.catalogs : CatalogSet::Builtin();
  auto arena_bytes = Snapshot::ArenaSize(payload, catalogs);
  if (!arena_bytes.ok()) {
    return MakeError(Error::kActivation, arena_bytes.status().ToString());
  }
  const size_t words = (*arena_bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  out.arena.reset(new std::max_align_t[words > 0 ? words : 1]);
  out.arena_bytes = words * sizeof(std::max_align_t);
  auto snapshot = Snapshot::Activate(
      payload, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(out.arena.get()), out.arena_bytes),
      catalogs);
  if (!snapshot.ok()) return MakeError(Error::kActivation, snapshot.status().ToString());
  out.catalogs = options_.catalogs;

  out.snapshot = *snapshot;
  out.payload = payload;
  out.serial = serial;
  out.issued_at = issued_at;
  out.expires_at = expires_at;
  out.catalog_version = catalog_version;
  out.trust_version = trust.version;
  out.next_state = {trust.rollback_epoch, serial, std::max(state.time_floor, issued_at)};
  return out;
}

}  // namespace edict::transport
