// -----------------------------------------------------------------------------
// File: core/clock.h
// -----------------------------------------------------------------------------
//
// `maas::Clock`: where time-aware predictors (retry backoff, circuit breaker,
// deadlines) get the time and how they wait. Production code uses
// `maas::RealClock()`; tests inject `maas::testing::FakeClock`
// (testing/fake_clock.h), whose sleeps return at once after moving its time,
// so backoff and breaker tests run in microseconds and repeat exactly.
//
// Example:
//
//   maas::RetryingPredictor retry(std::move(inner), policy, &maas::RealClock());

#ifndef MAAS_CORE_CLOCK_H_
#define MAAS_CORE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace maas {

// Clock
//
// Thread-safe implementations only: predictors call it from many threads.
class Clock {
 public:
  virtual ~Clock() = default;

  // Clock::Now()
  //
  // The current time.
  virtual absl::Time Now() = 0;

  // Clock::SleepUntil()
  //
  // Returns at `deadline` (at once when it has passed).
  virtual void SleepUntil(absl::Time deadline) = 0;
};

namespace detail {
class SystemClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void SleepUntil(absl::Time deadline) override {
    const absl::Duration d = deadline - absl::Now();
    if (d > absl::ZeroDuration()) absl::SleepFor(d);
  }
};
}  // namespace detail

// RealClock()
//
// The process-wide wall clock (absl::Now, absl::SleepFor). Never destroyed.
inline Clock& RealClock() {
  static detail::SystemClock* const clock = new detail::SystemClock();
  return *clock;
}

}  // namespace maas

#endif  // MAAS_CORE_CLOCK_H_
