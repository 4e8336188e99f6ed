// Trust document parse + rotation, plus DescribeTrust (`edictctl inspect`).
//
// Input: one mode byte, then a trust document (EDT1).
//   even mode: the document as it is: opened as a pinned document, and walked as the
//              rotation after the fixed test trust store (version 1, fuzz/keys/).
//   odd mode:  the document's body is re-signed with the test root keys (root1 and
//              root2; bit 1 adds signer1, bit 2 drops root2) before both, so mutated
//              bodies get past the signature checks to the key, threshold, date,
//              version and epoch checks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "flatbuffers/flatbuffers.h"
#include "fuzz/src/common.h"
#include "policy/compiler/json.h"
#include "transport/describe.h"
#include "transport/trust.h"
#include "transport/trust_generated.h"

namespace {

using edict::fuzz::Check;
namespace tp = edict::transport;

void OpenAndRotate(absl::Span<const uint8_t> doc) {
  const int64_t now = edict::fuzz::kNow;
  absl::StatusOr<std::unique_ptr<tp::TrustStore>> pinned = tp::TrustStore::Open(doc, {}, now);
  static const bool verbose = std::getenv("EDICT_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "open: %s\n", pinned.ok() ? "ok" : pinned.status().ToString().c_str());
  if (pinned.ok()) {
    const tp::TrustStore& s = **pinned;
    Check(s.version() >= 1, "opened trust version 0");
    Check(s.spec().expires_at > now, "opened an expired trust document");
    for (const tp::TrustKey& k : s.spec().keys) {
      Check(s.Find(k.key.id()) != nullptr, "TrustStore::Find misses a listed key");
    }
    // Any store that opens can back a verifier.
    Check(
        tp::BundleVerifier::Create(std::shared_ptr<const tp::TrustStore>(std::move(*pinned))).ok(),
        "BundleVerifier::Create refused an opened trust store");
  }
  const tp::Bytes newer[] = {doc};
  const absl::StatusOr<std::unique_ptr<tp::TrustStore>> next =
      edict::fuzz::TestTrust()->Rotate(newer, now);
  if (verbose)
    std::fprintf(stderr, "rotate: %s\n", next.ok() ? "ok" : next.status().ToString().c_str());
  if (next.ok()) {
    Check((*next)->version() == edict::fuzz::TestTrust()->version() + 1,
          "rotation skipped a version");
    Check((*next)->spec().rollback_epoch >= edict::fuzz::TestTrust()->spec().rollback_epoch,
          "rotation lowered the epoch");
  }
  // The same document twice is never a valid walk (version N+1 then N+1 again).
  const tp::Bytes twice[] = {doc, doc};
  Check(!edict::fuzz::TestTrust()->Rotate(twice, now).ok(), "rotation accepted a repeated version");
}

// The document's body re-signed by test keys, or empty if it has no readable body.
std::vector<uint8_t> Resign(absl::Span<const uint8_t> doc, uint8_t mode) {
  flatbuffers::Verifier v(doc.data(), doc.size());
  if (!edict::transport::fb::VerifyTrustDocumentBuffer(v)) return {};
  const auto* d = edict::transport::fb::GetTrustDocument(doc.data());
  if (d->body() == nullptr) return {};
  const tp::Bytes body(d->body()->data(), d->body()->size());
  tp::Sha256 h;
  h.Update(tp::Bytes(reinterpret_cast<const uint8_t*>(tp::kTrustDomain), sizeof(tp::kTrustDomain)));
  h.Update(body);
  const tp::Digest digest = h.Finish();
  std::vector<const char*> signers = {"root1"};
  if ((mode & 4) == 0) signers.push_back("root2");
  if (mode & 2) signers.push_back("signer1");
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<edict::transport::fb::Signature>> sigs;
  for (const char* name : signers) {
    const tp::PrivateSigningKey& key = edict::fuzz::TestKey(name);
    const auto sig = key.SignDigest(digest);
    Check(sig.ok(), "SignDigest failed");
    sigs.push_back(edict::transport::fb::CreateSignature(
        fbb, fbb.CreateVector(key.id().data(), key.id().size()),
        edict::transport::fb::SigAlgorithm::EcdsaP256Sha256, fbb.CreateVector(*sig)));
  }
  auto sigs_vec = fbb.CreateVector(sigs);
  fbb.ForceVectorAlignment(body.size(), 1, 8);
  auto body_vec = fbb.CreateVector(body.data(), body.size());
  fbb.Finish(
      edict::transport::fb::CreateTrustDocument(fbb, d->format_version(), body_vec, sigs_vec),
      edict::transport::fb::TrustDocumentIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::vector<uint8_t> copy = edict::fuzz::AlignedCopy({data + 1, size - 1});
  const absl::Span<const uint8_t> doc(copy);

  const absl::StatusOr<std::string> described = tp::DescribeTrust(doc);
  if (described.ok())
    edict::fuzz::CheckDescribeJson(*described, "DescribeTrust wrote invalid JSON");
  if ((mode & 1) == 0) {
    OpenAndRotate(doc);
    return 0;
  }
  const std::vector<uint8_t> resigned = Resign(doc, mode);
  if (!resigned.empty()) OpenAndRotate(resigned);
  return 0;
}
