// When to poll next: pure logic over a monotonic time and an RNG, so a test can drive it
// with a fake clock and a scripted RNG.
//
//  * first poll: a random splay in [0, initial_splay) after Start, so a fleet that boots
//    together (or an agent restarted by a package upgrade everywhere) does not stampede;
//  * after a success (200 or 304): interval + U[0, jitter);
//  * after the n-th consecutive failure: b = min(backoff_cap, backoff_base * 2^(n-1)),
//    delay in [b/2, b] ("equal jitter": never zero, never synchronised);
//  * a server's Retry-After (on any response that carried one) pushes the next poll to at
//    least now + min(Retry-After, retry_after_cap): it is honoured but cannot park an
//    endpoint for ever. It never makes a poll earlier than the rule above.
#ifndef EDICT_TRANSPORT_PULL_SCHEDULER_H_
#define EDICT_TRANSPORT_PULL_SCHEDULER_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/time/time.h"

namespace edict::transport::pull {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint64_t Next() = 0;  // uniform over 64 bits
};

// Seeded from std::random_device (jitter needs no cryptographic quality).
std::unique_ptr<Rng> NewSystemRng();

// Uniform in [0, range); ZeroDuration when range <= 0. Uses the top 53 bits of one draw.
absl::Duration UniformDuration(Rng& rng, absl::Duration range);

struct ScheduleOptions {
  absl::Duration interval = absl::Minutes(15);
  absl::Duration jitter = absl::Minutes(5);
  absl::Duration initial_splay = absl::Minutes(1);
  absl::Duration backoff_base = absl::Seconds(30);
  absl::Duration backoff_cap = absl::Hours(1);
  absl::Duration retry_after_cap = absl::Hours(6);
};

class PollScheduler {
 public:
  PollScheduler(const ScheduleOptions& options, Rng* rng) : options_(options), rng_(rng) {}

  // Schedules the first poll at now + U[0, initial_splay).
  void Start(absl::Duration now);
  bool Due(absl::Duration now) const { return now >= next_; }
  absl::Duration next() const { return next_; }
  // Time until the next poll (zero if due).
  absl::Duration Wait(absl::Duration now) const {
    return next_ > now ? next_ - now : absl::ZeroDuration();
  }

  // Records one poll's outcome at `now` and schedules the next; returns the delay chosen.
  absl::Duration Record(absl::Duration now, bool success,
                        std::optional<absl::Duration> retry_after = std::nullopt);

  int consecutive_failures() const { return failures_; }
  const ScheduleOptions& options() const { return options_; }

 private:
  ScheduleOptions options_;
  Rng* rng_;  // not owned
  absl::Duration next_ = absl::ZeroDuration();
  int failures_ = 0;
};

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_SCHEDULER_H_
