// Explain asks the compiled matcher which term failed (internal::FirstFailedTerm) instead
// of evaluating conditions a second way: it must agree with FastMatch, the hot path's
// test, on every condition and context.
#include <cstdint>
#include <random>

#include "gtest/gtest.h"
#include "kernel/internal.h"

namespace edict {
namespace {

using internal::CompileCondition;
using internal::CompileContext;
using internal::FastMatch;
using internal::FirstFailedTerm;

TEST(Matcher, FirstFailedTermAgreesWithFastMatch) {
  std::mt19937_64 rng(20261207);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  int held = 0, failed = 0;
  for (int i = 0; i < 200000; ++i) {
    ConditionSpec w;
    w.identity = static_cast<uint8_t>(pick(4));  // 3: a kind this endpoint does not know
    w.domain_joined = static_cast<uint8_t>(pick(3));
    w.device_managed = static_cast<uint8_t>(pick(3));
    w.plans = static_cast<uint8_t>(pick(3) == 0 ? pick(8) : 0);
    w.roles = static_cast<uint8_t>(pick(3) == 0 ? pick(16) : 0);
    w.account_creation = static_cast<uint8_t>(pick(3));
    if (pick(3) == 0) {
      w.os_min = pick(2) ? 60 + pick(3) : 0;
      w.os_max = pick(2) ? 60 + pick(3) : 0;
    }
    w.state_all = static_cast<uint32_t>(pick(3) == 0 ? pick(4) : 0);
    w.state_none = static_cast<uint32_t>(pick(3) == 0 ? pick(4) : 0);
    Context ctx;
    ctx.identity = static_cast<Identity>(pick(3));
    ctx.domain_joined = static_cast<TriState>(pick(3));
    ctx.device_managed = static_cast<TriState>(pick(3));
    ctx.plan = static_cast<Plan>(pick(2) ? 1 << pick(3) : 0);
    ctx.role = static_cast<Role>(pick(2) ? 1 << pick(4) : 0);
    ctx.account_creation = pick(2) == 1;
    ctx.os_generation = pick(2) ? 59 + pick(5) : 0;
    ctx.device_state = static_cast<uint32_t>(pick(4));
    const internal::Cand c = CompileCondition(w);
    const internal::CtxBits x = CompileContext(ctx);
    const bool match = FastMatch(c, x);
    const BuiltinTerm t = FirstFailedTerm(c, x);
    ASSERT_EQ(match, t == BuiltinTerm::kNone) << "case " << i << " term " << static_cast<int>(t);
    (match ? held : failed) += 1;
  }
  EXPECT_GT(held, 1000);
  EXPECT_GT(failed, 1000);
}

TEST(Matcher, FirstFailedTermNamesTheTermInTableOrder) {
  ConditionSpec w;
  w.identity = fb::IdentityKind_Managed;
  w.plans = fb::Plan_Trial;
  w.os_min = 61;
  Context ctx;
  ctx.identity = Identity::kManaged;
  ctx.plan = Plan::kEnterprise;
  ctx.os_generation = 60;
  const internal::Cand c = CompileCondition(w);
  EXPECT_EQ(FirstFailedTerm(c, CompileContext(ctx)), BuiltinTerm::kPlan);
  ctx.plan = Plan::kTrial;
  EXPECT_EQ(FirstFailedTerm(c, CompileContext(ctx)), BuiltinTerm::kOsGeneration);
  ctx.os_generation = 61;
  EXPECT_EQ(FirstFailedTerm(c, CompileContext(ctx)), BuiltinTerm::kNone);
  ctx.identity = Identity::kUnknown;
  EXPECT_EQ(FirstFailedTerm(c, CompileContext(ctx)), BuiltinTerm::kIdentity);
}

}  // namespace
}  // namespace edict
