// Zero-allocation test: replaces every global operator new/delete and interposes malloc,
// calloc, realloc and free (glibc: forwarding to __libc_*), then counts calls while the
// kernel activates and answers 1,000,000 mixed queries.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "kernel/kernel.h"
#include "tests/kernel/payload_builder.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<bool> g_armed{false};
std::atomic<long> g_allocations{0};
inline void Count() {
  if (g_armed.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
}
void* Alloc(size_t n) {
  Count();
  void* p = __libc_malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort();
  return p;
}
void* AlignedAlloc(size_t n, std::align_val_t a) {
  Count();
  void* p = __libc_memalign(static_cast<size_t>(a), n == 0 ? 1 : n);
  if (p == nullptr) std::abort();
  return p;
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  Count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t m) {
  Count();
  return __libc_calloc(n, m);
}
void* realloc(void* p, size_t n) {
  Count();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
}

void* operator new(size_t n) { return Alloc(n); }
void* operator new[](size_t n) { return Alloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return Alloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return Alloc(n); }
void* operator new(size_t n, std::align_val_t a) { return AlignedAlloc(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return AlignedAlloc(n, a); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return AlignedAlloc(n, a);
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return AlignedAlloc(n, a);
}
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { __libc_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { __libc_free(p); }

namespace edict::testing {
namespace {

TEST(ZeroAllocation, CountersWork) {
  g_allocations = 0;
  g_armed = true;
  std::string* s = new std::string(100, 'x');
  void* m = std::malloc(10);
  g_armed = false;
  std::free(m);
  delete s;
  EXPECT_GE(g_allocations.load(), 3);  // string object, its buffer, malloc
}

TEST(ZeroAllocation, ActivateAndMillionQueries) {
  Policy p;
  p.serial = 9;
  const char* groups[] = {"g0", "g1", "g2", "finance"};
  for (int i = 0; i < 400; ++i) {
    Cond c;
    c.identity = 1 + i % 2;
    if (i % 3 == 0) c.groups = {groups[i % 4]};
    if (i % 5 == 0) c.regions = {"US"};
    if (i % 7 == 0) c.os_min = 60;
    SRule r = BoolRule(std::string(catalog::kSettings[i % catalog::kSettings.size()].id), i % 2,
                       i % 3 == 1, c);
    r.note = "n";
    p.settings.push_back(r);
    p.data_use.push_back({std::string(catalog::kDataClasses[i % 5].id),
                          std::string(catalog::kPurposes[i % 5].id), i % 2 == 0,
                          static_cast<uint32_t>(i % 128), c});
    p.schedules.push_back({"genuine.validation_interval", 60 + i, c});
  }
  p.settings.push_back(BoolRule("future.setting", 0, true));
  const std::vector<uint8_t> bytes = p.Build();
  const size_t need = *Snapshot::ArenaSize(bytes);
  std::vector<std::max_align_t> arena(need / sizeof(std::max_align_t) + 1);
  const std::string_view ctx_groups[] = {"g1", "finance", "other"};
  char text[2048];
  uint64_t checksum = 0;

  g_allocations = 0;
  g_armed = true;
  absl::StatusOr<size_t> again = Snapshot::ArenaSize(bytes);
  absl::StatusOr<const Snapshot*> s = Snapshot::Activate(
      bytes, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(arena.data()), need));
  if (s.ok()) {
    const Snapshot& snap = **s;
    const Snapshot& defaults = Snapshot::Defaults();
    for (int i = 0; i < 1000000; ++i) {
      Context c;
      c.identity = static_cast<Identity>(i % 3);
      c.os_generation = 58 + i % 5;
      c.region = i % 2 ? "US" : "";
      c.groups = absl::Span<const std::string_view>(ctx_groups, i % 4);
      UserChoice u{Value{SettingType::kBool, i & 1, {}}, (i & 2) != 0};
      const Snapshot& q = (i % 10 == 9) ? defaults : snap;
      switch (i % 4) {
        case 0: {
          const Resolution r = q.Resolve(i % static_cast<int>(catalog::kSettings.size() + 1), c,
                                         i % 8 ? &u : nullptr);
          checksum += r.value.number + r.rule;
          if (i % 1000 == 0) {
            checksum += q.Explain(r, c, &u, ExplainDetail::kWithCandidates, text);
          }
          break;
        }
        case 1: {
          const DataUseDecision d = q.MayUse(i % 21, i % 13, c);
          checksum += d.allowed + d.obligations;
          if (i % 1000 == 1) checksum += q.Explain(d, c, ExplainDetail::kWithCandidates, text);
          break;
        }
        default: {
          const ScheduleAnswer a = q.Schedule(i % 2, c);
          checksum += a.interval_seconds;
          if (i % 1000 == 2) checksum += q.Explain(a, c, ExplainDetail::kWithCandidates, text);
          break;
        }
      }
    }
  }
  g_armed = false;
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_NE(checksum, 0u);
  EXPECT_GE((*s)->skipped_count(), 1u);  // at least future.setting
}

}  // namespace
}  // namespace edict::testing
