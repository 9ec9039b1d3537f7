// Routing benchmarks against a real server (bench/routing/run_routing_bench.py
// starts the servers, the network namespace and this program):
//
//   maas_routing_bench batching --url URL [--threads 8] [--seconds 3] [--rounds 3]
//       [--in-flight 1] [--max-delay-us 0]
//       Throughput of `threads` threads each calling 1x16 predicts on mlp16:
//       straight to one shared RemoteModel ("unbatched") vs through a
//       BatchingPredictor over it ("batched", BatchingOptions'
//       defaults unless --in-flight sets max_in_flight_batches and
//       --max-delay-us max_delay); interleaved rounds, medians.
//
//   maas_routing_bench async --url URL [--steps 400] [--rounds 3] [--spin-us 50]
//       [--worker-cpu 1]
//       A time step = local work W + one 1x16 predict. Synchronous: work,
//       then call. Asynchronous: PredictAsync, work, Wait. For W = 0.5, 1 and
//       2 x the call's median: the medians of call, work, both steps, and the
//       overhead = async step - max(work, call). The calling thread runs on
//       CPU 0, the AsyncPredictor's worker on CPU 1 (with the server).
//       `--url sleep:US`: a model that sleeps US microseconds instead (no
//       server): the async machinery's own overhead. The floor every worker
//       pool pays is measured in the same run ("handoff"): the caller wakes
//       a thread sleeping on a condition variable on CPU 1 and spins until
//       it answers (notify: the caller's cost; round trip: until answered).
//
//   maas_routing_bench router --url URL --local FILE [--model wide]
//       [--batches 1,2,...] [--reps 5]
//       The model (FP64, 16 -> 1024 relu -> 1024 relu -> 8 sigmoid) in-process
//       (maas::LocalModel, the caller's thread) and on the server: median
//       time per batch size for each side; then a LatencyRouter learns from
//       mixed batches and says which side it picks per batch size; the
//       measured crossover (first batch size where the remote is faster) and
//       the router's fitted one.
//
// Output: human-readable lines plus one JSON line ("RESULT {...}") for the
// driver.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "maas/remote/http_client_transport.h"
#include "maas/routing/async.h"
#include "maas/routing/batching.h"
#include "maas/routing/router.h"

namespace {

using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> Args(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 2; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  return a;
}

std::string Get(const std::map<std::string, std::string>& a, const std::string& k, std::string def) {
  auto it = a.find(k);
  return it == a.end() ? def : it->second;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

std::unique_ptr<maas::RemoteModel> Connect(const std::string& url, const std::string& model,
                                           bool binary) {
  maas::RemoteModelOptions o;
  o.model = model;
  o.binary = binary;
  maas::HttpTransportOptions http;
  http.max_idle_connections = 16;
  auto m = maas::ConnectRemoteModel(url, o, http);
  if (!m.ok()) {
    std::fprintf(stderr, "connect: %s\n", m.status().ToString().c_str());
    std::exit(2);
  }
  return *std::move(m);
}

// ---------------------------------------------------------------- batching

double CallsPerSecond(maas::Predictor& p, int threads, double seconds, std::atomic<int>* errors) {
  std::atomic<bool> go{false}, stop{false};
  std::atomic<std::int64_t> calls{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      std::normal_distribution<float> d(0.f, 1.f);
      std::vector<float> x(16), y(8);
      while (!go.load()) std::this_thread::yield();
      while (!stop.load()) {
        for (float& v : x) v = d(rng);
        absl::Status s = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 16})},
                                   {maas::TensorView("y", absl::MakeSpan(y), {1, 8})});
        if (!s.ok()) errors->fetch_add(1);
        calls.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  const auto t0 = Clock::now();
  go.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& t : ts) t.join();
  const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(calls.load()) / dt;
}

