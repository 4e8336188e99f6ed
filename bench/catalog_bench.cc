// Catalogue benchmarks (issue 18): a run-time product catalogue of 10,000 settings and
// 100 context attributes against the built-in catalogue, in the same run.
//
//   BM_CatalogLoad        CatalogSet::Create from .edcat bytes (file bytes, heap kept)
//   BM_ResolveBuiltin     10,000 rules over the built-in settings (kernel_bench's shape)
//   BM_ResolveProduct     10,000 rules over product settings (as many as the built-in
//                         benchmark names, or 2,500), with or without catalogue-attribute
//                         terms on a quarter of them; contexts carry 6 attributes
//   BM_ActivateBuiltin    a ~1 MiB built-in payload against the built-in catalogue
//   BM_ActivateInLargeSet the same payload against built-in + the 10,000-setting catalogue
//
// Run with --benchmark_repetitions=7 --benchmark_report_aggregates_only=true.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_set.h"
#include "policy/catalog/catalog_source.h"
#include "policy/edict_generated.h"

#if defined(__GLIBC__)
#include <malloc.h>
// Heap bytes in use (glibc), to count what a loaded catalogue set keeps.
size_t HeapInUse() { return mallinfo2().uordblks; }
#else
size_t HeapInUse() { return 0; }
#endif

namespace edict {
namespace {

constexpr int kSettings = 10000;
constexpr int kAttributes = 100;
constexpr int kRules = 10000;

// A product catalogue source: settings of every scalar type, attributes of every type.
std::string SyntheticCatalogJson() {
  std::string j = R"({"version": 1, "product": {"id": "bigvendor", "vendor": "Big Vendor",
    "display_name": "Big Vendor Agent"}, "settings": [)";
  for (int i = 0; i < kSettings; ++i) {
    if (i != 0) j += ",";
    const int t = i % 4;
    absl::StrAppend(&j, R"({"id": "bigvendor.setting_)", i, R"(", "num": )", i, R"(, "type": )",
                    t == 0   ? R"("Bool", "default": "false")"
                    : t == 1 ? R"("Integer", "default": "10")"
                    : t == 2 ? R"("Enum", "values": ["low", "medium", "high"], "default": "low")"
                             : R"("Duration", "default": "1h")",
                    R"(, "setters": "User Admin", "scope": "Device", "description": "Setting )", i,
                    R"( of the synthetic catalogue."})");
  }
  j += R"(], "attributes": [)";
  for (int i = 0; i < kAttributes; ++i) {
    if (i != 0) j += ",";
    const int t = i % 4;
    absl::StrAppend(&j, R"({"name": "bigvendor.attr_)", i, R"(", "type": )",
                    t == 0   ? R"("Bool")"
                    : t == 1 ? R"("Enum", "values": ["a", "b", "c", "d"])"
                    : t == 2 ? R"("IntRange", "min": 0, "max": 100)"
                             : R"("StringSet")",
                    R"(, "description": "Attribute )", i, R"(."})");
  }
  j += "]}\n";
  return j;
}

const std::string& CatalogBytes() {
  static const std::string* const kBytes = [] {
    auto b = catalogs::BuildCatalog(SyntheticCatalogJson(), "bigvendor.json");
    if (!b.ok()) {
      std::fprintf(stderr, "catalogue: %s\n", std::string(b.status().message()).c_str());
      std::abort();
    }
    return new std::string(*std::move(b));
  }();
  return *kBytes;
}

const CatalogSet& LargeSet() {
  static const std::shared_ptr<const CatalogSet> kSet = [] {
    auto s = CatalogSet::Create({{"bigvendor.edcat", CatalogBytes()}});
    if (!s.ok()) std::abort();
    return *s;
  }();
  return *kSet;
}

using StringVec =
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>>;

