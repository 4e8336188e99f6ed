#include "transport/describe.h"

#include <cstdio>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "policy/aligned.h"
#include "policy/compiler/json.h"
#include "policy/edict_generated.h"
#include "transport/bundle.h"
#include "transport/bundle_generated.h"
#include "transport/internal.h"
#include "transport/trust.h"
#include "transport/trust_generated.h"

namespace edict::transport {

using internal::VecBytes;

namespace {

// `s` as a JSON string literal (json::Quote, the tree's one JSON string escaper): control
// bytes escaped, well-formed UTF-8 kept, every byte of malformed UTF-8 replaced by U+FFFD, so
// the output is always valid JSON (descriptions, tenants and key names come from unverified
// documents).
std::string Quote(absl::string_view s) { return json::Quote(std::string_view(s.data(), s.size())); }

std::string Quote(const flatbuffers::String* s) {
  return Quote(s ? absl::string_view(s->data(), s->size()) : absl::string_view());
}

std::string StringArray(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::string out = "[";
  if (v) {
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      if (i) out += ",";
      out += Quote(v->Get(i));
    }
  }
  return out + "]";
}

std::string AlgorithmJson(fb::SigAlgorithm a) {
  return Quote(AlgorithmName(static_cast<Algorithm>(a)));
}

std::string SignaturesJson(const internal::FbSignatures* sigs) {
  std::string out = "[";
  if (sigs) {
    for (flatbuffers::uoffset_t i = 0; i < sigs->size(); ++i) {
      const fb::Signature* s = sigs->Get(i);
      RawSignature raw;
      absl::StrAppend(&out, i ? "," : "", "{\"key_id\":", Quote(Hex(VecBytes(s->key_id()))),
                      ",\"algorithm\":", AlgorithmJson(s->algorithm()),
                      ",\"signature_bytes\":", s->signature()->size(), ",\"strict_der\":",
                      ParseStrictDerSignature(VecBytes(s->signature()), &raw) ? "true" : "false",
                      "}");
    }
  }
  return out + "]";
}

// A bundle envelope and its payload, structure only (no signature is checked). `policy` is
// null when the payload does not pass the FlatBuffers verifier.
struct BundleParts {
  const fb::Bundle* envelope = nullptr;
  Bytes payload;
  const edict::fb::Payload* policy = nullptr;
};

absl::StatusOr<BundleParts> ReadBundle(Bytes bytes, const Limits& limits) {
  if (bytes.size() > limits.max_bundle_bytes) {
    return absl::InvalidArgumentError("bundle is larger than the 4 MiB cap");
  }
  if (!IsFlatBufferAligned(bytes.data())) {
    return absl::InvalidArgumentError("bundle does not start on an 8-byte boundary");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), 4, 1 + limits.max_signatures);
  if (!fb::VerifyBundleBuffer(verifier)) {
    return absl::InvalidArgumentError("not a well-formed bundle envelope");
  }
  BundleParts parts;
  parts.envelope = fb::GetBundle(bytes.data());
  parts.payload = VecBytes(parts.envelope->payload());
  if (parts.payload.empty() || !IsFlatBufferAligned(parts.payload.data())) return parts;
  flatbuffers::Verifier pv(parts.payload.data(), parts.payload.size(), limits.max_payload_depth,
                           limits.max_payload_tables);
  if (edict::fb::VerifyPayloadBuffer(pv))
    parts.policy = edict::fb::GetPayload(parts.payload.data());
  return parts;
}

struct TrustParts {
  const fb::TrustDocument* envelope = nullptr;
  const fb::TrustBody* body = nullptr;
};

absl::StatusOr<TrustParts> ReadTrust(Bytes bytes, const Limits& limits) {
  if (bytes.size() > limits.max_trust_bytes) {
    return absl::InvalidArgumentError("trust document is larger than the 512 KiB cap");
  }
  if (!IsFlatBufferAligned(bytes.data())) {
    return absl::InvalidArgumentError("trust document does not start on an 8-byte boundary");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), 4, 2 + limits.max_signatures);
  if (!fb::VerifyTrustDocumentBuffer(verifier)) {
    return absl::InvalidArgumentError("not a well-formed trust document");
  }
  TrustParts parts;
  parts.envelope = fb::GetTrustDocument(bytes.data());
  const Bytes body = VecBytes(parts.envelope->body());
  flatbuffers::Verifier bv(body.data(), body.size(), 4, 2 + limits.max_trust_keys);
  if (body.size() < 8 || !IsFlatBufferAligned(body.data()) ||
      !bv.VerifyBuffer<fb::TrustBody>("EDTB")) {
    return absl::InvalidArgumentError("trust document body is malformed");
  }
  parts.body = flatbuffers::GetRoot<fb::TrustBody>(body.data());
  return parts;
}

}  // namespace