int Batching(const std::map<std::string, std::string>& a) {
  const std::string url = Get(a, "--url", "");
  const int threads = std::stoi(Get(a, "--threads", "8"));
  const double seconds = std::stod(Get(a, "--seconds", "3"));
  const int rounds = std::stoi(Get(a, "--rounds", "3"));
  const bool binary = Get(a, "--binary", "1") == "1";
  maas::BatchingOptions bo;
  bo.max_in_flight_batches =
      std::stoi(Get(a, "--in-flight", std::to_string(bo.max_in_flight_batches)));
  bo.max_delay = absl::Microseconds(std::stoi(Get(a, "--max-delay-us", "0")));
  std::unique_ptr<maas::Predictor> direct = Connect(url, "mlp16", binary);
  maas::BatchingPredictor batched(Connect(url, "mlp16", binary), bo);
  std::atomic<int> errors{0};
  CallsPerSecond(*direct, threads, 0.5, &errors);  // warm both (connections, signature)
  CallsPerSecond(batched, threads, 0.5, &errors);
  std::vector<double> un, ba, ratio;
  for (int r = 0; r < rounds; ++r) {
    const double u = CallsPerSecond(*direct, threads, seconds, &errors);
    const double b = CallsPerSecond(batched, threads, seconds, &errors);
    un.push_back(u);
    ba.push_back(b);
    ratio.push_back(b / u);
    std::printf("round %d: unbatched %.0f calls/s, batched %.0f calls/s, ratio %.2f\n", r + 1, u, b,
                b / u);
  }
  const maas::BatchingStats s = batched.stats();
  const double rows_per_request =
      static_cast<double>(s.batched_rows) / static_cast<double>(std::max<std::int64_t>(1, s.batches));
  std::printf("median: unbatched %.0f calls/s, batched %.0f calls/s, ratio %.2f (median of ratios)\n",
              Median(un), Median(ba), Median(ratio));
  std::printf("batched: %lld calls in %lld requests (%.2f rows/request), largest %lld; errors %d\n",
              static_cast<long long>(s.calls), static_cast<long long>(s.batches), rows_per_request,
              static_cast<long long>(s.largest_batch), errors.load());
  std::printf("RESULT {\"mode\":\"batching\",\"threads\":%d,\"in_flight\":%d,\"max_delay_us\":%s,"
              "\"unbatched\":%.1f,\"batched\":%.1f,\"ratio\":%.3f,\"rows_per_request\":%.3f,"
              "\"errors\":%d}\n",
              threads, bo.max_in_flight_batches, Get(a, "--max-delay-us", "0").c_str(), Median(un),
              Median(ba), Median(ratio), rows_per_request, errors.load());
  return errors.load() == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- async

// A fixed amount of floating-point work (not a wall-clock wait).
double Spin(std::int64_t iters) {
  double x = 1.0;
  for (std::int64_t i = 0; i < iters; ++i) x = x * 1.0000001 + 1e-9;
  return x;
}

// A stand-in for a remote model whose call costs no CPU on this machine: it
// sleeps `us` microseconds and writes zeros ("--url sleep:500"). Isolates
// the async machinery's own overhead from CPU contention with a server
// running on the same two cores.
class SleepModel final : public maas::Predictor {
 public:
  explicit SleepModel(int us) : us_(us) {}
  absl::StatusOr<maas::ModelSignature> Signature() override { return maas::ModelSignature(); }

 protected:
  absl::Status DoPredict(absl::Span<const maas::ConstTensorView>,
                         absl::Span<const maas::TensorView> outputs) override {
    std::this_thread::sleep_for(std::chrono::microseconds(us_));
    for (const maas::TensorView& o : outputs) std::memset(o.raw_data(), 0, o.byte_size());
    return absl::OkStatus();
  }

 private:
  int us_;
};

// The cost of waking a thread that sleeps on a condition variable on CPU 1
// from CPU 0, as any worker pool pays it per call (after `idle_us` of
// sleep, so the thread is really asleep): the medians of the notifying
// caller's cost and of the round trip until the woken thread answers.
struct Handoff {
  double notify_us;
  double roundtrip_us;
};

Handoff MeasureHandoff(int n, int idle_us) {
  std::mutex mu;
  std::condition_variable cv;
  std::int64_t seq = 0;
  bool stop = false;
  std::atomic<std::int64_t> answered{0};
  std::thread t([&] {
    Pin(1);
    std::unique_lock<std::mutex> lock(mu);
    std::int64_t seen = 0;
    for (;;) {
      cv.wait(lock, [&] { return stop || seq != seen; });
      if (stop) return;
      seen = seq;
      answered.store(seen, std::memory_order_release);
    }
  });
  std::vector<double> notify, roundtrip;
  for (std::int64_t i = 1; i <= n; ++i) {
    const auto idle_end = Clock::now() + std::chrono::microseconds(idle_us);
    while (Clock::now() < idle_end) {
    }
    const auto t0 = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu);
      seq = i;
    }
    cv.notify_one();
    const auto t1 = Clock::now();
    while (answered.load(std::memory_order_acquire) != i) {
    }
    const auto t2 = Clock::now();
    notify.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    roundtrip.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_one();
  t.join();
  return {Median(notify), Median(roundtrip)};
}

