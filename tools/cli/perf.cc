// maas perf: throughput and latency percentiles of a model over batch sizes
// and concurrency levels, for each way of running it (remote V2 JSON, remote
// V2 binary, local in-process), side by side.
//
// Method: for every (mode, batch size, concurrency) cell, `concurrency`
// threads each own a predictor (a remote client with its own connections, or
// a local network) and an input batch of standard-normal rows, make
// --warmup calls, then call Predict back to back until the cell has made
// --requests calls (remote modes; local ones: 2e6) or --seconds have passed
// (checked every 20 ms). Latency
// is each call's wall time (steady_clock); throughput is successful calls
// (and rows) per wall second from the start of the measured part to the
// return of its last call. The client runs on the same machine as the server, so
// both share the CPU: the figures are for this machine and load.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli.h"
#include "flags.h"
#include "maas/core/data_type.h"
#include "maas/core/tensor_view.h"

#ifndef MAAS_CLI_PLOT_SCRIPT
#define MAAS_CLI_PLOT_SCRIPT ""
#endif
#ifndef MAAS_CLI_PLOT_SCRIPT_INSTALLED
#define MAAS_CLI_PLOT_SCRIPT_INSTALLED ""
#endif

namespace maas_cli {
namespace {

using Clock = std::chrono::steady_clock;

// Calls per local measurement at most (8 bytes of latency record each).
constexpr std::int64_t kLocalMaxCalls = 2000000;

struct Mode {
  std::string name;  // "remote-json", "remote-binary", "local"
  std::function<absl::StatusOr<std::unique_ptr<maas::Predictor>>()> make;
};

struct Cell {
  std::string mode;
  int batch = 0;
  int concurrency = 0;
  std::int64_t requests = 0;
  std::int64_t errors = 0;
  double seconds = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, mean_ms = 0;
  std::string first_error;
  double req_per_s() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  double rows_per_s() const { return req_per_s() * batch; }
};

// Milliseconds with 4 significant digits (local calls take microseconds).
std::string Ms(double ms) { return absl::StrFormat("%.4g", ms); }

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, k == 0 ? 0 : k - 1)];
}

absl::StatusOr<std::vector<int>> IntList(const std::vector<std::string>& items,
                                         absl::string_view flag) {
  std::vector<int> out;
  for (const std::string& s : items) {
    int v = 0;
    if (!absl::SimpleAtoi(s, &v) || v <= 0 || v > 100000) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", s,
                                                     "' is not a positive integer"));
    }
    out.push_back(v);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is empty"));
  return out;
}

// One client thread's state.
struct Client {
  std::unique_ptr<maas::Predictor> predictor;
  std::vector<double> x64, y64;
  std::vector<float> x32, y32;
  std::vector<double> latencies_ms;
  Clock::time_point last_end;  // when this client's last measured call returned
};

class Progress {
 public:
  Progress(bool bar, std::size_t cells) : bar_(bar), cells_(cells) {}

  void Update(std::size_t done_cells, const std::string& what, double cell_fraction) {
    if (!bar_) return;
    const double f = (static_cast<double>(done_cells) + cell_fraction) /
                     static_cast<double>(cells_);
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(f * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r[%s] %3.0f%%  %zu/%zu  %-40s", bar.c_str(), 100 * f, done_cells,
                 cells_, what.c_str());
    std::fflush(stderr);
  }

  void CellDone(const Cell& c, std::size_t done_cells) {
    if (bar_) {
      Update(done_cells, "", 0);
      if (done_cells == cells_) std::fprintf(stderr, "\n");
      return;
    }
    std::fprintf(stderr,
                 "perf %zu/%zu: %s batch=%d concurrency=%d: %lld requests in %.2f s, %.0f req/s, "
                 "p50 %.3f ms, p99 %.3f ms%s\n",
                 done_cells, cells_, c.mode.c_str(), c.batch, c.concurrency,
                 static_cast<long long>(c.requests), c.seconds, c.req_per_s(), c.p50_ms, c.p99_ms,
                 c.errors ? absl::StrCat(", ", c.errors, " errors").c_str() : "");
  }

 private:
  bool bar_;
  std::size_t cells_;
};