DocumentKind DetectDocument(Bytes bytes) {
  if (bytes.size() < 8) return DocumentKind::kUnknown;
  if (flatbuffers::BufferHasIdentifier(bytes.data(), fb::BundleIdentifier())) {
    return DocumentKind::kBundle;
  }
  if (flatbuffers::BufferHasIdentifier(bytes.data(), fb::TrustDocumentIdentifier())) {
    return DocumentKind::kTrust;
  }
  if (flatbuffers::BufferHasIdentifier(bytes.data(), edict::fb::PayloadIdentifier())) {
    return DocumentKind::kPayload;
  }
  return DocumentKind::kUnknown;
}

absl::StatusOr<std::string> DescribeBundle(Bytes bytes) {
  absl::StatusOr<BundleParts> parts = ReadBundle(bytes, Limits());
  if (!parts.ok()) return parts.status();
  const fb::Bundle* env = parts->envelope;
  const Bytes payload = parts->payload;
  std::string out = absl::StrCat("{\"kind\":\"bundle\",\"format_version\":", env->format_version(),
                                 ",\"bytes\":", bytes.size(), ",\"payload_bytes\":", payload.size(),
                                 ",\"payload_sha256\":", Quote(Hex(Sha256::Hash(payload))),
                                 ",\"signed_digest\":", Quote(KeyIdHex(BundleDigest(payload))),
                                 ",\"signatures\":", SignaturesJson(env->signatures()));
  if (parts->policy != nullptr) {
    const edict::fb::Header* h = parts->policy->header();
    const edict::fb::Target* t = h->target();
    absl::StrAppend(&out,
                    ",\"payload_valid\":true,\"header\":{\"format_version\":", h->format_version(),
                    ",\"catalog_version\":", h->catalog_version(), ",\"serial\":", h->serial(),
                    ",\"issued_at\":", h->issued_at(), ",\"expires_at\":", h->expires_at(),
                    ",\"tenant\":", Quote(t ? t->tenant() : nullptr),
                    ",\"device_ids\":", StringArray(t ? t->device_ids() : nullptr),
                    ",\"groups\":", StringArray(t ? t->groups() : nullptr),
                    ",\"description\":", Quote(h->description()), "}");
  } else {
    absl::StrAppend(&out, ",\"payload_valid\":false");
  }
  return out + "}";
}

absl::StatusOr<std::string> DescribeTrust(Bytes bytes) {
  absl::StatusOr<TrustParts> parts = ReadTrust(bytes, Limits());
  if (!parts.ok()) return parts.status();
  const fb::TrustDocument* env = parts->envelope;
  const fb::TrustBody* tb = parts->body;
  std::string keys = "[";
  if (tb->keys()) {
    for (flatbuffers::uoffset_t i = 0; i < tb->keys()->size(); ++i) {
      const fb::TrustKey* k = tb->keys()->Get(i);
      absl::StrAppend(
          &keys, i ? "," : "", "{\"key_id\":", Quote(Hex(VecBytes(k->key_id()))), ",\"role\":",
          Quote(k->role() == fb::KeyRole::Root     ? "root"
                : k->role() == fb::KeyRole::Signer ? "signer"
                                                   : "unknown"),
          ",\"status\":",
          Quote(k->status() == fb::KeyStatus::Active    ? "active"
                : k->status() == fb::KeyStatus::Revoked ? "revoked"
                                                        : "unknown"),
          ",\"algorithm\":", AlgorithmJson(k->algorithm()), ",\"name\":", Quote(k->name()), "}");
    }
  }
  keys += "]";
  return absl::StrCat("{\"kind\":\"trust\",\"format_version\":", env->format_version(),
                      ",\"version\":", tb->version(), ",\"issued_at\":", tb->issued_at(),
                      ",\"expires_at\":", tb->expires_at(),
                      ",\"root_threshold\":", tb->root_threshold(),
                      ",\"signer_threshold\":", tb->signer_threshold(),
                      ",\"rollback_epoch\":", tb->rollback_epoch(),
                      ",\"epoch_serial_floor\":", tb->epoch_serial_floor(),
                      ",\"description\":", Quote(tb->description()), ",\"keys\":", keys,
                      ",\"signatures\":", SignaturesJson(env->signatures()), "}");
}

absl::StatusOr<uint64_t> PeekBundleSerial(Bytes bundle) {
  absl::StatusOr<BundleParts> parts = ReadBundle(bundle, Limits());
  if (!parts.ok()) return parts.status();
  if (parts->policy == nullptr) return absl::InvalidArgumentError("bundle payload is malformed");
  return parts->policy->header()->serial();
}

absl::StatusOr<uint64_t> PeekTrustVersion(Bytes trust) {
  absl::StatusOr<TrustParts> parts = ReadTrust(trust, Limits());
  if (!parts.ok()) return parts.status();
  return parts->body->version();
}

}  // namespace edict::transport
