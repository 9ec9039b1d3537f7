// -----------------------------------------------------------------------------
// File: metrics/publisher.h
// -----------------------------------------------------------------------------
//
// `maas::PeriodicPublisher` publishes a registry's snapshot to a sink every
// `interval` from one background thread, and once more when it is destroyed,
// so the last values of a run are not lost. With a `PrometheusTextFileSink`
// this keeps a node_exporter textfile up to date without touching the time
// loop.
//
// Example:
//
//   maas::PrometheusTextFileSink sink("/var/lib/node_exporter/textfile/maas.prom");
//   maas::PeriodicPublisher publisher(&registry, &sink, absl::Seconds(15));
//   ... the simulation runs ...
//   // ~PeriodicPublisher: a final publish, then the thread ends.

#ifndef MAAS_METRICS_PUBLISHER_H_
#define MAAS_METRICS_PUBLISHER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "maas/metrics/registry.h"

namespace maas {

// PeriodicPublisher
//
// Registry and sink are not owned and must outlive the publisher. The
// thread starts in the constructor. Thread-safe: `last_status()` and
// `publishes()` may be read from any thread.
class PeriodicPublisher {
 public:
  PeriodicPublisher(const MetricsRegistry* registry, MetricsSink* sink, absl::Duration interval)
      : registry_(registry), sink_(sink), interval_(interval) {
    thread_ = std::thread([this] { Run(); });
  }
  PeriodicPublisher(const PeriodicPublisher&) = delete;
  PeriodicPublisher& operator=(const PeriodicPublisher&) = delete;

  // Publishes a last time and joins the thread.
  ~PeriodicPublisher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // PeriodicPublisher::last_status()
  //
  // The status of the latest publish (OK before the first).
  absl::Status last_status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

  // PeriodicPublisher::publishes()
  std::int64_t publishes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return publishes_;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    const auto period = absl::ToChronoNanoseconds(interval_);
    for (;;) {
      const bool stopping = cv_.wait_for(lock, period, [this] { return stop_; });
      lock.unlock();
      absl::Status s = registry_->PublishTo(*sink_);
      lock.lock();
      last_ = s;
      ++publishes_;
      if (stopping) return;
    }
  }

  const MetricsRegistry* const registry_;
  MetricsSink* const sink_;
  const absl::Duration interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  absl::Status last_;
  std::int64_t publishes_ = 0;
  std::thread thread_;
};

}  // namespace maas

#endif  // MAAS_METRICS_PUBLISHER_H_