absl::Status RunCell(const Mode& mode, const maas::ModelSignature& sig, int batch,
                     int concurrency, std::int64_t max_requests, double max_seconds, int warmup,
                     std::uint32_t seed, Progress& progress, std::size_t done_cells,
                     Cell* cell) {
  const maas::TensorSpec& in = sig.inputs[0];
  const maas::TensorSpec& out = sig.outputs[0];
  const bool fp64 = in.dtype == maas::DataType::kFloat64;
  const std::int64_t n_in = in.shape.dim(1);
  const std::int64_t n_out = out.shape.dim(1);
  std::vector<Client> clients(static_cast<std::size_t>(concurrency));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  for (Client& c : clients) {
    auto p = mode.make();
    if (!p.ok()) return p.status();
    c.predictor = *std::move(p);
    const auto nx = static_cast<std::size_t>(batch * n_in);
    const auto ny = static_cast<std::size_t>(batch * n_out);
    c.x64.resize(nx);
    for (double& v : c.x64) v = normal(rng);
    c.x32.assign(c.x64.begin(), c.x64.end());
    c.y64.resize(ny);
    c.y32.resize(ny);
  }
  auto call = [&](Client& c) {
    const maas::Shape xs{batch, n_in}, ys{batch, n_out};
    if (fp64) {
      return c.predictor->Predict(
          {maas::ConstTensorView(in.name, absl::MakeConstSpan(c.x64), xs)},
          {maas::TensorView(out.name, absl::MakeSpan(c.y64), ys)});
    }
    return c.predictor->Predict({maas::ConstTensorView(in.name, absl::MakeConstSpan(c.x32), xs)},
                                {maas::TensorView(out.name, absl::MakeSpan(c.y32), ys)});
  };
  // Warm-up (connections, caches), one client at a time: a failure here ends the cell.
  for (Client& c : clients) {
    for (int i = 0; i < warmup; ++i) {
      if (absl::Status s = call(c); !s.ok()) return s;
    }
  }
  // The measured span ends when the last call returns (not at the monitor's
  // next 100 ms tick).
  std::atomic<std::int64_t> started{0}, finished{0}, errors{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::string first_error;
  const Clock::time_point t0 = Clock::now();
  for (Client& c : clients) c.last_end = t0;
  std::vector<std::thread> threads;
  for (Client& c : clients) {
    threads.emplace_back([&, cp = &c] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (started.fetch_add(1) >= max_requests) break;
        const Clock::time_point a = Clock::now();
        absl::Status s = call(*cp);
        const Clock::time_point b = Clock::now();
        cp->last_end = b;
        if (s.ok()) {
          cp->latencies_ms.push_back(std::chrono::duration<double, std::milli>(b - a).count());
        } else {
          errors.fetch_add(1);
          std::lock_guard<std::mutex> lock(mu);
          if (first_error.empty()) first_error = s.ToString();
        }
        finished.fetch_add(1);
      }
    });
  }
  const std::string what = absl::StrFormat("%s batch %d x%d", mode.name, batch, concurrency);
  for (int tick = 0;; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const std::int64_t done = finished.load();
    if (tick % 5 == 0) {  // redraw the bar ten times a second
      progress.Update(done_cells, what,
                      std::min(1.0, std::max(elapsed / max_seconds,
                                             static_cast<double>(done) /
                                                 static_cast<double>(max_requests))));
    }
    if (elapsed >= max_seconds) stop = true;
    if (stop || done >= max_requests) break;
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  Clock::time_point end = t0;
  for (const Client& c : clients) end = std::max(end, c.last_end);
  const double seconds = std::chrono::duration<double>(end - t0).count();
  std::vector<double> all;
  for (Client& c : clients) all.insert(all.end(), c.latencies_ms.begin(), c.latencies_ms.end());
  std::sort(all.begin(), all.end());
  cell->mode = mode.name;
  cell->batch = batch;
  cell->concurrency = concurrency;
  cell->requests = static_cast<std::int64_t>(all.size());
  cell->errors = errors.load();
  cell->seconds = seconds;
  cell->first_error = first_error;
  cell->p50_ms = Percentile(all, 0.50);
  cell->p90_ms = Percentile(all, 0.90);
  cell->p99_ms = Percentile(all, 0.99);
  double sum = 0;
  for (double v : all) sum += v;
  cell->mean_ms = all.empty() ? 0 : sum / static_cast<double>(all.size());
  return absl::OkStatus();
}

std::string PlotScript() {
  if (const char* env = std::getenv("MAAS_PLOT_SCRIPT"); env != nullptr && *env) return env;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    std::string dir(exe);
    dir = dir.substr(0, dir.rfind('/'));
    const std::string installed = absl::StrCat(dir, "/", MAAS_CLI_PLOT_SCRIPT_INSTALLED);
    if (std::ifstream(installed).good()) return installed;
  }
  return MAAS_CLI_PLOT_SCRIPT;
}

