#include "transport/internal.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "transport/errors.h"

namespace edict::transport::internal {

absl::Status CheckSignatures(const FbSignatures& sigs, KeyResolver resolve, absl::string_view what,
                             Bytes domain, Bytes body, std::vector<CheckedSignature>* out,
                             Digest* digest_out) {
  out->clear();
  out->reserve(sigs.size());
  // (1) Known, allowed keys, each with its own algorithm. The algorithm field is only
  // compared with the key's; it never selects the verification routine.
  for (flatbuffers::uoffset_t i = 0; i < sigs.size(); ++i) {
    const fb::Signature* sig = sigs.Get(i);
    KeyId id;
    std::memcpy(id.data(), sig->key_id()->data(), id.size());  // length checked by caller
    const TrustKey* key = nullptr;
    if (absl::Status s = resolve(id, &key); !s.ok()) return s;
    if (static_cast<uint8_t>(sig->algorithm()) != static_cast<uint8_t>(key->key.algorithm())) {
      return MakeError(Error::kAlgorithm,
                       absl::StrCat(what, " signature ", i, " claims algorithm ",
                                    static_cast<int>(sig->algorithm()), " but key ", KeyIdHex(id),
                                    " is ", AlgorithmName(key->key.algorithm())));
    }
    out->push_back({key, {}});
  }
  // (2) Strict encoding, before any signature reaches mbedTLS (see ParseStrictDerSignature).
  for (flatbuffers::uoffset_t i = 0; i < sigs.size(); ++i) {
    if (!ParseStrictDerSignature(VecBytes(sigs.Get(i)->signature()), &(*out)[i].raw)) {
      return MakeError(
          Error::kSignatureEncoding,
          absl::StrCat(what, " signature ", i, " is not strict DER with 0 < r, s < n"));
    }
  }
  // (3) One hash of the signed bytes however many signatures there are, then one
  // verification per signature.
  Sha256 hasher;
  hasher.Update(domain);
  hasher.Update(body);
  const Digest digest = hasher.Finish();
  *digest_out = digest;
  for (size_t i = 0; i < out->size(); ++i) {
    const CheckedSignature& c = (*out)[i];
    if (!c.key->key.VerifyDigest(digest, c.raw)) {
      return MakeError(Error::kSignature,
                       absl::StrCat(what, " signature ", i, " by key ", KeyIdHex(c.key->key.id()),
                                    " does not verify"));
    }
  }
  return absl::OkStatus();
}

}  // namespace edict::transport::internal
