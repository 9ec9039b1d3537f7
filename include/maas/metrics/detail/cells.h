// Internal: the recording side of maas metrics. Not part of the public API.
//
// Counters are arrays of relaxed atomics, one copy per "slot", and each
// thread writes the copy of its slot: threads get slots round-robin the first
// time they record, so up to `kMetricSlots` threads never share a cache line
// and a record is an uncontended `lock xadd` (~2 ns on the machines we
// measured). More threads share slots: still exact (the adds are atomic),
// only contended. Readers sum over slots with relaxed loads, so a snapshot
// taken while calls run is a consistent-enough view (each counter exact at
// some instant); after the writers have stopped it is exact.
//
// Time is read with the CPU's cycle counter where it is invariant (x86 TSC,
// AArch64 virtual counter: ~10 ns a read instead of ~25 ns for
// std::chrono::steady_clock on a KVM guest), calibrated once against
// steady_clock, else with steady_clock itself.

#ifndef MAAS_METRICS_DETAIL_CELLS_H_
#define MAAS_METRICS_DETAIL_CELLS_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/base/optimization.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define MAAS_INTERNAL_CYCLE_CLOCK_X86 1
#endif

namespace maas {
namespace detail {

// Number of per-thread copies of every metric.
inline constexpr int kMetricSlots = 32;

// MetricSlot()
//
// The calling thread's slot in [0, kMetricSlots): assigned round-robin on
// the thread's first record, then fixed for its life.
inline int MetricSlot() {
  static std::atomic<unsigned> next{0};
  thread_local int slot = -1;
  if (ABSL_PREDICT_FALSE(slot < 0)) {
    slot = static_cast<int>(next.fetch_add(1, std::memory_order_relaxed) % kMetricSlots);
  }
  return slot;
}

// CycleClock
//
// A cheap monotonic tick counter and its calibration. Thread-safe.
class CycleClock {
 public:
  // CycleClock::Now()
  //
  // Ticks since an arbitrary origin.
  static std::int64_t Now() {
#if defined(MAAS_INTERNAL_CYCLE_CLOCK_X86)
    if (ABSL_PREDICT_TRUE(Calibration().use_counter)) return static_cast<std::int64_t>(__rdtsc());
#elif defined(__aarch64__)
    std::uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    return static_cast<std::int64_t>(v);
#endif
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // CycleClock::SecondsPerTick()
  static double SecondsPerTick() { return Calibration().seconds_per_tick; }

 private:
  struct Cal {
    bool use_counter = false;
    double seconds_per_tick = 1e-9;
  };

  // Measured once per process (about 2 ms, at the first use).
  static const Cal& Calibration() {
    static const Cal cal = Calibrate();
    return cal;
  }

  static Cal Calibrate() {
    Cal c;
#if defined(MAAS_INTERNAL_CYCLE_CLOCK_X86)
    unsigned a = 0, b = 0, cx = 0, d = 0;
    // CPUID 0x80000007 EDX bit 8: invariant TSC (constant rate, all states).
    if (__get_cpuid(0x80000007u, &a, &b, &cx, &d) == 0 || (d & (1u << 8)) == 0) return c;
    using Steady = std::chrono::steady_clock;
    const Steady::time_point t0 = Steady::now();
    const std::uint64_t c0 = __rdtsc();
    Steady::time_point t1 = t0;
    while (t1 - t0 < std::chrono::milliseconds(2)) t1 = Steady::now();
    const std::uint64_t c1 = __rdtsc();
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    if (c1 <= c0) return c;
    c.use_counter = true;
    c.seconds_per_tick = seconds / static_cast<double>(c1 - c0);
#elif defined(__aarch64__)
    std::uint64_t f;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(f));
    if (f > 0) {
      c.use_counter = true;
      c.seconds_per_tick = 1.0 / static_cast<double>(f);
    }
#endif
    return c;
  }
};

// ShardedCells
//
// `n` int64 counters, with one copy per slot. `Add()` is lock-free and
// allocation-free; `Sum()` reads across copies. Thread-safe.
class ShardedCells {
 public:
  explicit ShardedCells(std::size_t n)
      : n_(n), stride_((n + 7) & ~std::size_t{7}),
        cells_(new std::atomic<std::int64_t>[stride_ * kMetricSlots + 8]) {
    // One shard per slot, each starting on its own 64-byte line.
    auto base = reinterpret_cast<std::uintptr_t>(cells_.get());
    offset_ = ((base + 63) & ~std::uintptr_t{63}) - base;
    offset_ /= sizeof(std::atomic<std::int64_t>);
    for (std::size_t i = 0; i < stride_ * kMetricSlots + 8; ++i) {
      cells_[i].store(0, std::memory_order_relaxed);
    }
  }

  std::size_t size() const { return n_; }

  // ShardedCells::Shard()
  //
  // The calling thread's copy (index with [0, size())).
  std::atomic<std::int64_t>* Shard() const {
    return cells_.get() + offset_ + static_cast<std::size_t>(MetricSlot()) * stride_;
  }

  // ShardedCells::Add()
  void Add(std::size_t i, std::int64_t delta) const {
    Shard()[i].fetch_add(delta, std::memory_order_relaxed);
  }

  // ShardedCells::Sum()
  std::int64_t Sum(std::size_t i) const {
    std::int64_t s = 0;
    for (int k = 0; k < kMetricSlots; ++k) {
      s += cells_[offset_ + static_cast<std::size_t>(k) * stride_ + i].load(
          std::memory_order_relaxed);
    }
    return s;
  }

 private:
  std::size_t n_;
  std::size_t stride_;  // n rounded up to whole 64-byte lines
  std::size_t offset_ = 0;
  std::unique_ptr<std::atomic<std::int64_t>[]> cells_;
};

}  // namespace detail
}  // namespace maas

#endif  // MAAS_METRICS_DETAIL_CELLS_H_
