#include "transport/trust.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "policy/aligned.h"
#include "transport/errors.h"
#include "transport/internal.h"
#include "transport/trust_generated.h"

namespace edict::transport {

using internal::VecBytes;

namespace {

constexpr char kTrustBodyIdentifier[] = "EDTB";

Bytes DomainBytes() {
  return Bytes(reinterpret_cast<const uint8_t*>(kTrustDomain), sizeof(kTrustDomain));
}

size_t CountActive(const TrustSpec& spec, KeyRole role) {
  return std::count_if(spec.keys.begin(), spec.keys.end(), [role](const TrustKey& k) {
    return k.role == role && k.status == KeyStatus::kActive;
  });
}

const TrustKey* FindIn(const TrustSpec& spec, const KeyId& id) {
  for (const TrustKey& k : spec.keys) {
    if (k.key.id() == id) return &k;
  }
  return nullptr;
}

bool IsActiveRoot(const TrustKey* k) {
  return k && k->role == KeyRole::kRoot && k->status == KeyStatus::kActive;
}

}  // namespace

absl::string_view KeyRoleName(KeyRole r) { return r == KeyRole::kRoot ? "root" : "signer"; }
absl::string_view KeyStatusName(KeyStatus s) {
  return s == KeyStatus::kActive ? "active" : "revoked";
}

absl::StatusOr<std::vector<uint8_t>> BuildTrustDocument(
    const TrustSpec& spec, absl::Span<const PrivateSigningKey* const> signing_keys) {
  flatbuffers::FlatBufferBuilder body_fbb;
  std::vector<flatbuffers::Offset<fb::TrustKey>> keys;
  for (const TrustKey& k : spec.keys) {
    const KeyId& id = k.key.id();
    auto key_id = body_fbb.CreateVector(id.data(), id.size());
    Bytes der = k.key.spki_der();
    auto pub = body_fbb.CreateVector(der.data(), der.size());
    auto name = k.name.empty() ? 0 : body_fbb.CreateString(k.name);
    keys.push_back(fb::CreateTrustKey(body_fbb, key_id, static_cast<fb::KeyRole>(k.role),
                                      static_cast<fb::KeyStatus>(k.status),
                                      static_cast<fb::SigAlgorithm>(k.key.algorithm()), pub, name));
  }
  auto keys_vec = body_fbb.CreateVector(keys);
  auto desc = spec.description.empty() ? 0 : body_fbb.CreateString(spec.description);
  body_fbb.Finish(fb::CreateTrustBody(body_fbb, kTrustFormatVersion, spec.version, spec.issued_at,
                                      spec.expires_at, spec.root_threshold, spec.signer_threshold,
                                      keys_vec, spec.rollback_epoch, spec.epoch_serial_floor, desc),
                  kTrustBodyIdentifier);
  Bytes body(body_fbb.GetBufferPointer(), body_fbb.GetSize());

  Sha256 hasher;
  hasher.Update(DomainBytes());
  hasher.Update(body);
  const Digest digest = hasher.Finish();

  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Signature>> sigs;
  for (const PrivateSigningKey* key : signing_keys) {
    auto sig = key->SignDigest(digest);
    if (!sig.ok()) return sig.status();
    // One statement per vector: argument evaluation order must not decide the layout.
    auto key_id = fbb.CreateVector(key->id().data(), key->id().size());
    auto sig_vec = fbb.CreateVector(*sig);
    sigs.push_back(fb::CreateSignature(fbb, key_id, fb::SigAlgorithm::EcdsaP256Sha256, sig_vec));
  }
  auto sigs_vec = fbb.CreateVector(sigs);
  fbb.ForceVectorAlignment(body.size(), 1, 8);
  auto body_vec = fbb.CreateVector(body.data(), body.size());
  fbb.Finish(fb::CreateTrustDocument(fbb, kTrustFormatVersion, body_vec, sigs_vec),
             fb::TrustDocumentIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

// Parses and checks one trust document against its predecessor (nullptr for the pinned
// document). Checks run in this order, the first failure wins: size cap; envelope and
// body structure; keys; thresholds and dates; version and epoch; signatures (key,
// algorithm, encoding, validity); threshold of the previous roots; threshold of its own.
class TrustLoader {
 public:
  static absl::StatusOr<std::unique_ptr<TrustStore>> Load(Bytes doc, const TrustStore* prev,
                                                          const Limits& limits) {
    if (doc.size() > limits.max_trust_bytes) {
      return MakeError(Error::kTrustTooLarge,
                       absl::StrCat("trust document is ", doc.size(), " bytes; the cap is ",
                                    limits.max_trust_bytes));
    }
    // Envelope: one TrustDocument table plus its signatures, nothing deeper. FlatBuffers
    // reads scalars in place: both buffers must be 8-byte aligned (policy/aligned.h).
    if (!IsFlatBufferAligned(doc.data())) {
      return MakeError(Error::kTrustMalformed,
                       "trust document does not start on an 8-byte boundary");
    }
    flatbuffers::Verifier envelope_verifier(doc.data(), doc.size(), /*max_depth=*/4,
                                            /*max_tables=*/2 + limits.max_signatures);
    if (!fb::VerifyTrustDocumentBuffer(envelope_verifier)) {
      return MakeError(Error::kTrustMalformed, "trust document envelope fails verification");
    }
    const fb::TrustDocument* env = fb::GetTrustDocument(doc.data());
    if (env->format_version() != kTrustFormatVersion) {
      return MakeError(Error::kTrustMalformed,
                       absl::StrCat("unsupported trust format version ", env->format_version()));
    }
    const auto* sigs = env->signatures();
    if (sigs && sigs->size() > limits.max_signatures) {
      return MakeError(Error::kTrustMalformed, "too many signatures on the trust document");
    }
    if (sigs) {
      for (const fb::Signature* s : *sigs) {
        if (s->key_id()->size() != 32) {
          return MakeError(Error::kTrustMalformed, "signature key id is not 32 bytes");
        }
      }
    }
    Bytes body = VecBytes(env->body());
    flatbuffers::Verifier body_verifier(body.data(), body.size(), /*max_depth=*/4,
                                        /*max_tables=*/2 + limits.max_trust_keys);
    if (body.size() < 8 || !IsFlatBufferAligned(body.data()) ||
        !body_verifier.VerifyBuffer<fb::TrustBody>(kTrustBodyIdentifier)) {
      return MakeError(Error::kTrustMalformed, "trust document body fails verification");
    }
    const fb::TrustBody* tb = flatbuffers::GetRoot<fb::TrustBody>(body.data());
    if (tb->format_version() != kTrustFormatVersion) {
      return MakeError(Error::kTrustMalformed,
                       absl::StrCat("unsupported trust body version ", tb->format_version()));
    }

    auto store = std::unique_ptr<TrustStore>(new TrustStore());
    store->limits_ = limits;
    TrustSpec& spec = store->spec_;
    spec.version = tb->version();
    spec.issued_at = tb->issued_at();
    spec.expires_at = tb->expires_at();
    spec.root_threshold = tb->root_threshold();
    spec.signer_threshold = tb->signer_threshold();
    spec.rollback_epoch = tb->rollback_epoch();
    spec.epoch_serial_floor = tb->epoch_serial_floor();
    if (tb->description()) spec.description = tb->description()->str();

    // Keys: canonical SPKI on P-256, id = SHA-256(SPKI), one entry per key id.
    if (tb->keys()) {
      if (tb->keys()->size() > limits.max_trust_keys) {
        return MakeError(Error::kTrustMalformed, "too many keys in the trust document");
      }
      for (flatbuffers::uoffset_t i = 0; i < tb->keys()->size(); ++i) {
        const fb::TrustKey* k = tb->keys()->Get(i);
        auto pub = PublicKey::FromSpkiDer(VecBytes(k->public_key()));
        if (!pub.ok()) {
          return MakeError(Error::kTrustMalformed,
                           absl::StrCat("key ", i, ": ", pub.status().message()));
        }
        Bytes listed_id = VecBytes(k->key_id());
        if (listed_id.size() != 32 || std::memcmp(listed_id.data(), pub->id().data(), 32) != 0) {
          return MakeError(Error::kTrustMalformed,
                           absl::StrCat("key ", i, ": key id is not SHA-256 of its SPKI"));
        }
        if (k->algorithm() != fb::SigAlgorithm::EcdsaP256Sha256) {
          return MakeError(Error::kTrustMalformed,
                           absl::StrCat("key ", i, ": unsupported algorithm"));
        }
        if (k->role() != fb::KeyRole::Root && k->role() != fb::KeyRole::Signer) {
          return MakeError(Error::kTrustMalformed, absl::StrCat("key ", i, ": unknown role"));
        }
        if (k->status() != fb::KeyStatus::Active && k->status() != fb::KeyStatus::Revoked) {
          return MakeError(Error::kTrustMalformed, absl::StrCat("key ", i, ": unknown status"));
        }
        if (FindIn(spec, pub->id())) {
          return MakeError(Error::kTrustMalformed,
                           absl::StrCat("key ", KeyIdHex(pub->id()), " is listed twice"));
        }
        TrustKey key{*std::move(pub), static_cast<KeyRole>(k->role()),
                     static_cast<KeyStatus>(k->status()),
                     k->name() ? k->name()->str() : std::string()};
        spec.keys.push_back(std::move(key));
      }
    }

    // Thresholds and dates.
    const size_t roots = CountActive(spec, KeyRole::kRoot);
    const size_t signers = CountActive(spec, KeyRole::kSigner);
    if (spec.root_threshold == 0 || spec.root_threshold > roots) {
      return MakeError(Error::kTrustPolicy, absl::StrCat("root threshold ", spec.root_threshold,
                                                         " with ", roots, " active root keys"));
    }
    if (spec.signer_threshold == 0 || spec.signer_threshold > signers) {
      return MakeError(Error::kTrustPolicy, absl::StrCat("signer threshold ", spec.signer_threshold,
                                                         " with ", signers, " active signer keys"));
    }
    if (spec.version == 0 || spec.expires_at <= spec.issued_at) {
      return MakeError(Error::kTrustPolicy, "version 0, or expiry not after issue time");
    }

    // Exactly the next version; the rollback epoch never goes down.
    if (prev) {
      if (spec.version != prev->version() + 1) {
        return MakeError(Error::kTrustVersion,
                         absl::StrCat("trust version ", spec.version, " after version ",
                                      prev->version(), "; expected ", prev->version() + 1));
      }
      if (spec.rollback_epoch < prev->spec().rollback_epoch) {
        return MakeError(Error::kTrustEpoch, absl::StrCat("rollback epoch ", spec.rollback_epoch,
                                                          " after ", prev->spec().rollback_epoch));
      }
    }

    // Signatures: by active root keys of this document or of its predecessor.
    if (!sigs || sigs->size() == 0) {
      return MakeError(Error::kUnsigned, "trust document carries no signature");
    }
    auto resolve = [&](const KeyId& id, const TrustKey** out) -> absl::Status {
      const TrustKey* mine = FindIn(spec, id);
      const TrustKey* old = prev ? prev->Find(id) : nullptr;
      if (IsActiveRoot(mine)) {
        *out = mine;
        return absl::OkStatus();
      }
      if (IsActiveRoot(old)) {
        *out = old;
        return absl::OkStatus();
      }
      const TrustKey* any = mine ? mine : old;
      if (!any) {
        return MakeError(Error::kKeyUnknown,
                         absl::StrCat("trust document signed by unknown key ", KeyIdHex(id)));
      }
      if (any->status == KeyStatus::kRevoked) {
        return MakeError(Error::kKeyRevoked,
                         absl::StrCat("trust document signed by revoked key ", KeyIdHex(id)));
      }
      return MakeError(Error::kKeyRole,
                       absl::StrCat("trust document signed by signer key ", KeyIdHex(id),
                                    "; only root keys sign trust documents"));
    };
    std::vector<internal::CheckedSignature> checked;
    Digest digest;
    if (absl::Status s = internal::CheckSignatures(*sigs, resolve, "trust document", DomainBytes(),
                                                   body, &checked, &digest);
        !s.ok()) {
      return s;
    }
    // Thresholds of distinct key ids: the predecessor's roots, then this document's.
    std::set<KeyId> old_roots, new_roots;
    for (const internal::CheckedSignature& c : checked) {
      const KeyId& id = c.key->key.id();
      if (prev && IsActiveRoot(prev->Find(id))) old_roots.insert(id);
      if (IsActiveRoot(FindIn(spec, id))) new_roots.insert(id);
    }
    if (prev && old_roots.size() < prev->spec().root_threshold) {
      return MakeError(
          Error::kTrustOldRoots,
          absl::StrCat(old_roots.size(), " of ", prev->spec().root_threshold,
                       " required signatures by version ", prev->version(), " root keys"));
    }
    if (new_roots.size() < spec.root_threshold) {
      return MakeError(
          Error::kTrustNewRoots,
          absl::StrCat(new_roots.size(), " of ", spec.root_threshold,
                       " required signatures by version ", spec.version, " root keys"));
    }
    store->document_.assign(doc.begin(), doc.end());
    return store;
  }

  static absl::StatusOr<std::unique_ptr<TrustStore>> Walk(std::unique_ptr<TrustStore> current,
                                                          const TrustStore* start,
                                                          absl::Span<const Bytes> newer,
                                                          int64_t now, const Limits& limits) {
    const TrustStore* prev = start;
    for (Bytes doc : newer) {
      auto next = Load(doc, prev, limits);
      if (!next.ok()) return next.status();
      current = *std::move(next);
      prev = current.get();
    }
    if (now >= prev->spec().expires_at) {
      return MakeError(Error::kTrustExpired,
                       absl::StrCat("trust version ", prev->version(), " expired at ",
                                    Rfc3339(prev->spec().expires_at), "; now is ", Rfc3339(now)));
    }
    if (!current) {  // Rotate with no newer documents: a copy of the start.
      current = std::unique_ptr<TrustStore>(new TrustStore(*start));
    }
    return current;
  }
};

absl::StatusOr<std::unique_ptr<TrustStore>> TrustStore::Open(Bytes pinned,
                                                             absl::Span<const Bytes> newer,
                                                             int64_t now, const Limits& limits) {
  if (newer.size() > limits.max_rotations) {
    return MakeError(
        Error::kTrustRotationCap,
        absl::StrCat(newer.size(), " trust rotations; the cap is ", limits.max_rotations));
  }
  auto pinned_store = TrustLoader::Load(pinned, nullptr, limits);
  if (!pinned_store.ok()) return pinned_store.status();
  const TrustStore* start = pinned_store->get();
  return TrustLoader::Walk(*std::move(pinned_store), start, newer, now, limits);
}

absl::StatusOr<std::unique_ptr<TrustStore>> TrustStore::Rotate(absl::Span<const Bytes> newer,
                                                               int64_t now) const {
  if (newer.size() > limits_.max_rotations) {
    return MakeError(
        Error::kTrustRotationCap,
        absl::StrCat(newer.size(), " trust rotations; the cap is ", limits_.max_rotations));
  }
  return TrustLoader::Walk(nullptr, this, newer, now, limits_);
}

const TrustKey* TrustStore::Find(const KeyId& id) const { return FindIn(spec_, id); }

}  // namespace edict::transport