// kernel_bench's condition shape: one identity / domain / plan / OS term, groups optional,
// plus (for product rules) attribute terms.
flatbuffers::Offset<fb::Condition> RandomCondition(flatbuffers::FlatBufferBuilder& b,
                                                   std::mt19937& rng,
                                                   const std::vector<std::string>* universe,
                                                   bool attributes) {
  StringVec groups = 0;
  if (universe != nullptr) {
    std::vector<std::string> g = {(*universe)[rng() % universe->size()]};
    if (rng() % 3 == 0) g.push_back((*universe)[rng() % universe->size()]);
    groups = b.CreateVectorOfStrings(g);
  }
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::AttributeTerm>>> terms = 0;
  if (attributes) {
    std::vector<flatbuffers::Offset<fb::AttributeTerm>> t;
    const int a = static_cast<int>(rng() % kAttributes);
    auto name = b.CreateString(absl::StrCat("bigvendor.attr_", a));
    switch (a % 4) {
      case 0:
        t.push_back(fb::CreateAttributeTerm(b, name, static_cast<fb::Tri>(1 + rng() % 2)));
        break;
      case 1:
        t.push_back(
            fb::CreateAttributeTerm(b, name, fb::Tri_Any, b.CreateVectorOfStrings({"a", "c"})));
        break;
      case 2:
        t.push_back(fb::CreateAttributeTerm(b, name, fb::Tri_Any, 0, 10, 60));
        break;
      default:
        t.push_back(
            fb::CreateAttributeTerm(b, name, fb::Tri_Any, b.CreateVectorOfStrings({"eu", "us"})));
        break;
    }
    terms = b.CreateVector(t);
  }
  const int pick = rng() % 4;
  return fb::CreateCondition(
      b, pick == 0 ? static_cast<fb::IdentityKind>(1 + rng() % 2) : fb::IdentityKind_Any,
      pick == 1 ? static_cast<fb::Tri>(1 + rng() % 2) : fb::Tri_Any, fb::Tri_Any,
      pick == 2 ? static_cast<fb::Plan>(1 + rng() % 7) : static_cast<fb::Plan>(0),
      pick == 3 ? 60 + static_cast<int>(rng() % 2) : 0, 0, static_cast<fb::DeviceState>(0),
      static_cast<fb::DeviceState>(0), groups, static_cast<fb::Role>(0), fb::Tri_Any, 0, terms);
}

struct Built {
  std::vector<uint8_t> payload;
  std::unique_ptr<std::max_align_t[]> arena;
  size_t arena_size = 0;
  const Snapshot* snapshot = nullptr;
  std::vector<std::string> groups;
  std::vector<int> handles;  // the settings the rules name, to query
};

// `n` bool rules over `ids` (4 un-grouped per setting first, then group-targeted), as
// kernel_bench builds them; with `attributes`, every fourth rule has an attribute term.
std::unique_ptr<Built> Build(const CatalogSet& set, const std::vector<std::string>& ids, int n,
                             bool attributes) {
  auto out = std::make_unique<Built>();
  std::mt19937 rng(1);
  const int universe = n / 3 > 4 ? n / 3 : 4;
  for (int i = 0; i < universe; ++i) out->groups.push_back("group-" + std::to_string(i));
  flatbuffers::FlatBufferBuilder b(1 << 20);
  std::vector<flatbuffers::Offset<fb::SettingRule>> settings;
  const int baseline = 4;
  for (int i = 0; i < n; ++i) {
    const bool grouped = i >= baseline * static_cast<int>(ids.size());
    auto id = b.CreateString(ids[i % ids.size()]);
    auto v = fb::CreateBoolValue(b, rng() % 2).Union();
    auto w = RandomCondition(b, rng, grouped ? &out->groups : nullptr, attributes && i % 4 == 1);
    settings.push_back(
        fb::CreateSettingRule(b, id, static_cast<fb::Level>(rng() % 2), fb::Value_BoolValue, v, w));
  }
  auto header = fb::CreateHeader(b, 1, 1, 77);
  b.Finish(fb::CreatePayload(b, header, b.CreateVector(settings)), fb::PayloadIdentifier());
  out->payload.assign(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  out->arena_size = *Snapshot::ArenaSize(out->payload, set);
  out->arena.reset(new std::max_align_t[out->arena_size / sizeof(std::max_align_t) + 1]);
  out->snapshot = *Snapshot::Activate(
      out->payload,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(out->arena.get()), out->arena_size), set);
  if (out->snapshot->skipped_count() != 0) std::abort();
  for (const std::string& id : ids) out->handles.push_back(set.FindSetting(id));
  return out;
}

std::vector<std::string> BuiltinBoolIds() {
  std::vector<std::string> ids;
  for (const SettingSpec& s : catalog::kSettings) {
    if (!s.fixed && (s.setters & kSetterAdmin) && s.type == SettingType::kBool) {
      ids.emplace_back(s.id);
    }
  }
  return ids;
}

// `count` bool settings of the product (every fourth setting is a bool).
std::vector<std::string> ProductBoolIds(int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) ids.push_back(absl::StrCat("bigvendor.setting_", 4 * i));
  return ids;
}

