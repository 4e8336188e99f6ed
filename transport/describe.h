// Human- and machine-readable descriptions of bundles and trust documents, for
// `edictctl inspect`. Describing is not verifying: signatures are listed, not checked.
// Inputs must start on an 8-byte boundary (policy/aligned.h); others are InvalidArgument.
#ifndef EDICT_TRANSPORT_DESCRIBE_H_
#define EDICT_TRANSPORT_DESCRIBE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "transport/keys.h"

namespace edict::transport {

enum class DocumentKind { kUnknown, kBundle, kTrust, kPayload };

// What `bytes` look like, from the FlatBuffers file identifier only ("EDB1", "EDT1",
// "EDP1"); nothing is verified.
DocumentKind DetectDocument(Bytes bytes);

// A JSON object describing a bundle envelope: format version, sizes, payload SHA-256,
// signed digest, each signature (key id, claimed algorithm, length, strict DER or not)
// and, if the payload passes the FlatBuffers verifier, its header (serial, times,
// catalogue version, target, description). InvalidArgument if `bytes` is over the
// default size cap or not a well-formed envelope.
absl::StatusOr<std::string> DescribeBundle(Bytes bytes);

// A JSON object describing a trust document: version, dates, thresholds, rollback epoch
// and serial floor, keys (id, role, status, algorithm, name) and signatures (key id,
// algorithm, length). InvalidArgument if over the default cap or malformed.
absl::StatusOr<std::string> DescribeTrust(Bytes bytes);

// The serial in a bundle's payload header / the version of a trust document, read with
// the structure checks above but no signature check: for ordering, audit lines and
// publishing, never for trust decisions. InvalidArgument if malformed.
absl::StatusOr<uint64_t> PeekBundleSerial(Bytes bundle);
absl::StatusOr<uint64_t> PeekTrustVersion(Bytes trust);

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_DESCRIBE_H_