absl::Status WriteCsv(const std::vector<Cell>& cells, const std::string& path,
                      const std::string& model) {
  std::ofstream out(path);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
  out << "model,mode,batch,concurrency,requests,errors,seconds,req_per_s,rows_per_s,p50_ms,"
         "p90_ms,p99_ms,mean_ms\n";
  for (const Cell& c : cells) {
    out << absl::StrFormat("%s,%s,%d,%d,%d,%d,%.4f,%.2f,%.2f,%.4f,%.4f,%.4f,%.4f\n", model,
                           c.mode, c.batch, c.concurrency, c.requests, c.errors, c.seconds,
                           c.req_per_s(), c.rows_per_s(), c.p50_ms, c.p90_ms, c.p99_ms,
                           c.mean_ms);
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

}  // namespace

int Perf(const std::vector<std::string>& args) {
  const std::string local = absl::GetFlag(FLAGS_local);
  const char* synopsis =
      "(URL MODEL [--local FILE] | --local FILE) [--batch-sizes 1,16,256] [--concurrency 1,4] "
      "[--modes json,binary,local] [--csv F] [--plot F.png]";
  if (!(args.size() == 2 || (args.empty() && !local.empty()))) {
    std::cerr << "usage: maas perf " << synopsis << "\n";
    return kExitUsage;
  }
  auto batches = IntList(absl::GetFlag(FLAGS_batch_sizes), "batch-sizes");
  auto conc = IntList(absl::GetFlag(FLAGS_concurrency), "concurrency");
  for (const auto* l : {&batches, &conc}) {
    if (!l->ok()) return Fail("perf", l->status(), kExitUsage);
  }
  const int requests = absl::GetFlag(FLAGS_requests);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  if (requests <= 0 || !(seconds > 0) || absl::GetFlag(FLAGS_warmup) < 0) {
    std::cerr << "maas perf: --requests and --seconds must be > 0, --warmup >= 0\n";
    return kExitUsage;
  }
  std::vector<std::string> modes = absl::GetFlag(FLAGS_modes);
  if (modes.empty()) {
    if (!args.empty()) modes = {"json", "binary"};
    if (!local.empty()) modes.push_back("local");
  }
  RemoteOptions remote;
  if (!args.empty()) {
    remote.url = args[0];
    remote.model = args[1];
    remote.version = absl::GetFlag(FLAGS_version);
    remote.timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout));
    remote.connections = 2;
  }
  maas::DataType local_dtype;
  if (!LocalPrecision("perf", &local_dtype)) return kExitUsage;
  std::vector<Mode> run;
  for (const std::string& m : modes) {
    if (m == "json" || m == "binary") {
      if (args.empty()) {
        std::cerr << "maas perf: mode '" << m << "' needs URL MODEL\n";
        return kExitUsage;
      }
      RemoteOptions o = remote;
      o.binary = m == "binary";
      run.push_back({absl::StrCat("remote-", m), [o]() -> absl::StatusOr<std::unique_ptr<maas::Predictor>> {
                       auto p = ConnectRemote(o);
                       if (!p.ok()) return p.status();
                       return std::unique_ptr<maas::Predictor>(*std::move(p));
                     }});
    } else if (m == "local") {
      if (local.empty()) {
        std::cerr << "maas perf: mode 'local' needs --local FILE\n";
        return kExitUsage;
      }
      run.push_back({"local", [local, local_dtype] { return OpenLocal(local, local_dtype); }});
    } else {
      std::cerr << "maas perf: unknown mode '" << m << "' (json, binary, local)\n";
      return kExitUsage;
    }
  }
  // The signature: from the first mode's predictor (remote metadata or the file).
  auto probe = run.front().make();
  if (!probe.ok()) return Fail("perf", probe.status(), kExitRefused);
  absl::StatusOr<maas::ModelSignature> sig = (*probe)->Signature();
  if (!sig.ok()) return Fail("perf", sig.status(), kExitRefused);
  if (sig->inputs.size() != 1 || sig->outputs.size() != 1 || sig->inputs[0].shape.rank() != 2 ||
      sig->outputs[0].shape.rank() != 2 || sig->inputs[0].shape.dim(1) <= 0 ||
      sig->outputs[0].shape.dim(1) <= 0 ||
      (sig->inputs[0].dtype != maas::DataType::kFloat32 &&
       sig->inputs[0].dtype != maas::DataType::kFloat64)) {
    return Fail("perf", absl::InvalidArgumentError(absl::StrCat(
                            "model '", sig->name, "': maas perf needs one FP32/FP64 input "
                            "[-1, n] and one output [-1, m]")),
                kExitData);
  }
  probe->reset();

  std::string progress_flag = absl::GetFlag(FLAGS_progress);
  const bool bar = progress_flag == "bar" || (progress_flag == "auto" && isatty(2));
  const std::size_t total = run.size() * batches->size() * conc->size();
  Progress progress(bar, total);
  std::vector<Cell> cells;
  std::cerr << "maas perf: model '" << sig->name << "' "
            << sig->inputs[0].shape.ToString() << " -> " << sig->outputs[0].shape.ToString()
            << " " << maas::DataTypeName(sig->inputs[0].dtype) << "; " << total
            << " measurements of at most " << requests << " requests / " << seconds << " s\n";
  int exit_code = kExitOk;
  for (const Mode& m : run) {
    // The model's local signature carries the file's dtype; remote the server's.
    maas::ModelSignature msig = *sig;
    if (m.name == "local") {
      auto lp = m.make();
      if (!lp.ok()) return Fail("perf", lp.status(), kExitRefused);
      auto ls = (*lp)->Signature();
      if (!ls.ok()) return Fail("perf", ls.status(), kExitRefused);
      msig = *ls;
    }
    // An in-process call takes microseconds: a request cap made for a server
    // would end the measurement before the threads are all running, so local
    // cells run for --seconds (at most kLocalMaxCalls calls).
    const std::int64_t cap = m.name == "local" ? kLocalMaxCalls : requests;
    for (int b : *batches) {
      for (int c : *conc) {
        Cell cell;
        absl::Status s = RunCell(m, msig, b, c, cap, seconds, absl::GetFlag(FLAGS_warmup),
                                 static_cast<std::uint32_t>(absl::GetFlag(FLAGS_seed)), progress,
                                 cells.size(), &cell);
        if (!s.ok()) {
          if (bar) std::fprintf(stderr, "\n");
          return Fail("perf", s, kExitRefused);
        }
        cells.push_back(cell);
        progress.CellDone(cell, cells.size());
        if (cell.errors > 0) {
          std::cerr << "maas perf: " << cell.errors << " failed calls in " << cell.mode
                    << " batch " << b << " x" << c << ", first: " << cell.first_error << "\n";
          exit_code = kExitRefused;
        }
      }
    }
  }
  Table t({"mode", "batch", "clients", "requests", "req/s", "rows/s", "p50 ms", "p90 ms",
           "p99 ms", "errors"});
  for (const Cell& c : cells) {
    t.Add({c.mode, absl::StrCat(c.batch), absl::StrCat(c.concurrency), absl::StrCat(c.requests),
           absl::StrFormat("%.0f", c.req_per_s()), absl::StrFormat("%.0f", c.rows_per_s()),
           Ms(c.p50_ms), Ms(c.p90_ms), Ms(c.p99_ms), absl::StrCat(c.errors)});
  }
  std::cout << "maas perf: " << sig->name << " "
            << (args.empty() ? local : absl::StrCat(args[0], " ", args[1])) << "\n"
            << t.ToString();
  // Side by side: one row per (batch, clients), the modes as columns.
  if (run.size() > 1) {
    std::vector<std::string> header = {"batch", "clients"};
    for (const Mode& m : run) header.push_back(absl::StrCat(m.name, " rows/s"));
    for (const Mode& m : run) header.push_back(absl::StrCat(m.name, " p50 ms"));
    Table side(header);
    for (int b : *batches) {
      for (int c : *conc) {
        std::vector<std::string> rate, p50;
        for (const Mode& m : run) {
          for (const Cell& cell : cells) {
            if (cell.mode == m.name && cell.batch == b && cell.concurrency == c) {
              rate.push_back(absl::StrFormat("%.0f", cell.rows_per_s()));
              p50.push_back(Ms(cell.p50_ms));
            }
          }
        }
        std::vector<std::string> row = {absl::StrCat(b), absl::StrCat(c)};
        row.insert(row.end(), rate.begin(), rate.end());
        row.insert(row.end(), p50.begin(), p50.end());
        side.Add(std::move(row));
      }
    }
    std::cout << "\nside by side:\n" << side.ToString();
  }
  std::string csv = absl::GetFlag(FLAGS_csv);
  const std::string plot = absl::GetFlag(FLAGS_plot);
  if (csv.empty() && !plot.empty()) csv = plot + ".csv";
  if (!csv.empty()) {
    if (absl::Status s = WriteCsv(cells, csv, sig->name); !s.ok()) {
      return Fail("perf", s, kExitUsage);
    }
    std::cerr << "maas perf: measurements written to " << csv << "\n";
  }
  if (!plot.empty()) {
    std::string python = absl::GetFlag(FLAGS_python);
    if (python.empty()) {
      const char* env = std::getenv("MAAS_PYTHON");
      python = env != nullptr && *env ? env : "python3";
    }
    const std::string script = PlotScript();
    const std::string cmd = absl::StrCat("'", python, "' '", script, "' '", csv, "' '", plot,
                                         "' --title 'maas perf: ", sig->name, "'");
    const int rc = std::system(cmd.c_str());
    if (rc != 0) {
      std::cerr << "maas perf: the plot failed (" << cmd << " exited " << rc
                << "); is matplotlib installed for " << python << "?\n";
      return kExitUsage;
    }
    std::cerr << "maas perf: plot written to " << plot << "\n";
  }
  return exit_code;
}

}  // namespace maas_cli
