// Differential: the kernel and the reference evaluator (tests/reference/) agree on
// activation and on every query of a fuzz-built policy.
//
// Input: one mode byte, an 8-byte seed, then bytes.
//   even mode: the policy is random_policy::RandomPolicy seeded from the seed and the
//              bytes (so the fuzzer steers the generator's choices).
//   odd mode:  the bytes are the payload itself.
// Every setting, data-use cell and schedule (and out-of-range ids) is then asked under
// contexts and user choices drawn from the seed. Contexts stay within the contract's
// enum ranges (out-of-range values are undefined by docs/semantics.md).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/src/common.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "tests/reference/random_policy.h"
#include "tests/reference/reference.h"

namespace {

using edict::fuzz::Check;
namespace rp = edict::random_policy;
namespace ref = edict::reference;

std::string Context(const edict::Context& ctx) { return "\n  context " + ref::ContextLabel(ctx); }

void CompareActivation(const ref::ReferencePolicy& r, const edict::fuzz::Activated& k) {
  Check(r.status().code() == k.status.code(), "activation status differs",
        "reference " + r.status().ToString() + "\n  kernel " + k.status.ToString());
  if (!r.ok()) return;
  const edict::Snapshot& s = *k.snapshot;
  Check(s.serial() == r.serial(), "serial differs");
  Check(s.skipped_count() == r.skipped().size(), "skipped count differs");
  for (const edict::SkippedRule& sk : s.skipped()) {
    bool found = false;
    for (const ref::Skip& x : r.skipped()) {
      found = found || (x.kind == sk.kind && x.index == sk.index && x.reason == sk.reason);
    }
    Check(found, "the kernel skips a rule the reference does not",
          std::string(ref::RuleKindLabel(sk.kind)) + "[" + std::to_string(sk.index) + "] " +
              std::string(ref::SkipReasonLabel(sk.reason)));
  }
}

void CompareQueries(const ref::ReferencePolicy& r, const edict::Snapshot& k, rp::Rng& rng) {
  const int settings = static_cast<int>(edict::catalog::kSettings.size());
  const int classes = static_cast<int>(edict::catalog::kDataClasses.size());
  const int purposes = static_cast<int>(edict::catalog::kPurposes.size());
  const int schedules = static_cast<int>(edict::catalog::kSchedules.size());
  for (int c = 0; c < 2; ++c) {
    const rp::ContextSample sample = rp::RandomContext(rng, false);
    const edict::Context& ctx = sample.context();
    for (int s = -1; s <= settings; ++s) {
      const std::optional<edict::UserChoice> choice = rp::RandomChoice(rng, s);
      const edict::UserChoice* cp = choice ? &*choice : nullptr;
      const edict::Resolution a = r.Resolve(s, ctx, cp);
      const edict::Resolution b = k.Resolve(s, ctx, cp);
      const bool same = a.setting == b.setting && a.value == b.value && a.source == b.source &&
                        a.locked == b.locked && a.rule == b.rule && a.serial == b.serial &&
                        a.obligations == b.obligations && a.notes == b.notes;
      Check(same, "Resolve differs",
            "setting " + std::to_string(s) + " choice " + ref::ChoiceLabel(cp, s) +
                "\n  reference " + ref::ResolutionLabel(a) + "\n  kernel    " +
                ref::ResolutionLabel(b) + Context(ctx));
    }
    for (int d = -1; d <= classes; ++d) {
      for (int p = -1; p <= purposes; ++p) {
        const edict::DataUseDecision a = r.MayUse(d, p, ctx);
        const edict::DataUseDecision b = k.MayUse(d, p, ctx);
        const bool same = a.data_class == b.data_class && a.purpose == b.purpose &&
                          a.allowed == b.allowed && a.obligations == b.obligations &&
                          a.source == b.source && a.rule == b.rule && a.builtin == b.builtin &&
                          a.serial == b.serial && a.unknown == b.unknown;
        Check(same, "MayUse differs",
              "cell " + std::to_string(d) + "x" + std::to_string(p) + "\n  reference " +
                  ref::DecisionLabel(a) + "\n  kernel    " + ref::DecisionLabel(b) + Context(ctx));
      }
    }
    for (int s = -1; s <= schedules; ++s) {
      const edict::ScheduleAnswer a = r.Schedule(s, ctx);
      const edict::ScheduleAnswer b = k.Schedule(s, ctx);
      const bool same = a.schedule == b.schedule && a.interval_seconds == b.interval_seconds &&
                        a.source == b.source && a.rule == b.rule && a.builtin == b.builtin &&
                        a.serial == b.serial && a.unknown == b.unknown;
      Check(same, "Schedule differs",
            "schedule " + std::to_string(s) + "\n  reference " + ref::ScheduleLabel(a) +
                "\n  kernel    " + ref::ScheduleLabel(b) + Context(ctx));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edict::fuzz::Reader in(data, size);
  const uint8_t mode = in.Byte();
  uint64_t seed = in.U64();
  const absl::Span<const uint8_t> rest = in.Rest();
  std::vector<uint8_t> payload;
  if (mode & 1) {
    payload.assign(rest.begin(), rest.end());
  } else {
    for (uint8_t b : rest) seed = seed * 1099511628211ull + b;
    rp::Rng rng(seed);
    rp::Options options;
    options.broken_rate = (mode & 2) ? 0.3 : 0.08;
    options.critical_rate = (mode & 4) ? 0.1 : 0.03;
    payload = rp::Build(rp::RandomPolicy(rng, options));
  }
  const ref::ReferencePolicy r = ref::ReferencePolicy::Activate(payload);
  const edict::fuzz::Activated k = edict::fuzz::Activate(payload);
  CompareActivation(r, k);
  if (!r.ok()) return 0;
  rp::Rng rng(seed ^ 0x9e3779b97f4a7c15ull);
  CompareQueries(r, *k.snapshot, rng);
  return 0;
}
