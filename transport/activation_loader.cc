// The state loader: reads what a StateStore holds (trust chain, anti-rollback floor, active
// record) and re-verifies it in full (see activation.h), for LoadActiveState and
// Activation::Start; and ActiveState, what it returns.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "transport/activation.h"
#include "transport/activation_internal.h"
#include "transport/describe.h"
#include "transport/errors.h"

namespace edict::transport {
namespace {

bool SameBytes(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

absl::StatusOr<std::unique_ptr<TrustStore>> OpenChain(
    absl::Span<const uint8_t> pinned, const std::vector<absl::Span<const uint8_t>>& rotations,
    int64_t now, const Limits& limits) {
  const size_t chunk = std::max<uint32_t>(1, limits.max_rotations);
  const size_t first = std::min(chunk, rotations.size());
  auto store =
      TrustStore::Open(pinned, absl::Span<const Bytes>(rotations.data(), first), now, limits);
  if (!store.ok()) return store.status();
  std::unique_ptr<TrustStore> current = *std::move(store);
  for (size_t i = first; i < rotations.size(); i += chunk) {
    const size_t n = std::min(chunk, rotations.size() - i);
    auto next = current->Rotate(absl::Span<const Bytes>(rotations.data() + i, n), now);
    if (!next.ok()) return next.status();
    current = *std::move(next);
  }
  return current;
}

}  // namespace

absl::string_view ActiveSourceName(ActiveSource s) {
  switch (s) {
    case ActiveSource::kDefaults:
      return "defaults";
    case ActiveSource::kCurrent:
      return "current";
    case ActiveSource::kPrevious:
      return "previous";
  }
  return "unknown";
}

ActiveState::~ActiveState() = default;

absl::Span<const uint8_t> ActiveState::payload() const {
  return verified_ ? verified_->payload : absl::Span<const uint8_t>();
}

std::unique_ptr<ActiveState> ActiveStateLoader::Defaults(
    const std::shared_ptr<const CatalogSet>& catalogs) {
  std::unique_ptr<ActiveState> state(new ActiveState());
  if (!catalogs || catalogs.get() == &CatalogSet::Builtin()) return state;
  const size_t bytes = Snapshot::DefaultsArenaSize(*catalogs);
  const size_t words = (bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  state->defaults_arena_.reset(new std::max_align_t[words > 0 ? words : 1]);
  auto snap = Snapshot::Defaults(
      *catalogs, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(state->defaults_arena_.get()),
                                     words * sizeof(std::max_align_t)));
  if (!snap.ok()) return std::unique_ptr<ActiveState>(new ActiveState());  // cannot happen
  state->snapshot_ = *snap;
  state->catalogs_ = catalogs;
  return state;
}

absl::StatusOr<std::unique_ptr<ActiveState>> ActiveStateLoader::VerifyStored(
    std::vector<uint8_t> bundle, const ActiveRecord& record,
    std::shared_ptr<const TrustStore> trust, const EndpointIdentity& identity,
    const VerifyOptions& options) {
  std::unique_ptr<ActiveState> state(new ActiveState());
  state->bundle_ = std::move(bundle);
  auto verifier = BundleVerifier::Create(trust, options);
  if (!verifier.ok()) return verifier.status();
  if (record.serial == 0) return absl::DataLossError("the stored record has serial 0");
  const EndpointState as_of{trust->spec().rollback_epoch, record.serial - 1, 0};
  auto v = (*verifier)->Verify(state->bundle_, identity, as_of, record.verified_at);
  if (!v.ok()) return v.status();
  if (v->serial != record.serial) {
    return absl::DataLossError(absl::StrCat("the stored record names serial ", record.serial,
                                            " but the bundle has serial ", v->serial));
  }
  state->verified_ = std::make_unique<VerifiedBundle>(*std::move(v));
  state->snapshot_ = state->verified_->snapshot;
  state->catalogs_ = state->verified_->catalogs;
  Fill(state.get(), record);
  return state;
}

void ActiveStateLoader::Fill(ActiveState* state, const ActiveRecord& record) {
  ActiveStateInfo& info = state->info_;
  const VerifiedBundle& v = *state->verified_;
  info.serial = v.serial;
  info.catalog_version = v.catalog_version;
  info.issued_at = v.issued_at;
  info.expires_at = v.expires_at;
  info.activated_at = record.activated_at;
  info.verified_at = record.verified_at;
  info.digest_hex = Hex(Bytes(v.digest.data(), v.digest.size()));
  info.signer_key_ids.clear();
  for (const auto& id : v.key_ids) info.signer_key_ids.push_back(KeyIdHex(id));
  info.skipped_rules = v.snapshot ? v.snapshot->skipped_count() : 0;
}

std::unique_ptr<ActiveState> ActiveStateLoader::Adopt(std::vector<uint8_t> bundle,
                                                      std::unique_ptr<VerifiedBundle> verified,
                                                      const ActiveRecord& record) {
  std::unique_ptr<ActiveState> state(new ActiveState());
  state->bundle_ = std::move(bundle);
  state->verified_ = std::move(verified);
  state->snapshot_ = state->verified_->snapshot;
  state->catalogs_ = state->verified_->catalogs;
  state->info_.source = ActiveSource::kCurrent;
  Fill(state.get(), record);
  return state;
}

absl::StatusOr<LoadResult> ActiveStateLoader::Load(ports::StateStore& store,
                                                   absl::Span<const uint8_t> pinned,
                                                   const std::optional<EndpointIdentity>& identity,
                                                   const VerifyOptions& verify,
                                                   const Limits& limits, int64_t now) {
  LoadResult out;
  out.active = Defaults(verify.catalogs);

  // 1. Trust chain.
  TrustImage stored;
  bool have_stored = false;
  {
    auto read = store.ReadWithFallback(kTrustBlobName);
    if (read.ok()) {
      if (read->generation == ports::StateGeneration::kPrevious) {
        out.problems.push_back({kCodeStateCorrupt,
                                absl::StrCat("stored trust chain: ", Msg(read->current_error),
                                             "; using the previous generation"),
                                std::nullopt});
      }
      absl::Status d = DecodeTrust(read->bytes, &stored);
      if (d.ok()) {
        have_stored = true;
      } else {
        out.problems.push_back({kCodeStateCorrupt, Msg(d), std::nullopt});
      }
    } else if (absl::IsDataLoss(read.status())) {
      out.problems.push_back({kCodeStateCorrupt,
                              absl::StrCat("stored trust chain: ", Msg(read.status())),
                              std::nullopt});
    } else if (!absl::IsNotFound(read.status())) {
      return read.status();
    }
  }
  std::vector<uint8_t> pinned_doc(pinned.begin(), pinned.end());
  if (pinned_doc.empty() && have_stored) pinned_doc = stored.chain[0];
  if (!pinned_doc.empty()) {
    bool same_pin = have_stored && SameBytes(pinned_doc, stored.chain[0]);
    std::vector<absl::Span<const uint8_t>> rotations;
    int64_t open_at = now;
    if (same_pin) {
      for (size_t i = 1; i < stored.chain.size(); ++i) rotations.push_back(stored.chain[i]);
      open_at = stored.accepted_at;
    }
    auto opened = OpenChain(pinned_doc, rotations, open_at, limits);
    if (!opened.ok() && !rotations.empty()) {
      out.problems.push_back(
          {CodeOf(opened.status()),
           absl::StrCat("stored trust rotations do not verify (", Msg(opened.status()),
                        "); using the pinned trust document alone"),
           std::nullopt});
      rotations.clear();
      opened = OpenChain(pinned_doc, rotations, now, limits);
      same_pin = false;
    } else if (opened.ok() && !same_pin && have_stored) {
      // A different pinned document (re-pinned, e.g. a newer version installed out of
      // band): keep the stored rotations that continue it, one version at a time.
      std::unique_ptr<TrustStore> current = *std::move(opened);
      for (size_t i = 1; i < stored.chain.size(); ++i) {
        const Bytes one[] = {Bytes(stored.chain[i])};
        auto next = current->Rotate(one, stored.accepted_at);
        if (next.ok()) {
          current = *std::move(next);
          rotations.push_back(stored.chain[i]);
        } else if (ErrorOf(next.status()) != Error::kTrustVersion) {
          break;  // a gap or a bad document: the rest cannot continue the chain
        }
      }
      opened = std::move(current);
    }
    if (opened.ok()) {
      out.trust = std::shared_ptr<const TrustStore>(*std::move(opened));
      out.trust_image.chain.push_back(pinned_doc);
      for (const auto& r : rotations) out.trust_image.chain.emplace_back(r.begin(), r.end());
      out.trust_image.accepted_at = same_pin ? stored.accepted_at : now;
      out.trust_image_dirty =
          !have_stored || !same_pin || out.trust_image.chain.size() != stored.chain.size();
    } else {
      out.problems.push_back(
          {CodeOf(opened.status()),
           absl::StrCat("the pinned trust document does not verify: ", Msg(opened.status())),
           std::nullopt});
    }
  }

  // 2. Anti-rollback floor.
  {
    auto read = store.ReadWithFallback(kFloorBlobName);
    FloorRecord floor;
    if (read.ok()) {
      absl::Status d = DecodeFloor(read->bytes, &floor);
      if (d.ok()) {
        out.effective = Merge(out.effective, floor.state);
        out.floor_trust_version = floor.trust_version;
      } else {
        out.problems.push_back({kCodeStateCorrupt, Msg(d), std::nullopt});
      }
      if (read->generation == ports::StateGeneration::kPrevious) {
        out.problems.push_back({kCodeStateCorrupt,
                                absl::StrCat("anti-rollback floor: ", Msg(read->current_error),
                                             "; using the previous generation"),
                                std::nullopt});
      }
    } else if (absl::IsDataLoss(read.status())) {
      out.problems.push_back({kCodeStateCorrupt,
                              absl::StrCat("anti-rollback floor: ", Msg(read.status())),
                              std::nullopt});
    } else if (!absl::IsNotFound(read.status())) {
      return read.status();
    }
  }
  if (out.trust && out.floor_trust_version > out.trust->version()) {
    out.problems.push_back(
        {kCodeStateCorrupt,
         absl::StrCat("trust version ", out.trust->version(), " is older than the recorded ",
                      out.floor_trust_version, "; the newer trust document must be offered again"),
         std::nullopt});
  }

  // 3. Active bundle.
  auto read = store.ReadWithFallback(kActiveBlobName);
  if (!read.ok()) {
    if (absl::IsNotFound(read.status())) return out;
    if (!absl::IsDataLoss(read.status())) return read.status();
    out.problems.push_back(
        {kCodeStateCorrupt,
         absl::StrCat("active state: ", Msg(read.status()), "; using the catalogue defaults"),
         std::nullopt});
    return out;
  }
  ActiveSource source = ActiveSource::kCurrent;
  if (read->generation == ports::StateGeneration::kPrevious) {
    source = ActiveSource::kPrevious;
    out.problems.push_back({kCodeStateCorrupt,
                            absl::StrCat("active state: ", Msg(read->current_error),
                                         "; using the previous generation"),
                            std::nullopt});
  }
  ActiveRecord record;
  std::vector<uint8_t> bundle;
  if (absl::Status d = DecodeActive(read->bytes, &record, &bundle); !d.ok()) {
    out.problems.push_back(
        {kCodeStateCorrupt, absl::StrCat(Msg(d), "; using the catalogue defaults"), std::nullopt});
    return out;
  }
  read->bytes.clear();
  read->bytes.shrink_to_fit();
  // Checksummed: whatever its bundle's fate, the record's anti-rollback state counts.
  out.effective = Merge(out.effective, record.next_state);
  if (!out.trust) {
    out.problems.push_back({kCodeNoTrust,
                            "no usable trust document: the stored bundle cannot be verified; "
                            "using the catalogue defaults",
                            record.serial});
    return out;
  }
  auto verified = VerifyStored(std::move(bundle), record, out.trust,
                               identity ? *identity : record.identity, verify);
  if (!verified.ok()) {
    out.problems.push_back({CodeOf(verified.status()),
                            absl::StrCat("the stored bundle no longer verifies (",
                                         Msg(verified.status()), "); using the catalogue defaults"),
                            record.serial});
    return out;
  }
  out.active = *std::move(verified);
  out.active->info_.source = source;
  out.record = std::move(record);
  return out;
}

absl::StatusOr<std::unique_ptr<ActiveState>> LoadActiveState(
    ports::StateStore& store, const LoadActiveStateOptions& options) {
  const int64_t now = options.now != 0 ? options.now : UnixSeconds(absl::Now());
  VerifyOptions verify = options.verify;
  verify.catalogs = options.catalogs;
  auto loaded = ActiveStateLoader::Load(store, options.pinned_trust, options.identity, verify,
                                        options.limits, now);
  if (!loaded.ok()) return loaded.status();
  std::unique_ptr<ActiveState> state = std::move(loaded->active);
  ActiveStateInfo& info = ActiveStateLoader::InfoOf(state.get());
  info.trust_version = loaded->trust ? loaded->trust->version() : 0;
  info.rollback_epoch = loaded->effective.rollback_epoch;
  info.last_serial = loaded->effective.last_serial;
  info.time_floor = loaded->effective.time_floor;
  for (const Problem& p : loaded->problems) {
    info.problems.push_back(absl::StrCat(p.code, ": ", p.message));
  }
  if (!options.pinned_trust_unavailable.empty()) {
    info.problems.push_back(absl::StrCat(kCodeNoTrust, ": ", options.pinned_trust_unavailable,
                                         "; the active policy stays"));
  }
  // Native stores that do not hold the active policy (written by Activation::Materialise).
  if (auto failed = store.Read(kNativeFailedBlobName); failed.ok()) {
    for (const NativeFailure& f : ParseNativeFailures(*failed)) {
      info.problems.push_back(absl::StrCat(
          kCodeNativeStore, ": ", f.store, ": ", f.reason, " (policy serial ", f.serial,
          " not enforced there; failing since ", Rfc3339(f.since), "; retried)"));
    }
  }
  return state;
}

}  // namespace edict::transport
