#include "transport/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace edict::transport {
namespace {

struct ErrorInfo {
  absl::string_view name;
  absl::string_view audit;
  absl::StatusCode code;
  ErrorClass cls;
};

using C = absl::StatusCode;
using K = ErrorClass;

// Indexed by the enum value; a static_assert below keeps it in step with the enum.
constexpr ErrorInfo kInfo[] = {
    {"OK", "accepted", C::kOk, K::kOk},
    {"ERR_TOO_LARGE", "input is larger than the size cap; nothing was parsed",
     C::kResourceExhausted, K::kStructure},
    {"ERR_ENVELOPE", "the bundle envelope is malformed", C::kInvalidArgument, K::kStructure},
    {"ERR_UNSIGNED", "the bundle carries no signature", C::kUnauthenticated, K::kAuthenticity},
    {"ERR_TRUST_EXPIRED", "the trust document has expired", C::kFailedPrecondition, K::kTrust},
    {"ERR_KEY_UNKNOWN", "a signature is by a key the trust document does not list",
     C::kUnauthenticated, K::kAuthenticity},
    {"ERR_KEY_REVOKED", "a signature is by a revoked key", C::kPermissionDenied, K::kAuthenticity},
    {"ERR_KEY_ROLE", "a key was used outside its role", C::kPermissionDenied, K::kAuthenticity},
    {"ERR_ALGORITHM", "a signature claims an algorithm other than its key's own",
     C::kPermissionDenied, K::kAuthenticity},
    {"ERR_SIGNATURE_ENCODING", "a signature is not strict DER or is out of range",
     C::kInvalidArgument, K::kAuthenticity},
    {"ERR_SIGNATURE", "a signature does not verify", C::kUnauthenticated, K::kAuthenticity},
    {"ERR_THRESHOLD", "too few distinct valid signatures", C::kUnauthenticated, K::kAuthenticity},
    {"ERR_PAYLOAD", "the signed payload is not a valid policy", C::kInvalidArgument, K::kStructure},
    {"ERR_ROLLBACK", "the bundle is older than the active policy (rollback)",
     C::kFailedPrecondition, K::kFreshness},
    {"ERR_REPLAY", "the bundle has the serial of the active policy (replay)",
     C::kFailedPrecondition, K::kFreshness},
    {"ERR_EXPIRED", "the bundle has expired (freeze)", C::kFailedPrecondition, K::kFreshness},
    {"ERR_NOT_YET_VALID", "the bundle is issued in the future beyond the allowed skew",
     C::kFailedPrecondition, K::kFreshness},
    {"ERR_TARGET_TENANT", "the bundle is for another tenant", C::kFailedPrecondition, K::kTarget},
    {"ERR_TARGET_DEVICE", "the bundle is not for this device", C::kFailedPrecondition, K::kTarget},
    {"ERR_TARGET_GROUP", "the bundle is for groups this device is not in", C::kFailedPrecondition,
     K::kTarget},
    {"ERR_CATALOG_VERSION", "the payload's catalogue version is not supported",
     C::kFailedPrecondition, K::kCompatibility},
    {"ERR_ACTIVATION", "the kernel refused to activate the payload", C::kFailedPrecondition,
     K::kCompatibility},
    {"ERR_TRUST_TOO_LARGE", "trust document is larger than its size cap; nothing was parsed",
     C::kResourceExhausted, K::kTrust},
    {"ERR_TRUST_MALFORMED", "the trust document is malformed", C::kInvalidArgument, K::kTrust},
    {"ERR_TRUST_POLICY", "the trust document's thresholds or dates are invalid",
     C::kInvalidArgument, K::kTrust},
    {"ERR_TRUST_VERSION", "the trust document is not the next version", C::kFailedPrecondition,
     K::kTrust},
    {"ERR_TRUST_OLD_ROOTS", "the trust document lacks a threshold of the previous root keys",
     C::kUnauthenticated, K::kTrust},
    {"ERR_TRUST_NEW_ROOTS", "the trust document lacks a threshold of its own root keys",
     C::kUnauthenticated, K::kTrust},
    {"ERR_TRUST_ROTATION_CAP", "more trust rotations than the cap", C::kResourceExhausted,
     K::kTrust},
    {"ERR_TRUST_EPOCH", "the trust document lowers the rollback epoch", C::kFailedPrecondition,
     K::kTrust},
    {"ERR_STATE_EPOCH", "the endpoint state is from a newer rollback epoch than the trust",
     C::kFailedPrecondition, K::kFreshness},
};
static_assert(sizeof(kInfo) / sizeof(kInfo[0]) == static_cast<size_t>(Error::kCount),
              "kInfo must have one entry per Error");

constexpr char kPayloadUrl[] = "type.googleapis.com/edict.transport.Error";

const ErrorInfo* Find(Error e) {
  auto i = static_cast<size_t>(e);
  return i < static_cast<size_t>(Error::kCount) ? &kInfo[i] : nullptr;
}

}  // namespace

absl::string_view ErrorName(Error e) {
  const ErrorInfo* info = Find(e);
  return info ? info->name : "ERR_UNKNOWN";
}

absl::string_view ErrorAuditText(Error e) {
  const ErrorInfo* info = Find(e);
  return info ? info->audit : "unknown error";
}

absl::StatusCode ErrorCode(Error e) {
  const ErrorInfo* info = Find(e);
  return info ? info->code : absl::StatusCode::kUnknown;
}

ErrorClass ClassOf(Error e) {
  const ErrorInfo* info = Find(e);
  return info ? info->cls : ErrorClass::kStructure;
}

absl::Status MakeError(Error e, absl::string_view detail) {
  absl::Status status(ErrorCode(e), absl::StrCat(ErrorName(e), ": ", detail));
  status.SetPayload(kPayloadUrl, absl::Cord(absl::StrCat(static_cast<int>(e))));
  return status;
}

Error ErrorOf(const absl::Status& status) {
  if (status.ok()) return Error::kOk;
  auto payload = status.GetPayload(kPayloadUrl);
  int value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value) || value <= 0 ||
      value >= static_cast<int>(Error::kCount)) {
    return Error::kCount;
  }
  return static_cast<Error>(value);
}

std::string Rfc3339(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

}  // namespace edict::transport
