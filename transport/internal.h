// Private to transport/: the signature checks shared by bundles and trust documents.
#ifndef EDICT_TRANSPORT_INTERNAL_H_
#define EDICT_TRANSPORT_INTERNAL_H_

#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "transport/bundle_generated.h"
#include "transport/keys.h"
#include "transport/trust.h"

namespace edict::transport::internal {

using FbSignatures = flatbuffers::Vector<flatbuffers::Offset<fb::Signature>>;

struct CheckedSignature {
  const TrustKey* key;
  RawSignature raw;
};

// Finds the key a signature names: returns the key, or an error status (ERR_KEY_UNKNOWN,
// ERR_KEY_REVOKED, ERR_KEY_ROLE) for a key that may not sign this document.
using KeyResolver = absl::FunctionRef<absl::Status(const KeyId& id, const TrustKey** key)>;

// Runs, over all of `sigs` (already structurally verified, non-empty), the checks in
// order: (1) every key resolves and the claimed algorithm is the key's own;
// (2) every signature is strict DER; (3) the signed bytes `domain` || `body` are hashed
// once and every signature verifies. The first failure wins. `what` names the document
// in messages ("bundle", "trust document"). `digest` receives the hash of the signed
// bytes once step (3) has computed it.
absl::Status CheckSignatures(const FbSignatures& sigs, KeyResolver resolve, absl::string_view what,
                             Bytes domain, Bytes body, std::vector<CheckedSignature>* out,
                             Digest* digest);

inline Bytes VecBytes(const flatbuffers::Vector<uint8_t>* v) {
  return v ? Bytes(v->data(), v->size()) : Bytes();
}

}  // namespace edict::transport::internal

#endif  // EDICT_TRANSPORT_INTERNAL_H_