int Async(const std::map<std::string, std::string>& a) {
  const std::string url = Get(a, "--url", "");
  const int steps = std::stoi(Get(a, "--steps", "400"));
  const int rounds = std::stoi(Get(a, "--rounds", "3"));
  // The worker thread inherits CPU `--worker-cpu` (default 1, with the
  // server); the caller then moves to CPU 0.
  Pin(std::stoi(Get(a, "--worker-cpu", "1")));
  maas::AsyncOptions ao;
  ao.threads = 1;
  ao.wait_spin = absl::Microseconds(std::stoi(Get(a, "--spin-us", "50")));
  std::unique_ptr<maas::Predictor> inner;
  if (url.rfind("sleep:", 0) == 0) {
    inner = std::make_unique<SleepModel>(std::stoi(url.substr(6)));
  } else {
    inner = Connect(url, "mlp16", true);
  }
  maas::AsyncPredictor model(std::move(inner), ao);
  Pin(0);
  std::vector<float> x(16, 0.25f), y(8);
  const maas::ConstTensorView in("x", absl::MakeConstSpan(x), {1, 16});
  const maas::TensorView out("y", absl::MakeSpan(y), {1, 8});
  auto sync_call = [&] {
    if (!model.Predict({&in, 1}, {&out, 1}).ok()) std::exit(3);
  };
  auto now = [] { return Clock::now(); };
  auto us = [](Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); };
  for (int i = 0; i < 50; ++i) sync_call();
  // Calibrate the work loop: iterations per microsecond.
  std::vector<double> per_us;
  for (int i = 0; i < 20; ++i) {
    const auto t0 = now();
    volatile double sink = Spin(200000);
    (void)sink;
    per_us.push_back(200000 / us(now() - t0));
  }
  const double iters_per_us = Median(per_us);
  std::vector<double> call_t;
  for (int i = 0; i < steps; ++i) {
    const auto t0 = now();
    sync_call();
    call_t.push_back(us(now() - t0));
  }
  const double call = Median(call_t);
  std::printf("call (1x16, synchronous): median %.1f us\n", call);
  const Handoff handoff = MeasureHandoff(steps, 300);
  std::printf("handoff (wake a sleeping thread on CPU 1): notify %.1f us, round trip %.1f us\n",
              handoff.notify_us, handoff.roundtrip_us);
  std::string json = "[";
  for (double factor : {0.5, 1.0, 2.0}) {
    const auto iters = static_cast<std::int64_t>(factor * call * iters_per_us);
    std::vector<double> work_m, sync_m, async_m, call_m;
    for (int r = 0; r < rounds; ++r) {
      std::vector<double> w, s, as, c;
      for (int i = 0; i < steps; ++i) {
        auto t0 = now();
        volatile double sink = Spin(iters);
        w.push_back(us(now() - t0));
        t0 = now();
        sink = Spin(iters);
        sync_call();
        s.push_back(us(now() - t0));
        t0 = now();
        auto f = model.PredictAsync({&in, 1}, {&out, 1});
        sink = Spin(iters);
        if (!f.ok() || !f->Wait().ok()) std::exit(4);
        as.push_back(us(now() - t0));
        t0 = now();
        sync_call();
        c.push_back(us(now() - t0));
        (void)sink;
      }
      work_m.push_back(Median(w));
      sync_m.push_back(Median(s));
      async_m.push_back(Median(as));
      call_m.push_back(Median(c));
    }
    const double wk = Median(work_m), sy = Median(sync_m), as = Median(async_m), cl = Median(call_m);
    const double overhead = as - std::max(wk, cl);
    std::printf("work %.0f us + call %.0f us: sync step %.1f us, async step %.1f us, "
                "max(work, call) %.1f us, overhead %+.1f us\n",
                wk, cl, sy, as, std::max(wk, cl), overhead);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s{\"work_us\":%.1f,\"call_us\":%.1f,\"sync_us\":%.1f,\"async_us\":%.1f,\"overhead_us\":%.1f}",
                  json.size() > 1 ? "," : "", wk, cl, sy, as, overhead);
    json += buf;
  }
  json += "]";
  std::printf("RESULT {\"mode\":\"async\",\"notify_us\":%.2f,\"handoff_us\":%.2f,\"steps\":%s}\n",
              handoff.notify_us, handoff.roundtrip_us, json.c_str());
  return 0;
}

// ---------------------------------------------------------------- router

using Wide = maas::Network<double, maas::Dense<16, 1024, maas::Relu>,
                           maas::Dense<1024, 1024, maas::Relu>, maas::Dense<1024, 8, maas::Sigmoid>>;

