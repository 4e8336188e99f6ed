// Time sources. Wall time is for audit lines and expiry checks; monotonic time is for
// intervals (settle windows, polling jitter) and never goes back.

#ifndef EDICT_PORTS_CLOCK_H_
#define EDICT_PORTS_CLOCK_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace edict::ports {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time (may jump when the system clock is set).
  virtual absl::Time Now() = 0;
  // Time since an arbitrary fixed origin; never decreases.
  virtual absl::Duration Monotonic() = 0;
};

// The system clock (portable: absl::Now and std::chrono::steady_clock). Cannot fail.
std::unique_ptr<Clock> NewSystemClock();

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time now = absl::UnixEpoch()) : now_(now) {}

  absl::Time Now() override;
  absl::Duration Monotonic() override;

  // Moves both clocks forward by `d` (negative `d` moves only the wall clock back).
  void Advance(absl::Duration d);
  // Sets the wall clock; the monotonic clock is not affected.
  void SetNow(absl::Time now);

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Duration monotonic_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace edict::ports

#endif  // EDICT_PORTS_CLOCK_H_
