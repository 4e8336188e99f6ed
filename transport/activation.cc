// The activation state machine (see activation.h).
#include "transport/activation.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "policy/catalog.h"
#include "policy/edict_generated.h"
#include "transport/bundle_generated.h"
#include "transport/describe.h"
#include "transport/errors.h"

namespace edict::transport {
namespace {

// ---- Little-endian binary encoding of the state images -------------------------------------

class Encoder {
 public:
  explicit Encoder(absl::string_view magic) { out_.append(magic.data(), magic.size()); }
  void U32(uint32_t v) { Raw(v, 4); }
  void U64(uint64_t v) { Raw(v, 8); }
  void I64(int64_t v) { Raw(static_cast<uint64_t>(v), 8); }
  void Str(absl::string_view s) {
    U64(s.size());
    out_.append(s.data(), s.size());
  }
  void Blob(absl::Span<const uint8_t> b) {
    U64(b.size());
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  std::string Take() { return std::move(out_); }

 private:
  void Raw(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(absl::string_view in) : in_(in) {}
  bool Magic(absl::string_view magic) {
    if (in_.substr(0, magic.size()) != magic) return ok_ = false;
    in_.remove_prefix(magic.size());
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Raw(&x, 4)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Raw(v, 8); }
  bool I64(int64_t* v) {
    uint64_t x;
    if (!Raw(&x, 8)) return false;
    *v = static_cast<int64_t>(x);
    return true;
  }
  bool Str(std::string* s) {
    uint64_t n;
    if (!U64(&n) || n > in_.size()) return ok_ = false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Blob(std::vector<uint8_t>* b) {
    uint64_t n;
    if (!U64(&n) || n > in_.size()) return ok_ = false;
    const auto* p = reinterpret_cast<const uint8_t*>(in_.data());
    b->assign(p, p + n);
    in_.remove_prefix(n);
    return true;
  }
  bool AtEnd() const { return ok_ && in_.empty(); }

 private:
  bool Raw(uint64_t* v, int n) {
    if (!ok_ || in_.size() < static_cast<size_t>(n)) return ok_ = false;
    uint64_t x = 0;
    for (int i = 0; i < n; ++i) x |= uint64_t{static_cast<uint8_t>(in_[i])} << (8 * i);
    in_.remove_prefix(n);
    *v = x;
    return true;
  }
  absl::string_view in_;
  bool ok_ = true;
};

constexpr char kActiveMagic[] = "EDAC";
constexpr char kFloorMagic[] = "EDFL";
constexpr char kTrustMagic[] = "EDTC";
constexpr uint32_t kImageVersion = 1;
constexpr uint32_t kMaxGroups = 1024;
constexpr uint32_t kMaxChain = 100000;

// What "active" records besides the bundle bytes.
struct ActiveRecord {
  uint64_t serial = 0;
  EndpointState next_state;
  uint64_t trust_version = 0;
  int64_t activated_at = 0;
  int64_t verified_at = 0;
  EndpointIdentity identity;
};

std::string EncodeActive(const ActiveRecord& r, absl::Span<const uint8_t> bundle) {
  Encoder e(kActiveMagic);
  e.U32(kImageVersion);
  e.U64(r.serial);
  e.U32(r.next_state.rollback_epoch);
  e.U64(r.next_state.last_serial);
  e.I64(r.next_state.time_floor);
  e.U64(r.trust_version);
  e.I64(r.activated_at);
  e.I64(r.verified_at);
  e.Str(r.identity.tenant);
  e.Str(r.identity.device_id);
  e.U32(static_cast<uint32_t>(r.identity.groups.size()));
  for (const auto& g : r.identity.groups) e.Str(g);
  e.Blob(bundle);
  return e.Take();
}

absl::Status DecodeActive(absl::string_view image, ActiveRecord* r, std::vector<uint8_t>* bundle) {
  Decoder d(image);
  uint32_t version = 0, groups = 0;
  bool ok = d.Magic(kActiveMagic) && d.U32(&version) && version == kImageVersion &&
            d.U64(&r->serial) && d.U32(&r->next_state.rollback_epoch) &&
            d.U64(&r->next_state.last_serial) && d.I64(&r->next_state.time_floor) &&
            d.U64(&r->trust_version) && d.I64(&r->activated_at) && d.I64(&r->verified_at) &&
            d.Str(&r->identity.tenant) && d.Str(&r->identity.device_id) && d.U32(&groups) &&
            groups <= kMaxGroups;
  for (uint32_t i = 0; ok && i < groups; ++i) {
    r->identity.groups.emplace_back();
    ok = d.Str(&r->identity.groups.back());
  }
  ok = ok && d.Blob(bundle) && d.AtEnd();
  if (!ok) return absl::DataLossError("the active state record is malformed");
  return absl::OkStatus();
}

struct FloorRecord {
  EndpointState state;
  uint64_t trust_version = 0;
};

std::string EncodeFloor(const FloorRecord& f) {
  Encoder e(kFloorMagic);
  e.U32(kImageVersion);
  e.U32(f.state.rollback_epoch);
  e.U64(f.state.last_serial);
  e.I64(f.state.time_floor);
  e.U64(f.trust_version);
  return e.Take();
}

absl::Status DecodeFloor(absl::string_view image, FloorRecord* f) {
  Decoder d(image);
  uint32_t version = 0;
  if (!(d.Magic(kFloorMagic) && d.U32(&version) && version == kImageVersion &&
        d.U32(&f->state.rollback_epoch) && d.U64(&f->state.last_serial) &&
        d.I64(&f->state.time_floor) && d.U64(&f->trust_version) && d.AtEnd())) {
    return absl::DataLossError("the anti-rollback floor record is malformed");
  }
  return absl::OkStatus();
}

// chain[0] is the pinned document, then every accepted rotation in version order.
struct TrustImage {
  int64_t accepted_at = 0;
  std::vector<std::vector<uint8_t>> chain;
};

std::string EncodeTrust(const TrustImage& t) {
  Encoder e(kTrustMagic);
  e.U32(kImageVersion);
  e.I64(t.accepted_at);
  e.U32(static_cast<uint32_t>(t.chain.size()));
  for (const auto& doc : t.chain) e.Blob(doc);
  return e.Take();
}

absl::Status DecodeTrust(absl::string_view image, TrustImage* t) {
  Decoder d(image);
  uint32_t version = 0, count = 0;
  bool ok = d.Magic(kTrustMagic) && d.U32(&version) && version == kImageVersion &&
            d.I64(&t->accepted_at) && d.U32(&count) && count >= 1 && count <= kMaxChain;
  for (uint32_t i = 0; ok && i < count; ++i) {
    t->chain.emplace_back();
    ok = d.Blob(&t->chain.back());
  }
  if (!(ok && d.AtEnd())) return absl::DataLossError("the stored trust chain is malformed");
  return absl::OkStatus();
}

// ---- Anti-rollback state ------------------------------------------------------------------

// True if `a` is strictly later than `b` (epoch first, then serial).
bool Later(const EndpointState& a, const EndpointState& b) {
  if (a.rollback_epoch != b.rollback_epoch) return a.rollback_epoch > b.rollback_epoch;
  return a.last_serial > b.last_serial;
}

EndpointState Merge(const EndpointState& a, const EndpointState& b) {
  EndpointState out = Later(b, a) ? b : a;
  out.time_floor = std::max(a.time_floor, b.time_floor);
  return out;
}

// ---- Small helpers --------------------------------------------------------------------------

struct Problem {
  std::string code;
  std::string message;
  std::optional<uint64_t> serial;
};

std::string CodeOf(const absl::Status& s) {
  const Error e = ErrorOf(s);
  if (e != Error::kCount && e != Error::kOk) return std::string(ErrorName(e));
  return absl::StrCat("STATUS_", absl::StatusCodeToString(s.code()));
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

bool SameBytes(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

int64_t UnixSeconds(absl::Time t) { return absl::ToUnixSeconds(t); }

// A valid payload with no rules and serial 0: publishing it is publishing the defaults
// (SnapshotPublisher has no "back to defaults" operation).
std::vector<uint8_t> DefaultsPayload() {
  flatbuffers::FlatBufferBuilder fbb;
  auto header = edict::fb::CreateHeader(fbb, /*format_version=*/1, catalog::kVersion, /*serial=*/0);
  fbb.Finish(edict::fb::CreatePayload(fbb, header), edict::fb::PayloadIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
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

// One line of the kNativeFailedBlobName blob.
struct NativeFailure {
  int64_t since = 0;
  std::string serial, store, reason;
};

std::vector<NativeFailure> ParseNativeFailures(absl::string_view text) {
  std::vector<NativeFailure> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits('\t', 3));
    NativeFailure n;
    if (f.size() != 4 || !absl::SimpleAtoi(f[0], &n.since)) continue;
    n.serial = std::string(f[1]);
    n.store = std::string(f[2]);
    n.reason = std::string(f[3]);
    out.push_back(std::move(n));
  }
  return out;
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

ActiveState::~ActiveState() = default;

absl::Span<const uint8_t> ActiveState::payload() const {
  return verified_ ? verified_->payload : absl::Span<const uint8_t>();
}

// Everything the loader found: used read-only by LoadActiveState and by Activation::Start.
struct LoadResult {
  std::shared_ptr<const TrustStore> trust;  // null: no usable trust
  TrustImage trust_image;                   // what should be stored (pinned first)
  bool trust_image_dirty = false;           // differs from what is stored
  std::unique_ptr<ActiveState> active;
  ActiveRecord record;      // of `active` (meaningful when it is not the defaults)
  EndpointState effective;  // merged anti-rollback state
  uint64_t floor_trust_version = 0;
  std::vector<Problem> problems;
};

class ActiveStateLoader {
 public:
  // The defaults of `catalogs` (null: the built-in set), no policy.
  static std::unique_ptr<ActiveState> Defaults(const std::shared_ptr<const CatalogSet>& catalogs) {
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

  // Verifies `bundle` (moved into the result) as stored state: every transport check, with
  // freshness evaluated at `record.verified_at`. On success fills info from the record.
  static absl::StatusOr<std::unique_ptr<ActiveState>> VerifyStored(
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

  static void Fill(ActiveState* state, const ActiveRecord& record) {
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

  static ActiveStateInfo& InfoOf(ActiveState* s) { return s->info_; }

  // A freshly verified bundle whose spans point into `bundle`'s buffer.
  static std::unique_ptr<ActiveState> Adopt(std::vector<uint8_t> bundle,
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

  static absl::StatusOr<LoadResult> Load(ports::StateStore& store, absl::Span<const uint8_t> pinned,
                                         const std::optional<EndpointIdentity>& identity,
                                         const VerifyOptions& verify, const Limits& limits,
                                         int64_t now) {
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
      out.problems.push_back({kCodeStateCorrupt,
                              absl::StrCat("trust version ", out.trust->version(),
                                           " is older than the recorded ", out.floor_trust_version,
                                           "; the newer trust document must be offered again"),
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
      out.problems.push_back({kCodeStateCorrupt,
                              absl::StrCat(Msg(d), "; using the catalogue defaults"),
                              std::nullopt});
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
      out.problems.push_back(
          {CodeOf(verified.status()),
           absl::StrCat("the stored bundle no longer verifies (", Msg(verified.status()),
                        "); using the catalogue defaults"),
           record.serial});
      return out;
    }
    out.active = *std::move(verified);
    out.active->info_.source = source;
    out.record = std::move(record);
    return out;
  }
};

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

// ---- Activation -----------------------------------------------------------------------------

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
  absl::Status SetCatalogs(std::shared_ptr<const CatalogSet> catalogs);
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

  // Publishes the active state (or the defaults).
  // SnapshotPublisher activates against the built-in set only: with product catalogues it
  // skips product rules, and one of them marked critical makes it refuse the payload. That
  // cannot undo what was verified against the full set (Current() holds it), so then the
  // kernel publisher gets the built-in settings' defaults.
  absl::Status PublishActive() {
    if (active_->payload().empty()) return o_.publisher->Publish(DefaultsPayload());
    absl::Status s = o_.publisher->Publish(
        std::vector<uint8_t>(active_->payload().begin(), active_->payload().end()));
    if (!s.ok() && o_.catalogs && !o_.catalogs->products().empty() &&
        absl::IsFailedPrecondition(s)) {
      return o_.publisher->Publish(DefaultsPayload());
    }
    return s;
  }
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

void Activation::Impl::RefreshInfo() {
  ActiveStateInfo info = active_->info();
  info.trust_version = trust_ ? trust_->version() : 0;
  info.rollback_epoch = effective_.rollback_epoch;
  info.last_serial = effective_.last_serial;
  info.time_floor = effective_.time_floor;
  absl::MutexLock l(&mu_);
  info_ = std::move(info);
}

absl::Status Activation::Impl::Materialise() {
  const Context ctx = DeviceCtx();
  absl::Status first;
  std::vector<std::string> done, failed, record;
  const uint64_t serial = active_->info().serial;
  for (const NativeTarget& t : o_.native) {
    std::vector<ports::NativePolicyEntry> entries =
        NativeEntriesFor(active_->snapshot(), ctx, t.key_style);
    absl::Status s = t.store->Apply(entries);
    if (!s.ok()) {
      Audit(ports::AuditKind::kMaterialisation, kCodeNativeStore,
            absl::StrCat(t.store->Name(), ": ", s.message(), " (policy serial ", serial,
                         " is NOT enforced there; the previous content stays; retried)"),
            serial);
      if (first.ok()) first = s;
      failed.push_back(absl::StrCat(t.store->Name(), ": ", s.message()));
      std::string reason(s.message());
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      std::replace(reason.begin(), reason.end(), '\t', ' ');
      const int64_t since = failing_since_.emplace(t.store->Name(), Now()).first->second;
      record.push_back(absl::StrCat(since, "\t", serial, "\t", t.store->Name(), "\t", reason));
      continue;
    }
    failing_since_.erase(t.store->Name());
    done.push_back(absl::StrCat(t.store->Name(), " (", entries.size(), " entries)"));
  }
  // Remember the failure durably (for `status`), or forget a remembered one.
  if (!failed.empty()) {
    if (absl::Status w = o_.state->Write(kNativeFailedBlobName, absl::StrJoin(record, "\n"));
        !w.ok()) {
      Audit(ports::AuditKind::kError, kCodeStateIo,
            absl::StrCat("cannot record the native store failure: ", w.message()));
    }
    native_failed_stored_ = true;
  } else if (native_failed_stored_) {
    if (o_.state->Remove(kNativeFailedBlobName).ok()) native_failed_stored_ = false;
  }
  {
    absl::MutexLock l(&mu_);
    native_error_ = failed.empty()
                        ? absl::OkStatus()
                        : absl::Status(first.code(), absl::StrCat(kCodeNativeStore, ": ",
                                                                  absl::StrJoin(failed, "; ")));
  }
  if (o_.native.empty()) return absl::OkStatus();
  if (!done.empty()) {
    Audit(ports::AuditKind::kMaterialisation, kCodeOk,
          absl::StrCat("native stores hold exactly the effective policy of serial ", serial, ": ",
                       absl::StrJoin(done, ", ")),
          serial);
  }
  return first;
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

absl::Status Activation::Impl::SetCatalogs(std::shared_ptr<const CatalogSet> catalogs) {
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
absl::Status Activation::SetCatalogs(std::shared_ptr<const CatalogSet> catalogs) {
  return impl_->SetCatalogs(std::move(catalogs));
}
std::shared_ptr<const ActiveState> Activation::Current() const { return impl_->Current(); }
std::shared_ptr<const CatalogSet> Activation::catalogs() const { return impl_->catalogs(); }
absl::Status Activation::Unenroll() { return impl_->Unenroll(); }
ActiveStateInfo Activation::Info() const { return impl_->Info(); }
absl::Status Activation::last_error() const { return impl_->last_error(); }
absl::Time Activation::last_error_time() const { return impl_->last_error_time(); }
absl::Status Activation::native_error() const { return impl_->native_error(); }

}  // namespace edict::transport
