#include "transport/pull/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace edict::transport::pull {
namespace {

struct Info {
  absl::string_view name;
  absl::string_view audit;
  absl::StatusCode code;
  bool transient;
};

using C = absl::StatusCode;

// Indexed by the enum value.
constexpr Info kInfo[] = {
    {"OK", "fetched", C::kOk, false},
    {"PULL_URL", "the source URL is malformed or uses an unsupported scheme", C::kInvalidArgument,
     false},
    {"PULL_INSECURE", "plain http:// is not allowed for this source", C::kPermissionDenied, false},
    {"PULL_RESOLVE", "the source host name does not resolve", C::kUnavailable, true},
    {"PULL_CONNECT", "the TCP connection to the source failed", C::kUnavailable, true},
    {"PULL_CONNECT_TIMEOUT", "no TCP connection to the source within the connect timeout",
     C::kDeadlineExceeded, true},
    {"PULL_TLS_HANDSHAKE", "the TLS handshake with the source failed", C::kUnavailable, true},
    {"PULL_TLS_UNTRUSTED", "the server certificate is not issued by a trusted CA",
     C::kUnauthenticated, true},
    {"PULL_TLS_HOSTNAME", "the server certificate is not valid for the source's host name",
     C::kUnauthenticated, true},
    {"PULL_TLS_EXPIRED", "the server certificate has expired or is not yet valid",
     C::kUnauthenticated, true},
    {"PULL_TLS_PIN", "the server public key matches none of the pinned keys", C::kUnauthenticated,
     true},
    {"PULL_TLS_CONFIG", "the CA bundle, CA file or key pins could not be loaded",
     C::kFailedPrecondition, false},
    {"PULL_TIMEOUT", "the source did not answer within the timeout", C::kDeadlineExceeded, true},
    {"PULL_SLOW", "the source sent below the minimum transfer rate (slow drip)",
     C::kDeadlineExceeded, true},
    {"PULL_RESET", "the connection was reset by the source", C::kUnavailable, true},
    {"PULL_TRUNCATED", "the connection closed before the response was complete", C::kDataLoss,
     true},
    {"PULL_HTTP_MALFORMED", "the HTTP response is malformed", C::kInvalidArgument, true},
    {"PULL_HEADERS_TOO_LARGE", "the HTTP response headers exceed the limits", C::kResourceExhausted,
     true},
    {"PULL_TOO_LARGE", "the response is larger than the size cap; nothing was read",
     C::kResourceExhausted, true},
    {"PULL_HTTP_STATUS", "the source answered with an error status", C::kUnavailable, true},
    {"PULL_REDIRECT_LIMIT", "too many redirects (or a redirect loop)", C::kUnavailable, true},
    {"PULL_REDIRECT_SCHEME", "a redirect changes the scheme or has a bad Location",
     C::kPermissionDenied, true},
    {"PULL_INDEX", "the index file is malformed", C::kInvalidArgument, true},
    {"PULL_SIZE_MISMATCH", "a document's size differs from the index", C::kDataLoss, true},
    {"PULL_DIGEST", "a document's SHA-256 differs from the index", C::kDataLoss, true},
    {"PULL_IO", "a socket error occurred", C::kUnavailable, true},
};
static_assert(sizeof(kInfo) / sizeof(kInfo[0]) == static_cast<size_t>(PullError::kCount),
              "kInfo must have one entry per PullError");

constexpr char kPayloadUrl[] = "type.googleapis.com/edict.transport.pull.PullError";

const Info* Find(PullError e) {
  auto i = static_cast<size_t>(e);
  return i < static_cast<size_t>(PullError::kCount) ? &kInfo[i] : nullptr;
}

}  // namespace

absl::string_view PullErrorName(PullError e) {
  const Info* i = Find(e);
  return i ? i->name : "PULL_UNKNOWN";
}

absl::string_view PullErrorAuditText(PullError e) {
  const Info* i = Find(e);
  return i ? i->audit : "unknown pull error";
}

absl::StatusCode PullErrorCode(PullError e) {
  const Info* i = Find(e);
  return i ? i->code : absl::StatusCode::kUnknown;
}

bool PullErrorTransient(PullError e) {
  const Info* i = Find(e);
  return i ? i->transient : true;
}

absl::Status MakePullError(PullError e, absl::string_view detail) {
  if (e == PullError::kOk) return absl::OkStatus();
  absl::Status s(PullErrorCode(e), absl::StrCat(PullErrorName(e), ": ", detail));
  s.SetPayload(kPayloadUrl, absl::Cord(absl::StrCat(static_cast<int>(e))));
  return s;
}

PullError PullErrorOf(const absl::Status& status) {
  if (status.ok()) return PullError::kOk;
  auto p = status.GetPayload(kPayloadUrl);
  if (!p) return PullError::kCount;
  int v = 0;
  if (!absl::SimpleAtoi(std::string(*p), &v) || v <= 0 ||
      v >= static_cast<int>(PullError::kCount)) {
    return PullError::kCount;
  }
  return static_cast<PullError>(v);
}

}  // namespace edict::transport::pull
