#include "transport/pull/scheduler.h"

#include <algorithm>
#include <random>

namespace edict::transport::pull {
namespace {

class SystemRng : public Rng {
 public:
  SystemRng() {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    gen_.seed(seq);
  }
  uint64_t Next() override { return gen_(); }

 private:
  std::mt19937_64 gen_;
};

}  // namespace

std::unique_ptr<Rng> NewSystemRng() { return std::make_unique<SystemRng>(); }

absl::Duration UniformDuration(Rng& rng, absl::Duration range) {
  if (range <= absl::ZeroDuration()) return absl::ZeroDuration();
  double u = static_cast<double>(rng.Next() >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
  absl::Duration d = range * u;
  return d < range ? d : range - absl::Nanoseconds(1);
}

void PollScheduler::Start(absl::Duration now) {
  failures_ = 0;
  next_ = now + UniformDuration(*rng_, options_.initial_splay);
}

absl::Duration PollScheduler::Record(absl::Duration now, bool success,
                                     std::optional<absl::Duration> retry_after) {
  absl::Duration delay;
  if (success) {
    failures_ = 0;
    delay = options_.interval + UniformDuration(*rng_, options_.jitter);
  } else {
    failures_ = std::min(failures_ + 1, 64);
    absl::Duration b = options_.backoff_base;
    for (int i = 1; i < failures_ && b < options_.backoff_cap; ++i) b *= 2;
    b = std::min(b, options_.backoff_cap);
    delay = b / 2 + UniformDuration(*rng_, b - b / 2);
  }
  if (retry_after) {
    absl::Duration ra = std::clamp(*retry_after, absl::ZeroDuration(), options_.retry_after_cap);
    delay = std::max(delay, ra);
  }
  next_ = now + delay;
  return delay;
}

}  // namespace edict::transport::pull
