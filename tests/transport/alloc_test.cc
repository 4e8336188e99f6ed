// The size cap is checked before any allocation: this binary replaces the global
// operator new to record the largest allocation made while Verify rejects an oversized
// input.
#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/transport/test_util.h"

namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest{0};
std::atomic<size_t> g_total{0};
}  // namespace

void* operator new(size_t n) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    g_total += n;
    size_t prev = g_largest.load();
    while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
    }
  }
  void* p = std::malloc(n ? n : 1);
  if (!p) std::abort();  // no exceptions in this code base
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace edict::transport::testing {
namespace {

class CapBeforeAllocation : public TransportTest {};

TEST_F(CapBeforeAllocation, EndlessDataAllocatesNothingProportional) {
  auto trust = Store(Doc(BaseSpec(), {root_[0].get()}));
  auto verifier = BundleVerifier::Create(trust);
  ASSERT_TRUE(verifier.ok());
  // 4 MiB + 1 of real bytes, then a claimed terabyte.
  std::vector<uint8_t> over((size_t{4} << 20) + 1, 0x5A);
  uint8_t tiny[8] = {};
  for (Bytes input : {Bytes(over), Bytes(tiny, size_t{1} << 40)}) {
    g_largest = 0;
    g_total = 0;
    g_tracking = true;
    auto r = (*verifier)->Verify(input, Identity(), {0, 5, 0}, kNow);
    g_tracking = false;
    EXPECT_TRANSPORT_ERROR(r, Error::kTooLarge);
    // Only the error status itself (a short message) may be allocated.
    EXPECT_LT(g_total.load(), 1024u) << "allocated " << g_total.load() << " bytes";
    EXPECT_LT(g_largest.load(), 512u);
  }
  g_largest = 0;
  g_total = 0;
  g_tracking = true;
  auto t = TrustStore::Open(Bytes(tiny, size_t{1} << 40), {}, kNow);
  g_tracking = false;
  EXPECT_TRANSPORT_ERROR(t, Error::kTrustTooLarge);
  EXPECT_LT(g_total.load(), 1024u);
}

}  // namespace
}  // namespace edict::transport::testing
