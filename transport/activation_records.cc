// The durable records activation keeps in the StateStore (blobs "active", "floor", "trust"):
// their little-endian binary encoding and decoding, and the anti-rollback state they carry.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "transport/activation_internal.h"

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

}  // namespace

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

namespace {

// True if `a` is strictly later than `b` (epoch first, then serial).
bool Later(const EndpointState& a, const EndpointState& b) {
  if (a.rollback_epoch != b.rollback_epoch) return a.rollback_epoch > b.rollback_epoch;
  return a.last_serial > b.last_serial;
}

}  // namespace

EndpointState Merge(const EndpointState& a, const EndpointState& b) {
  EndpointState out = Later(b, a) ? b : a;
  out.time_floor = std::max(a.time_floor, b.time_floor);
  return out;
}

}  // namespace edict::transport