double TimeCall(maas::Predictor& p, const std::vector<double>& x, std::vector<double>* y) {
  const auto rows = static_cast<std::int64_t>(x.size() / 16);
  y->resize(static_cast<std::size_t>(rows) * 8);
  const auto t0 = Clock::now();
  absl::Status s = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 16})},
                             {maas::TensorView("y", absl::MakeSpan(*y), {rows, 8})});
  if (!s.ok()) {
    std::fprintf(stderr, "predict: %s\n", s.ToString().c_str());
    std::exit(5);
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int Router(const std::map<std::string, std::string>& a) {
  const std::string url = Get(a, "--url", "");
  const std::string file = Get(a, "--local", "");
  const std::string model = Get(a, "--model", "wide");
  const int reps = std::stoi(Get(a, "--reps", "5"));
  std::vector<int> batches;
  for (absl::string_view s : absl::StrSplit(Get(a, "--batches", "1,2,4,8,16,32,64,128,256,512,1024"), ',')) {
    int b = 0;
    if (absl::SimpleAtoi(s, &b)) batches.push_back(b);
  }
  auto local_or = maas::LoadLocalModel<Wide>(file);
  if (!local_or.ok()) {
    std::fprintf(stderr, "local: %s\n", local_or.status().ToString().c_str());
    return 2;
  }
  std::unique_ptr<maas::Predictor> local = *std::move(local_or);
  std::unique_ptr<maas::Predictor> remote = Connect(url, model, true);
  std::mt19937 rng(9);
  std::normal_distribution<double> d(0, 1);
  auto rows = [&](int b) {
    std::vector<double> x(static_cast<std::size_t>(b) * 16);
    for (double& v : x) v = d(rng);
    return x;
  };
  std::vector<double> y;
  for (int i = 0; i < 3; ++i) {  // warm both
    TimeCall(*local, rows(4), &y);
    TimeCall(*remote, rows(4), &y);
  }
  std::printf("%8s %14s %14s %8s\n", "rows", "local ms", "remote ms", "faster");
  std::vector<double> tl, tr;
  int measured_crossover = -1;
  for (int b : batches) {
    std::vector<double> l, r;
    for (int i = 0; i < reps; ++i) {
      const std::vector<double> x = rows(b);
      l.push_back(TimeCall(*local, x, &y));
      r.push_back(TimeCall(*remote, x, &y));
    }
    tl.push_back(Median(l));
    tr.push_back(Median(r));
    if (measured_crossover < 0 && tr.back() < tl.back()) measured_crossover = b;
    std::printf("%8d %14.3f %14.3f %8s\n", b, tl.back() * 1e3, tr.back() * 1e3,
                tr.back() < tl.back() ? "remote" : "local");
  }
  // The router learns from a mixed stream, as a simulation would give it.
  maas::RouterOptions ro;
  ro.explore_fraction = 0.1;
  maas::LatencyRouter router(std::move(local), std::move(remote), ro);
  for (int i = 0; i < 120; ++i) {
    TimeCall(router, rows(batches[static_cast<std::size_t>(i) % batches.size()]), &y);
  }
  const maas::RouterCost cl = router.Cost(0), cr = router.Cost(1);
  std::printf("router fit: local %.1f us + %.1f us/row, remote %.1f us + %.1f us/row, crossover %.1f rows\n",
              cl.per_call * 1e6, cl.per_row * 1e6, cr.per_call * 1e6, cr.per_row * 1e6,
              router.CrossoverRows());
  int agree = 0;
  std::string json = "[";
  for (std::size_t k = 0; k < batches.size(); ++k) {
    const int pick = router.Choose(batches[k]);
    const int faster = tr[k] < tl[k] ? 1 : 0;
    agree += pick == faster ? 1 : 0;
    std::printf("rows %5d: router picks %-6s (measured faster: %s)\n", batches[k],
                pick == 1 ? "remote" : "local", faster == 1 ? "remote" : "local");
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s{\"rows\":%d,\"local_ms\":%.4f,\"remote_ms\":%.4f,\"router\":\"%s\"}",
                  k ? "," : "", batches[k], tl[k] * 1e3, tr[k] * 1e3, pick == 1 ? "remote" : "local");
    json += buf;
  }
  json += "]";
  std::printf("router agrees with the measurement at %d of %zu batch sizes\n", agree, batches.size());
  std::printf("RESULT {\"mode\":\"router\",\"measured_crossover\":%d,\"router_crossover\":%.2f,"
              "\"local\":{\"per_call_us\":%.2f,\"per_row_us\":%.3f},\"remote\":{\"per_call_us\":%.2f,"
              "\"per_row_us\":%.3f},\"agree\":%d,\"sizes\":%s}\n",
              measured_crossover, router.CrossoverRows(), cl.per_call * 1e6, cl.per_row * 1e6,
              cr.per_call * 1e6, cr.per_row * 1e6, agree, json.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: maas_routing_bench batching|async|router --url URL ...\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto a = Args(argc, argv);
  if (mode == "batching") return Batching(a);
  if (mode == "async") return Async(a);
  if (mode == "router") return Router(a);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
