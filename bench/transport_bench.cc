// Transport benchmarks: verify + activate bundles of 4 KiB, 64 KiB and 1 MiB with 1 and 3
// signatures, against the floor measured in the same run with plain mbedTLS (one SHA-256
// pass over the signed bytes plus one mbedtls_ecdsa_verify per signature), and the split
// of our own work (envelope and payload structure checks, kernel activation).
//
//   ninja -C build transport_bench && build/bench/transport_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "policy/edict_generated.h"
#include "transport/bundle.h"
#include "transport/bundle_generated.h"
#include "transport/trust.h"

namespace edict::transport {
namespace {

constexpr int64_t kNow = 1800000000;

std::vector<uint8_t> MakePayload(size_t rules) {
  namespace pf = edict::fb;
  flatbuffers::FlatBufferBuilder fbb(rules * 160 + 1024);
  std::vector<flatbuffers::Offset<pf::SettingRule>> v;
  for (size_t i = 0; i < rules; ++i) {
    auto setting = fbb.CreateString("communicator.ceip");
    auto value = pf::CreateBoolValue(fbb, i % 2 == 0);
    auto group = fbb.CreateString("group-" + std::to_string(i));
    auto groups = fbb.CreateVector(std::vector<flatbuffers::Offset<flatbuffers::String>>{group});
    pf::ConditionBuilder cb(fbb);
    cb.add_groups(groups);
    auto when = cb.Finish();
    auto note = fbb.CreateString("rule " + std::to_string(i) + ": an admin's note on it");
    v.push_back(pf::CreateSettingRule(fbb, setting, pf::Level_Mandatory, pf::Value_BoolValue,
                                      value.Union(), when, false, note));
  }
  auto rules_vec = fbb.CreateVector(v);
  auto target = pf::CreateTarget(fbb, fbb.CreateString("contoso"));
  auto header = pf::CreateHeader(fbb, 1, 1, 10, kNow - 60, kNow + 86400, target);
  fbb.Finish(pf::CreatePayload(fbb, header, rules_vec), pf::PayloadIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

// A payload of about `target` bytes (within a few percent).
std::vector<uint8_t> PayloadOfSize(size_t target) {
  const size_t per_rule = (MakePayload(200).size() - MakePayload(0).size()) / 200;
  size_t rules = target > 512 ? (target - 512) / per_rule : 1;
  return MakePayload(rules);
}

struct World {
  std::unique_ptr<PrivateSigningKey> root;
  std::unique_ptr<PrivateSigningKey> signers[3];
  std::shared_ptr<const TrustStore> trust[4];                      // by signer threshold 1..3
  std::map<std::pair<size_t, int>, std::vector<uint8_t>> bundles;  // (kib, sigs)
  std::map<size_t, std::vector<uint8_t>> payloads;
};

World& TheWorld() {
  static World* w = [] {
    auto* w = new World;
    w->root = *PrivateSigningKey::Generate();
    for (auto& s : w->signers) s = *PrivateSigningKey::Generate();
    for (uint32_t t = 1; t <= 3; ++t) {
      TrustSpec spec;
      spec.issued_at = kNow - 86400;
      spec.expires_at = kNow + 365 * 86400;
      spec.signer_threshold = t;
      spec.keys.push_back({w->root->public_key(), KeyRole::kRoot, KeyStatus::kActive, ""});
      for (auto& s : w->signers) {
        spec.keys.push_back({s->public_key(), KeyRole::kSigner, KeyStatus::kActive, ""});
      }
      const PrivateSigningKey* r = w->root.get();
      auto doc = BuildTrustDocument(spec, {&r, 1});
      w->trust[t] = *TrustStore::Open(*doc, {}, kNow);
    }
    return w;
  }();
  return *w;
}

const std::vector<uint8_t>& Payload(size_t kib) {
  World& w = TheWorld();
  auto it = w.payloads.find(kib);
  if (it == w.payloads.end()) it = w.payloads.emplace(kib, PayloadOfSize(kib * 1024)).first;
  return it->second;
}

const std::vector<uint8_t>& Bundle(size_t kib, int sigs) {
  World& w = TheWorld();
  auto key = std::make_pair(kib, sigs);
  auto it = w.bundles.find(key);
  if (it == w.bundles.end()) {
    std::vector<const PrivateSigningKey*> keys;
    for (int i = 0; i < sigs; ++i) keys.push_back(w.signers[i].get());
    it = w.bundles.emplace(key, *SignBundle(Payload(kib), keys)).first;
  }
  return it->second;
}

// Full Verify: every check, one hash, `sigs` verifications, kernel activation.
void BM_VerifyActivate(benchmark::State& state) {
  const size_t kib = state.range(0);
  const int sigs = static_cast<int>(state.range(1));
  const auto& bundle = Bundle(kib, sigs);
  auto verifier = *BundleVerifier::Create(TheWorld().trust[sigs]);
  const EndpointIdentity id{"contoso", "device-1", {}};
  for (auto _ : state) {
    auto r = verifier->Verify(bundle, id, {0, 5, 0}, kNow);
    if (!r.ok()) state.SkipWithError(std::string(r.status().message()).c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * bundle.size());
  state.counters["bundle_bytes"] = bundle.size();
}
BENCHMARK(BM_VerifyActivate)
    ->ArgsProduct({{4, 64, 1024}, {1, 3}})
    ->ArgNames({"kib", "sigs"})
    ->Unit(benchmark::kMicrosecond);

// The floor, with plain mbedTLS: one SHA-256 pass over domain || payload, then `sigs`
// mbedtls_ecdsa_verify calls on already-decoded (r, s) with warm key contexts.
void BM_Floor(benchmark::State& state) {
  const size_t kib = state.range(0);
  const int sigs = static_cast<int>(state.range(1));
  const auto& payload = Payload(kib);
  World& w = TheWorld();
  const Digest digest = BundleDigest(payload);
  mbedtls_pk_context pk[3];
  mbedtls_mpi r[3], s[3];
  for (int i = 0; i < sigs; ++i) {
    mbedtls_pk_init(&pk[i]);
    auto der = w.signers[i]->public_key().spki_der();
    mbedtls_pk_parse_public_key(&pk[i], der.data(), der.size());
    auto sig = *w.signers[i]->SignDigest(digest);
    RawSignature raw;
    ParseStrictDerSignature(sig, &raw);
    mbedtls_mpi_init(&r[i]);
    mbedtls_mpi_init(&s[i]);
    mbedtls_mpi_read_binary(&r[i], raw.r.data(), 32);
    mbedtls_mpi_read_binary(&s[i], raw.s.data(), 32);
  }
  for (auto _ : state) {
    unsigned char d[32];
    mbedtls_sha256_context ctx;
    mbedtls_sha256_init(&ctx);
    mbedtls_sha256_starts_ret(&ctx, 0);
    mbedtls_sha256_update_ret(&ctx, reinterpret_cast<const unsigned char*>(kBundleDomain),
                              sizeof(kBundleDomain));
    mbedtls_sha256_update_ret(&ctx, payload.data(), payload.size());
    mbedtls_sha256_finish_ret(&ctx, d);
    mbedtls_sha256_free(&ctx);
    for (int i = 0; i < sigs; ++i) {
      mbedtls_ecp_keypair* ec = mbedtls_pk_ec(pk[i]);
      int ret = mbedtls_ecdsa_verify(&ec->grp, d, 32, &ec->Q, &r[i], &s[i]);
      if (ret != 0) state.SkipWithError("floor verify failed");
    }
    benchmark::DoNotOptimize(d);
  }
  for (int i = 0; i < sigs; ++i) {
    mbedtls_pk_free(&pk[i]);
    mbedtls_mpi_free(&r[i]);
    mbedtls_mpi_free(&s[i]);
  }
  state.SetBytesProcessed(state.iterations() * payload.size());
}
BENCHMARK(BM_Floor)
    ->ArgsProduct({{4, 64, 1024}, {1, 3}})
    ->ArgNames({"kib", "sigs"})
    ->Unit(benchmark::kMicrosecond);

// Split, part 1: one SHA-256 pass (mbedTLS) over the signed bytes.
void BM_Sha256Pass(benchmark::State& state) {
  const auto& payload = Payload(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(BundleDigest(payload));
  state.SetBytesProcessed(state.iterations() * payload.size());
}
BENCHMARK(BM_Sha256Pass)->Arg(4)->Arg(64)->Arg(1024)->ArgName("kib")->Unit(benchmark::kMicrosecond);

// Split, part 2: one P-256 verification through our wrapper (mutex + range checks).
void BM_P256VerifyOurs(benchmark::State& state) {
  World& w = TheWorld();
  const Digest digest = BundleDigest(Payload(4));
  auto sig = *w.signers[0]->SignDigest(digest);
  const PublicKey& key = w.signers[0]->public_key();
  for (auto _ : state) {
    if (!key.VerifyDer(digest, sig)) state.SkipWithError("verify failed");
  }
}
BENCHMARK(BM_P256VerifyOurs)->Unit(benchmark::kMicrosecond);

// Split, part 3: envelope structure (FlatBuffers verifier over the bundle).
void BM_EnvelopeStructure(benchmark::State& state) {
  const auto& bundle = Bundle(state.range(0), 1);
  for (auto _ : state) {
    flatbuffers::Verifier v(bundle.data(), bundle.size(), 4, 17);
    benchmark::DoNotOptimize(fb::VerifyBundleBuffer(v));
  }
}
BENCHMARK(BM_EnvelopeStructure)->Arg(4)->Arg(64)->Arg(1024)->ArgName("kib");

// Split, part 4: payload structure (FlatBuffers verifier over the payload).
void BM_PayloadStructure(benchmark::State& state) {
  const auto& payload = Payload(state.range(0));
  for (auto _ : state) {
    flatbuffers::Verifier v(payload.data(), payload.size(), 64, 1000000);
    benchmark::DoNotOptimize(edict::fb::VerifyPayloadBuffer(v));
  }
  state.SetBytesProcessed(state.iterations() * payload.size());
}
BENCHMARK(BM_PayloadStructure)
    ->Arg(4)
    ->Arg(64)
    ->Arg(1024)
    ->ArgName("kib")
    ->Unit(benchmark::kMicrosecond);

// Split, part 5: kernel activation (ArenaSize + Activate) into a preallocated arena.
void BM_KernelActivation(benchmark::State& state) {
  const auto& payload = Payload(state.range(0));
  const size_t need = *Snapshot::ArenaSize(payload);
  std::vector<std::max_align_t> arena(need / sizeof(std::max_align_t) + 1);
  for (auto _ : state) {
    auto n = Snapshot::ArenaSize(payload);
    auto s =
        Snapshot::Activate(payload, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(arena.data()),
                                                        arena.size() * sizeof(std::max_align_t)));
    if (!n.ok() || !s.ok()) state.SkipWithError("activation failed");
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(state.iterations() * payload.size());
  state.counters["rules"] = edict::fb::GetPayload(payload.data())->settings()->size();
}
BENCHMARK(BM_KernelActivation)
    ->Arg(4)
    ->Arg(64)
    ->Arg(1024)
    ->ArgName("kib")
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace edict::transport

BENCHMARK_MAIN();
