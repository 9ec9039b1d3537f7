// -----------------------------------------------------------------------------
// File: testing/fake_clock.h
// -----------------------------------------------------------------------------
//
// `maas::testing::FakeClock`: a `maas::Clock` for tests. Time moves only when
// the test advances it or when someone sleeps on it (a sleep moves the time
// to its end and returns at once), so tests of backoff, deadlines and circuit
// breakers are fast and exactly repeatable. Records every sleep.
//
// Example:
//
//   maas::testing::FakeClock clock;
//   maas::RetryingPredictor retry(std::move(inner), policy, &clock);
//   ... retry.Predict(...) ...;
//   EXPECT(clock.sleeps().size() == 2);

#ifndef MAAS_TESTING_FAKE_CLOCK_H_
#define MAAS_TESTING_FAKE_CLOCK_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "maas/core/clock.h"
#include "maas/core/detail/mutex.h"

namespace maas {
namespace testing {

// FakeClock
//
// Thread-safe.
class FakeClock final : public Clock {
 public:
  // Starts at `start` (an arbitrary fixed time by default).
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}

  absl::Time Now() override {
    detail::MutexLock lock(&mu_);
    return now_;
  }

  // Moves the time to `deadline` (if later) and records the wait.
  void SleepUntil(absl::Time deadline) override {
    detail::MutexLock lock(&mu_);
    sleeps_.push_back(deadline > now_ ? deadline - now_ : absl::ZeroDuration());
    if (deadline > now_) now_ = deadline;
  }

  // FakeClock::Advance()
  void Advance(absl::Duration d) {
    detail::MutexLock lock(&mu_);
    now_ += d;
  }

  // FakeClock::sleeps()
  //
  // The length of every sleep so far, in order.
  std::vector<absl::Duration> sleeps() const {
    detail::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  mutable detail::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace testing
}  // namespace maas

#endif  // MAAS_TESTING_FAKE_CLOCK_H_
