// Precedence in one function (kernel/internal.h HasHigherPriority, SourceOutranks), tested
// on its own and against what Resolve answers.
#include <algorithm>
#include <vector>

#include "gtest/gtest.h"
#include "kernel/internal.h"
#include "tests/kernel/payload_builder.h"

namespace edict {
namespace {

using ::edict::testing::Activated;
using ::edict::testing::BoolRule;
using ::edict::testing::Cond;
using ::edict::testing::Policy;
using internal::HasHigherPriority;
using internal::PriorityKey;
using internal::PriorityReason;

TEST(Precedence, LevelThenSpecificityThenOrder) {
  PriorityReason why;
  EXPECT_TRUE(HasHigherPriority(PriorityKey(0, 0, 9), PriorityKey(1, 5, 0), &why));
  EXPECT_EQ(why, PriorityReason::kLevel);
  EXPECT_TRUE(HasHigherPriority(PriorityKey(1, 3, 9), PriorityKey(1, 2, 0), &why));
  EXPECT_EQ(why, PriorityReason::kSpecificity);
  EXPECT_TRUE(HasHigherPriority(PriorityKey(0, 2, 1), PriorityKey(0, 2, 4), &why));
  EXPECT_EQ(why, PriorityReason::kOrder);
  EXPECT_FALSE(HasHigherPriority(PriorityKey(0, 2, 4), PriorityKey(0, 2, 4), &why));
  EXPECT_EQ(why, PriorityReason::kSame);
  // Above 15, specificity counts as 15 (it must not wrap around).
  EXPECT_FALSE(HasHigherPriority(PriorityKey(0, 15, 2), PriorityKey(0, 17, 1), &why));
  EXPECT_EQ(why, PriorityReason::kOrder);
  EXPECT_TRUE(HasHigherPriority(PriorityKey(0, 16, 0), PriorityKey(0, 1, 0)));
  // A strict weak order: sorting by it is sorting by the documented tuple.
  std::vector<uint64_t> keys;
  for (int level = 0; level < 2; ++level) {
    for (int spec = 0; spec < 16; spec += 5) {
      for (uint32_t i = 0; i < 3; ++i) keys.push_back(PriorityKey(level, spec, i));
    }
  }
  std::sort(keys.begin(), keys.end(),
            [](uint64_t a, uint64_t b) { return HasHigherPriority(a, b); });
  for (size_t i = 1; i < keys.size(); ++i) {
    const auto a = internal::DecodeKey(keys[i - 1]), b = internal::DecodeKey(keys[i]);
    EXPECT_TRUE(a.level < b.level || (a.level == b.level && a.specificity > b.specificity) ||
                (a.level == b.level && a.specificity == b.specificity && a.index < b.index));
  }
}

TEST(Precedence, SourceLadder) {
  const Source ladder[] = {Source::kFixed, Source::kMandatory, Source::kUser, Source::kRecommended,
                           Source::kDefault};
  for (size_t i = 0; i < 5; ++i) {
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_EQ(internal::SourceOutranks(ladder[i], ladder[j]), i < j) << i << " " << j;
    }
  }
}

// Resolve's answers follow the ladder: with candidates of several sources, the winner is
// the one SourceOutranks puts first.
TEST(Precedence, ResolveFollowsTheLadder) {
  const int ceip = catalog::FindSetting("communicator.ceip");
  ASSERT_GE(ceip, 0);
  const UserChoice choice{Value{SettingType::kBool, 1, {}}, false};
  for (int mandatory = 0; mandatory < 2; ++mandatory) {
    for (int recommended = 0; recommended < 2; ++recommended) {
      for (int user = 0; user < 2; ++user) {
        Policy p;
        if (mandatory) p.settings.push_back(BoolRule("communicator.ceip", 0, false));
        if (recommended) p.settings.push_back(BoolRule("communicator.ceip", 1, false));
        Activated a(p.Build());
        ASSERT_TRUE(a.status.ok());
        const Resolution r = a->Resolve(ceip, Context{}, user ? &choice : nullptr);
        std::vector<Source> present = {Source::kDefault};
        if (mandatory) present.push_back(Source::kMandatory);
        if (recommended) present.push_back(Source::kRecommended);
        if (user && (catalog::kSettings[ceip].setters & kSetterUser)) {
          present.push_back(Source::kUser);
        }
        const Source best =
            *std::min_element(present.begin(), present.end(),
                              [](Source a, Source b) { return internal::SourceOutranks(a, b); });
        EXPECT_EQ(r.source, best) << mandatory << recommended << user;
      }
    }
  }
}

}  // namespace
}  // namespace edict
