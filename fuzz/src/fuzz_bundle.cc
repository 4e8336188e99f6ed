// Bundle envelope parse + verify against the fixed test trust store (fuzz/keys/), plus
// DescribeBundle (`edictctl inspect`).
//
// Input: one mode byte, then bytes.
//   even mode: the bytes are a bundle (EDB1), verified as they are. Mutations of the
//              signed seeds mostly stop at the signature checks (steps 1-5).
//   odd mode:  the bytes are a payload; it is signed with the test signer key into a
//              bundle first, so the checks after the signatures (payload structure,
//              anti-rollback, freeze, target, catalogue version, activation) see
//              mutated payloads.
// Mode bits also pick the endpoint state, the clock, and (bit 5) an endpoint in the
// empty tenant instead of "contoso".
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "fuzz/src/common.h"
#include "policy/compiler/json.h"
#include "transport/bundle.h"
#include "transport/describe.h"

namespace {

using edict::fuzz::Check;
namespace tp = edict::transport;

const tp::EndpointIdentity& Identity(uint8_t mode) {
  static const auto* untargeted = new tp::EndpointIdentity{"", "device-1", {}};
  return (mode & 32) ? *untargeted : edict::fuzz::TestIdentity();
}

void VerifyOne(absl::Span<const uint8_t> bundle, const tp::EndpointState& state, int64_t now,
               uint8_t mode) {
  const absl::StatusOr<tp::VerifiedBundle> v =
      edict::fuzz::TestVerifier().Verify(bundle, Identity(mode), state, now);
  static const bool verbose = std::getenv("EDICT_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "verify: %s\n", v.ok() ? "ok" : v.status().ToString().c_str());
  if (!v.ok()) {
    Check(!v.status().message().empty(), "Verify error without a message");
    return;
  }
  Check(v->snapshot != nullptr, "verified bundle without a snapshot");
  Check(v->payload.data() >= bundle.data() &&
            v->payload.data() + v->payload.size() <= bundle.data() + bundle.size(),
        "verified payload is not inside the bundle");
  Check(v->digest == tp::BundleDigest(v->payload), "digest != BundleDigest(payload)");
  Check(v->serial == v->snapshot->serial(), "bundle serial != snapshot serial");
  Check(!v->key_ids.empty(), "verified bundle without a signer");
  Check(v->next_state.last_serial == v->serial, "next_state.last_serial");
  Check(v->next_state.time_floor >= state.time_floor, "time_floor went backwards");
  // The same bundle again, from the state it leaves behind, is a replay.
  const absl::StatusOr<tp::VerifiedBundle> again =
      edict::fuzz::TestVerifier().Verify(bundle, Identity(mode), v->next_state, now);
  Check(!again.ok(), "a verified bundle verifies again from its own next_state");
  edict::fuzz::QueryBurst(*v->snapshot, v->serial, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::vector<uint8_t> copy = edict::fuzz::AlignedCopy({data + 1, size - 1});
  const absl::Span<const uint8_t> bytes(copy);

  // Describing is not verifying: any bundle-shaped input, and its JSON must parse.
  const absl::StatusOr<std::string> described = tp::DescribeBundle(bytes);
  if (described.ok())
    edict::fuzz::CheckDescribeJson(*described, "DescribeBundle wrote invalid JSON");

  tp::EndpointState state;
  int64_t now = edict::fuzz::kNow;
  if (mode & 2) state.last_serial = 300;
  if (mode & 4) state.time_floor = edict::fuzz::kNow + 200 * 86400;
  if (mode & 8) now = 0;
  if (mode & 16) state.rollback_epoch = 1;

  if ((mode & 1) == 0) {
    VerifyOne(bytes, state, now, mode);
    return 0;
  }
  const tp::PrivateSigningKey* keys[] = {&edict::fuzz::TestKey("signer1")};
  const absl::StatusOr<std::vector<uint8_t>> bundle = tp::SignBundle(bytes, keys);
  if (!bundle.ok()) return 0;
  VerifyOne(*bundle, state, now, mode);
  return 0;
}
