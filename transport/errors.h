// edict transport errors: one stable, append-only enum (the Chromium policy validator's
// habit), each value with a canonical absl code, a stable short name for tools and audit
// lines, an audit sentence and an `edictctl verify` exit-code class.
//
// Compatibility: values are never renumbered, reused or removed; new ones are appended
// before kCount. Names and numbers are part of the audit format (transport/README.md).
#ifndef EDICT_TRANSPORT_ERRORS_H_
#define EDICT_TRANSPORT_ERRORS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace edict::transport {

enum class Error : uint16_t {
  kOk = 0,
  // ---- bundle checks, in the order Verify runs them ----
  kTooLarge = 1,           // ERR_TOO_LARGE: over the size cap, nothing parsed
  kEnvelope = 2,           // ERR_ENVELOPE: not a well-formed bundle envelope
  kUnsigned = 3,           // ERR_UNSIGNED: the envelope carries no signature
  kTrustExpired = 4,       // ERR_TRUST_EXPIRED: the trust document has expired
  kKeyUnknown = 5,         // ERR_KEY_UNKNOWN: a signature names a key we do not know
  kKeyRevoked = 6,         // ERR_KEY_REVOKED: a signature is by a revoked key
  kKeyRole = 7,            // ERR_KEY_ROLE: a key used outside its role (root vs signer)
  kAlgorithm = 8,          // ERR_ALGORITHM: algorithm differs from the key's own
  kSignatureEncoding = 9,  // ERR_SIGNATURE_ENCODING: not strict DER, or r/s out of range
  kSignature = 10,         // ERR_SIGNATURE: a signature does not verify
  kThreshold = 11,         // ERR_THRESHOLD: too few distinct valid signer keys
  kPayload = 12,           // ERR_PAYLOAD: the signed payload is not a valid policy
  kRollback = 13,          // ERR_ROLLBACK: serial older than the last activated one
  kReplay = 14,            // ERR_REPLAY: serial equal to the last activated one
  kExpired = 15,           // ERR_EXPIRED: bundle past its expiry (freeze)
  kNotYetValid = 16,       // ERR_NOT_YET_VALID: issued in the future beyond the skew
  kTargetTenant = 17,      // ERR_TARGET_TENANT: bundle for another tenant
  kTargetDevice = 18,      // ERR_TARGET_DEVICE: bundle for other devices
  kTargetGroup = 19,       // ERR_TARGET_GROUP: bundle for groups this device is not in
  kCatalogVersion = 20,    // ERR_CATALOG_VERSION: catalogue version not supported
  kActivation = 21,        // ERR_ACTIVATION: the kernel refused to activate
  // ---- trust documents ----
  kTrustTooLarge = 22,     // ERR_TRUST_TOO_LARGE: trust document over its cap
  kTrustMalformed = 23,    // ERR_TRUST_MALFORMED: not a well-formed trust document
  kTrustPolicy = 24,       // ERR_TRUST_POLICY: threshold 0, threshold > keys, bad dates
  kTrustVersion = 25,      // ERR_TRUST_VERSION: not exactly the next version
  kTrustOldRoots = 26,     // ERR_TRUST_OLD_ROOTS: below threshold of the previous roots
  kTrustNewRoots = 27,     // ERR_TRUST_NEW_ROOTS: below threshold of its own roots
  kTrustRotationCap = 28,  // ERR_TRUST_ROTATION_CAP: more rotations than the cap
  kTrustEpoch = 29,        // ERR_TRUST_EPOCH: rollback epoch lowered
  kStateEpoch = 30,        // ERR_STATE_EPOCH: endpoint state newer than the trust epoch
  kCount                   // not an error; keep last
};

// "ERR_SIGNATURE", ...; "OK" for kOk; "ERR_UNKNOWN" outside the enum.
absl::string_view ErrorName(Error e);
// One audit sentence, e.g. "a signature does not verify".
absl::string_view ErrorAuditText(Error e);
// The canonical absl code each error maps to.
absl::StatusCode ErrorCode(Error e);

// `edictctl verify` exit status per error class (documented in transport/README.md).
enum class ErrorClass : uint8_t {
  kOk = 0,
  kStructure = 10,      // size, envelope, payload
  kAuthenticity = 11,   // keys, signatures, threshold
  kFreshness = 12,      // rollback, replay, freeze, epoch state
  kTarget = 13,         // tenant, device, group
  kCompatibility = 14,  // catalogue version, kernel activation
  kTrust = 15,          // trust document loading and rotation
};
ErrorClass ClassOf(Error e);

// A status with ErrorCode(e), the message "ERR_NAME: detail", and `e` attached as a
// payload so ErrorOf can recover it.
absl::Status MakeError(Error e, absl::string_view detail);
// The Error a status carries: kOk for OkStatus, kCount for a status not made by MakeError.
Error ErrorOf(const absl::Status& status);

// A time (seconds since the Unix epoch) as RFC 3339 UTC, "2027-01-15T08:00:00Z": the one
// spelling of times in human-readable messages (errors, audit messages, status).
std::string Rfc3339(int64_t unix_seconds);

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_ERRORS_H_
