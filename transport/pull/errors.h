// edict pull errors: one stable, append-only enum for everything that can go wrong while
// fetching policy over HTTP(S), each with a canonical absl code, a stable name for audit
// lines ("PULL_TLS_HOSTNAME") and one audit sentence. Same conventions as
// transport/errors.h: values are never renumbered, reused or removed.
#ifndef EDICT_TRANSPORT_PULL_ERRORS_H_
#define EDICT_TRANSPORT_PULL_ERRORS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace edict::transport::pull {

enum class PullError : uint16_t {
  kOk = 0,
  kUrl = 1,               // PULL_URL: malformed URL or unsupported scheme
  kInsecure = 2,          // PULL_INSECURE: http:// but the source does not allow plain HTTP
  kResolve = 3,           // PULL_RESOLVE: the host name does not resolve
  kConnect = 4,           // PULL_CONNECT: TCP connection refused or failed
  kConnectTimeout = 5,    // PULL_CONNECT_TIMEOUT: no TCP connection within the timeout
  kTlsHandshake = 6,      // PULL_TLS_HANDSHAKE: TLS protocol failure (version, cipher, alert)
  kTlsUntrusted = 7,      // PULL_TLS_UNTRUSTED: certificate not issued by a trusted CA
  kTlsHostname = 8,       // PULL_TLS_HOSTNAME: certificate is not for the URL's host
  kTlsExpired = 9,        // PULL_TLS_EXPIRED: certificate expired or not yet valid
  kTlsPin = 10,           // PULL_TLS_PIN: server public key matches no configured pin
  kTlsConfig = 11,        // PULL_TLS_CONFIG: CA bundle / CA file / pins could not be loaded
  kTimeout = 12,          // PULL_TIMEOUT: read or total timeout
  kSlow = 13,             // PULL_SLOW: transfer rate below the minimum (slow drip)
  kReset = 14,            // PULL_RESET: connection reset by the peer
  kTruncated = 15,        // PULL_TRUNCATED: connection closed before the message ended
  kHttpMalformed = 16,    // PULL_HTTP_MALFORMED: response violates HTTP/1.1 syntax
  kHeadersTooLarge = 17,  // PULL_HEADERS_TOO_LARGE: header block over the size/count limits
  kTooLarge = 18,         // PULL_TOO_LARGE: body larger than the cap
  kHttpStatus = 19,       // PULL_HTTP_STATUS: status other than 200/304 (after redirects)
  kRedirectLimit = 20,    // PULL_REDIRECT_LIMIT: more redirects than allowed (or a loop)
  kRedirectScheme = 21,   // PULL_REDIRECT_SCHEME: redirect to another scheme or a bad Location
  kIndex = 22,            // PULL_INDEX: the index file is malformed
  kSizeMismatch = 23,     // PULL_SIZE_MISMATCH: document size differs from the index
  kDigest = 24,           // PULL_DIGEST: document SHA-256 differs from the index
  kIo = 25,               // PULL_IO: other socket error
  kCount                  // not an error; keep last
};

// "PULL_TLS_HOSTNAME", ...; "OK" for kOk; "PULL_UNKNOWN" outside the enum.
absl::string_view PullErrorName(PullError e);
// One audit sentence, e.g. "the server certificate is not valid for the source's host name".
absl::string_view PullErrorAuditText(PullError e);
absl::StatusCode PullErrorCode(PullError e);
// True for failures worth retrying with backoff (network, server); false for configuration
// errors (bad URL, http not allowed) which retrying cannot fix. The scheduler backs off on
// both; this only informs the audit text.
bool PullErrorTransient(PullError e);

// A status with PullErrorCode(e), the message "PULL_NAME: detail" and `e` attached as a
// payload, recovered by PullErrorOf.
absl::Status MakePullError(PullError e, absl::string_view detail);
// kOk for OkStatus, kCount for a status not made by MakePullError.
PullError PullErrorOf(const absl::Status& status);

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_ERRORS_H_
