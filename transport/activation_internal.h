// What the activation files share (activation_records.cc: the durable records;
// activation_loader.cc: the state loader; activation_native.cc: the native-store failure
// record; activation.cc: the state machine). Not part of the transport interface.
#ifndef EDICT_TRANSPORT_ACTIVATION_INTERNAL_H_
#define EDICT_TRANSPORT_ACTIVATION_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ports/state_store.h"
#include "transport/activation.h"
#include "transport/bundle.h"
#include "transport/errors.h"
#include "transport/trust.h"

namespace edict::transport {

// ---- The durable records (activation_records.cc) ------------------------------------------

// What "active" records besides the bundle bytes.
struct ActiveRecord {
  uint64_t serial = 0;
  EndpointState next_state;
  uint64_t trust_version = 0;
  int64_t activated_at = 0;
  int64_t verified_at = 0;
  EndpointIdentity identity;
};

std::string EncodeActive(const ActiveRecord& r, absl::Span<const uint8_t> bundle);
absl::Status DecodeActive(absl::string_view image, ActiveRecord* r, std::vector<uint8_t>* bundle);

struct FloorRecord {
  EndpointState state;
  uint64_t trust_version = 0;
};

std::string EncodeFloor(const FloorRecord& f);
absl::Status DecodeFloor(absl::string_view image, FloorRecord* f);

// chain[0] is the pinned document, then every accepted rotation in version order.
struct TrustImage {
  int64_t accepted_at = 0;
  std::vector<std::vector<uint8_t>> chain;
};

std::string EncodeTrust(const TrustImage& t);
absl::Status DecodeTrust(absl::string_view image, TrustImage* t);

// The later of `a` and `b` (epoch first, then serial), with the larger time floor.
EndpointState Merge(const EndpointState& a, const EndpointState& b);

// ---- Small helpers --------------------------------------------------------------------------

struct Problem {
  std::string code;
  std::string message;
  std::optional<uint64_t> serial;
};

inline std::string CodeOf(const absl::Status& s) {
  const Error e = ErrorOf(s);
  if (e != Error::kCount && e != Error::kOk) return std::string(ErrorName(e));
  return absl::StrCat("STATUS_", absl::StatusCodeToString(s.code()));
}

inline std::string Msg(const absl::Status& s) { return std::string(s.message()); }

inline int64_t UnixSeconds(absl::Time t) { return absl::ToUnixSeconds(t); }

// ---- The native-store failure record (activation_native.cc) -------------------------------

// One line of the kNativeFailedBlobName blob.
struct NativeFailure {
  int64_t since = 0;
  std::string serial, store, reason;
};

std::vector<NativeFailure> ParseNativeFailures(absl::string_view text);

// ---- The state loader (activation_loader.cc) ----------------------------------------------

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
  static std::unique_ptr<ActiveState> Defaults(const std::shared_ptr<const CatalogSet>& catalogs);

  // Verifies `bundle` (moved into the result) as stored state: every transport check, with
  // freshness evaluated at `record.verified_at`. On success fills info from the record.
  static absl::StatusOr<std::unique_ptr<ActiveState>> VerifyStored(
      std::vector<uint8_t> bundle, const ActiveRecord& record,
      std::shared_ptr<const TrustStore> trust, const EndpointIdentity& identity,
      const VerifyOptions& options);

  static void Fill(ActiveState* state, const ActiveRecord& record);

  static ActiveStateInfo& InfoOf(ActiveState* s) { return s->info_; }

  // A freshly verified bundle whose spans point into `bundle`'s buffer.
  static std::unique_ptr<ActiveState> Adopt(std::vector<uint8_t> bundle,
                                            std::unique_ptr<VerifiedBundle> verified,
                                            const ActiveRecord& record);

  static absl::StatusOr<LoadResult> Load(ports::StateStore& store, absl::Span<const uint8_t> pinned,
                                         const std::optional<EndpointIdentity>& identity,
                                         const VerifyOptions& verify, const Limits& limits,
                                         int64_t now);
};

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_ACTIVATION_INTERNAL_H_
