// Kernel benchmarks: Resolve and MayUse at 10 .. 100,000 rules, activation of ~1 MiB.
//
// Synthetic policies: a fixed baseline of un-grouped rules per setting / cell (identity,
// plan, OS and domain conditions, as a real baseline has) and the rest targeted at
// groups (1-2 of a universe that grows with the policy), each with a random identity /
// plan / OS term, mandatory or recommended. Contexts carry 1-3 groups of the universe.
// Run with e.g. --benchmark_repetitions=10 --benchmark_report_aggregates_only=true.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "policy/edict_generated.h"

namespace edict {
namespace {

struct Built {
  std::vector<uint8_t> payload;
  std::unique_ptr<std::max_align_t[]> arena;
  size_t arena_size = 0;
  const Snapshot* snapshot = nullptr;
  std::vector<std::string> groups;
  int rules = 0;
};

flatbuffers::Offset<fb::Condition> RandomCondition(flatbuffers::FlatBufferBuilder& b,
                                                   std::mt19937& rng,
                                                   const std::vector<std::string>* universe) {
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> groups = 0;
  if (universe != nullptr) {
    std::vector<std::string> g = {(*universe)[rng() % universe->size()]};
    if (rng() % 3 == 0) g.push_back((*universe)[rng() % universe->size()]);
    groups = b.CreateVectorOfStrings(g);
  }
  const int pick = rng() % 4;
  return fb::CreateCondition(
      b, pick == 0 ? static_cast<fb::IdentityKind>(1 + rng() % 2) : fb::IdentityKind_Any,
      pick == 1 ? static_cast<fb::Tri>(1 + rng() % 2) : fb::Tri_Any, fb::Tri_Any,
      pick == 2 ? static_cast<fb::Plan>(1 + rng() % 7) : static_cast<fb::Plan>(0),
      pick == 3 ? 60 + static_cast<int>(rng() % 2) : 0, 0, static_cast<fb::DeviceState>(0),
      static_cast<fb::DeviceState>(0), groups);
}

std::unique_ptr<Built> Build(int n, uint32_t seed = 1) {
  auto out = std::make_unique<Built>();
  std::mt19937 rng(seed);
  const int universe = n / 3 > 4 ? n / 3 : 4;
  for (int i = 0; i < universe; ++i) out->groups.push_back("group-" + std::to_string(i));
  std::vector<int> bools;
  for (const SettingSpec& s : catalog::kSettings) {
    if (!s.fixed && (s.setters & kSetterAdmin) && s.type == SettingType::kBool) {
      bools.push_back(s.num);
    }
  }
  std::vector<std::pair<int, int>> cells;
  for (size_t c = 0; c < catalog::kDataClasses.size(); ++c) {
    for (size_t p = 0; p < catalog::kPurposes.size(); ++p) {
      bool fixed = false;
      for (const auto& r : catalog::BuiltinRulesFor(c, p)) fixed |= r.fixed;
      if (!fixed) cells.push_back({static_cast<int>(c), static_cast<int>(p)});
    }
  }
  flatbuffers::FlatBufferBuilder b(1 << 20);
  std::vector<flatbuffers::Offset<fb::SettingRule>> settings;
  std::vector<flatbuffers::Offset<fb::DataUseRule>> data_use;
  const int baseline = 4;  // un-grouped rules per setting / per cell
  for (int i = 0; i < n; ++i) {
    const bool grouped = i >= baseline * static_cast<int>(bools.size());
    const int s = bools[i % bools.size()];
    auto id = b.CreateString(catalog::kSettings[s].id);
    auto v = fb::CreateBoolValue(b, rng() % 2).Union();
    auto w = RandomCondition(b, rng, grouped ? &out->groups : nullptr);
    settings.push_back(
        fb::CreateSettingRule(b, id, static_cast<fb::Level>(rng() % 2), fb::Value_BoolValue, v, w));
    const bool cell_grouped = i >= baseline * static_cast<int>(cells.size());
    const auto& cell = cells[i % cells.size()];
    auto c = b.CreateString(catalog::kDataClasses[cell.first].id);
    auto p = b.CreateString(catalog::kPurposes[cell.second].id);
    auto dw = RandomCondition(b, rng, cell_grouped ? &out->groups : nullptr);
    data_use.push_back(fb::CreateDataUseRule(b, c, p, static_cast<fb::Effect>(rng() % 2),
                                             static_cast<fb::Obligation>(rng() % 16), dw));
  }
  auto header = fb::CreateHeader(b, 1, 1, 77);
  b.Finish(fb::CreatePayload(b, header, b.CreateVector(settings), b.CreateVector(data_use)),
           fb::PayloadIdentifier());
  out->payload.assign(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  out->arena_size = *Snapshot::ArenaSize(out->payload);
  out->arena.reset(new std::max_align_t[out->arena_size / sizeof(std::max_align_t) + 1]);
  out->snapshot = *Snapshot::Activate(
      out->payload,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(out->arena.get()), out->arena_size));
  out->rules = 2 * n;
  return out;
}

struct Contexts {
  static constexpr int kCount = 256;
  std::vector<std::string_view> names;  // 3 per context
  std::vector<Context> ctx;
  explicit Contexts(const Built& built) {
    std::mt19937 rng(99);
    names.resize(3 * kCount);
    for (int i = 0; i < kCount; ++i) {
      Context c;
      c.identity = static_cast<Identity>(rng() % 3);
      c.domain_joined = static_cast<TriState>(rng() % 3);
      c.plan = static_cast<Plan>(1u << (rng() % 3));
      c.os_generation = 59 + rng() % 3;
      const int ng = 1 + rng() % 3;
      for (int k = 0; k < ng; ++k) names[3 * i + k] = built.groups[rng() % built.groups.size()];
      ctx.push_back(c);
    }
    for (int i = 0; i < kCount; ++i) {
      ctx[i].groups = absl::Span<const std::string_view>(&names[3 * i], 1 + i % 3);
    }
  }
};

void BM_Resolve(benchmark::State& state) {
  auto built = Build(static_cast<int>(state.range(0)));
  Contexts contexts(*built);
  const int settings = static_cast<int>(catalog::kSettings.size());
  int i = 0;
  for (auto _ : state) {
    const Resolution r = built->snapshot->Resolve(i % settings, contexts.ctx[i & 255]);
    benchmark::DoNotOptimize(r);
    i += 7;
  }
  state.counters["arena_bytes_per_rule"] = static_cast<double>(built->arena_size) / built->rules;
}
BENCHMARK(BM_Resolve)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_MayUse(benchmark::State& state) {
  auto built = Build(static_cast<int>(state.range(0)));
  Contexts contexts(*built);
  const int classes = static_cast<int>(catalog::kDataClasses.size());
  const int purposes = static_cast<int>(catalog::kPurposes.size());
  int i = 0;
  for (auto _ : state) {
    const DataUseDecision d =
        built->snapshot->MayUse(i % classes, (i / classes) % purposes, contexts.ctx[i & 255]);
    benchmark::DoNotOptimize(d);
    i += 3;
  }
  state.counters["arena_bytes_per_rule"] = static_cast<double>(built->arena_size) / built->rules;
}
BENCHMARK(BM_MayUse)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_Activate(benchmark::State& state) {
  // Grow the policy until the payload is about 1 MiB.
  int n = 4000;
  auto built = Build(n);
  while (built->payload.size() < (1u << 20)) {
    n = static_cast<int>(n * (1.0 * (1 << 20) / built->payload.size())) + 1;
    built = Build(n);
  }
  const absl::Span<uint8_t> arena(reinterpret_cast<uint8_t*>(built->arena.get()),
                                  built->arena_size);
  for (auto _ : state) {
    auto s = Snapshot::Activate(built->payload, arena);
    benchmark::DoNotOptimize(s);
  }
  state.counters["payload_bytes"] = static_cast<double>(built->payload.size());
  state.counters["rules"] = built->rules;
  state.counters["arena_bytes_per_rule"] = static_cast<double>(built->arena_size) / built->rules;
  state.SetBytesProcessed(state.iterations() * built->payload.size());
}
BENCHMARK(BM_Activate)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edict

BENCHMARK_MAIN();