struct Contexts {
  static constexpr int kCount = 256;
  std::vector<std::string_view> names;
  std::vector<AttributeValue> attrs;  // 6 per context
  std::vector<Context> ctx;
  Contexts(const Built& built, const CatalogSet* set) {
    static const std::string_view kRegions[] = {"eu", "us", "apac"};
    std::mt19937 rng(99);
    names.resize(3 * kCount);
    attrs.resize(6 * kCount);
    for (int i = 0; i < kCount; ++i) {
      Context c;
      c.identity = static_cast<Identity>(rng() % 3);
      c.domain_joined = static_cast<TriState>(rng() % 3);
      c.plan = static_cast<Plan>(1u << (rng() % 3));
      c.os_generation = 59 + rng() % 3;
      const int ng = 1 + rng() % 3;
      for (int k = 0; k < ng; ++k) names[3 * i + k] = built.groups[rng() % built.groups.size()];
      if (set != nullptr) {
        for (int k = 0; k < 6; ++k) {
          const int a = static_cast<int>(rng() % kAttributes);
          AttributeValue& v = attrs[6 * i + k];
          v.attribute = set->FindAttribute(absl::StrCat("bigvendor.attr_", a));
          v.number = a % 4 == 0 ? rng() % 2 : a % 4 == 1 ? rng() % 4 : rng() % 100;
          if (a % 4 == 3) v.strings = absl::MakeConstSpan(&kRegions[rng() % 3], 1);
        }
      }
      ctx.push_back(c);
    }
    for (int i = 0; i < kCount; ++i) {
      ctx[i].groups = absl::Span<const std::string_view>(&names[3 * i], 1 + i % 3);
      if (set != nullptr) ctx[i].attributes = absl::MakeConstSpan(&attrs[6 * i], 6);
    }
  }
};

void BM_CatalogLoad(benchmark::State& state) {
  const std::string& bytes = CatalogBytes();
  size_t heap = 0;
  for (auto _ : state) {
    const size_t before = HeapInUse();
    auto s = CatalogSet::Create({{"bigvendor.edcat", bytes}});
    heap = HeapInUse() - before;  // what the set keeps (its copy of the bytes included)
    benchmark::DoNotOptimize(s);
  }
  state.counters["edcat_bytes"] = static_cast<double>(bytes.size());
  state.counters["heap_bytes"] = static_cast<double>(heap);
  state.counters["settings"] = kSettings;
  state.counters["attributes"] = kAttributes;
}
BENCHMARK(BM_CatalogLoad)->Unit(benchmark::kMillisecond);

void Resolve(benchmark::State& state, const Built& built, const Contexts& contexts) {
  const int n = static_cast<int>(built.handles.size());
  int i = 0;
  for (auto _ : state) {
    const Resolution r = built.snapshot->Resolve(built.handles[i % n], contexts.ctx[i & 255]);
    benchmark::DoNotOptimize(r);
    i += 7;
  }
}

void BM_ResolveBuiltin(benchmark::State& state) {
  const auto built = Build(CatalogSet::Builtin(), BuiltinBoolIds(), kRules, false);
  const Contexts contexts(*built, nullptr);
  Resolve(state, *built, contexts);
}
BENCHMARK(BM_ResolveBuiltin);

// Args: how many product settings the rules name (BuiltinBoolIds().size() gives the
// built-in benchmark's shape: same rules per setting, same share grouped; 2,500 spreads the
// rules over every bool setting of the product, 4 un-grouped rules each); then 1 if a
// quarter of the rules have an attribute term (contexts carry 6 attribute values either
// way), 0 for none (what the run-time catalogue itself costs).
void BM_ResolveProduct(benchmark::State& state) {
  const auto built = Build(LargeSet(), ProductBoolIds(static_cast<int>(state.range(0))), kRules,
                           state.range(1) != 0);
  const Contexts contexts(*built, &LargeSet());
  Resolve(state, *built, contexts);
}
BENCHMARK(BM_ResolveProduct)
    ->Args({static_cast<int64_t>(BuiltinBoolIds().size()), 0})
    ->Args({static_cast<int64_t>(BuiltinBoolIds().size()), 1})
    ->Args({2500, 0})
    ->Args({2500, 1});

void Activate(benchmark::State& state, const CatalogSet& set) {
  // ~1 MiB of built-in rules, as kernel_bench's BM_Activate.
  static const auto* built = Build(CatalogSet::Builtin(), BuiltinBoolIds(), 14000, false).release();
  const size_t size = *Snapshot::ArenaSize(built->payload, set);
  std::unique_ptr<std::max_align_t[]> arena(
      new std::max_align_t[size / sizeof(std::max_align_t) + 1]);
  const absl::Span<uint8_t> span(reinterpret_cast<uint8_t*>(arena.get()), size);
  for (auto _ : state) {
    auto s = Snapshot::Activate(built->payload, span, set);
    benchmark::DoNotOptimize(s);
  }
  state.counters["payload_bytes"] = static_cast<double>(built->payload.size());
  state.SetBytesProcessed(state.iterations() * built->payload.size());
}

void BM_ActivateBuiltin(benchmark::State& state) { Activate(state, CatalogSet::Builtin()); }
BENCHMARK(BM_ActivateBuiltin)->Unit(benchmark::kMillisecond);

void BM_ActivateInLargeSet(benchmark::State& state) { Activate(state, LargeSet()); }
BENCHMARK(BM_ActivateInLargeSet)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edict

BENCHMARK_MAIN();
