// What the fallback chain costs and how fast it reacts (issue 8 targets):
//
//   maas_resilience_bench [--rounds 7] [--calls 200000]
//   maas_resilience_bench --case local|open --calls N    (one case, no timing:
//       for valgrind --tool=callgrind instruction counts)
//
//  1. local:  LocalModel::Predict (16 -> 32 relu -> 32 tanh -> 8 sigmoid,
//             float, 1 row) through the Predictor interface.
//  2. open:   the same call through ConnectWithFallback() whose server is
//             down and whose circuit is open: the local model answers.
//             Target: <= 1 us more than 1.
//  3. refused: the server is down (connection refused, nothing listening)
//             and the circuit still closed (minimum_calls set huge): every
//             call tries to connect, then the local model answers.
//             Target: answered within 1 ms.
//  4. stalled: a server that accepts and never answers, call deadline
//             100 ms: the local model answers at the deadline. Target:
//             within the deadline + 10 ms.
// 1 and 2: median over rounds of the mean ns per call (CLOCK_MONOTONIC);
// 3 and 4: median and maximum wall time per call. The healthy-chain overhead
// against a real server is bench/remote/client_bench (clients maas / chain).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "maas/local/model_file.h"
#include "maas/resilient_model.h"
#include "remote/transport/scripted_server.h"

namespace {

using Mlp16 = maas::Network<float, maas::Dense<16, 32, maas::Relu>, maas::Dense<32, 32, maas::Tanh>,
                            maas::Dense<32, 8, maas::Sigmoid>>;

std::unique_ptr<maas::Predictor> Local() {
  auto m = maas::LoadLocalModel<Mlp16>(MAAS_BENCH_MODEL);
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
    std::exit(1);
  }
  return std::unique_ptr<maas::Predictor>(*std::move(m));
}

int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::unique_ptr<maas::Predictor> Chain(const std::string& url, maas::ResilientOptions o) {
  auto c = maas::ConnectWithFallback(url, "mlp16", Local(), o);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(c);
}

struct Io {
  std::array<float, 16> x{};
  std::array<float, 8> y{};
  maas::ConstTensorView in{"", absl::MakeConstSpan(x), {1, 16}};
  maas::TensorView out{"", absl::MakeSpan(y), {1, 8}};
  bool Call(maas::Predictor& p) { return p.Predict({in}, {out}).ok(); }
};

double NsPerCall(maas::Predictor& p, Io& io, long calls) {
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < calls; ++i) {
    io.x[0] = static_cast<float>(i & 7);
    if (!io.Call(p)) std::exit(2);
  }
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(calls);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  long calls = 200000;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--rounds") rounds = std::stoi(v);
    else if (k == "--calls") calls = std::stol(v);
    else if (k == "--case") only = v;
  }
  const std::string down = absl::StrCat("http://127.0.0.1:", ClosedPort());
  auto local = Local();
  auto open = Chain(down, maas::ResilientOptions());
  Io io;
  // Open the circuit: 10 refused calls (the default minimum).
  for (int i = 0; i < 20; ++i) io.Call(*open);
  if (!only.empty()) {  // callgrind mode
    maas::Predictor& p = only == "open" ? *open : *local;
    for (long i = 0; i < calls; ++i) io.Call(p);
    return 0;
  }
  std::vector<double> t_local, t_open;
  for (int r = 0; r < rounds; ++r) {  // interleaved rounds
    t_local.push_back(NsPerCall(*local, io, calls));
    t_open.push_back(NsPerCall(*open, io, calls));
  }
  const double ml = Median(t_local), mo = Median(t_open);
  absl::PrintF("local model, 1x16, Predictor::Predict: %.1f ns/call (median of %d rounds of %d)\n", ml,
               rounds, calls);
  absl::PrintF("circuit open, local fallback answers: %.1f ns/call; +%.1f ns over local (target <= 1000)\n",
               mo, mo - ml);

  // 3. Refused connections with the circuit kept closed.
  maas::ResilientOptions keep_closed;
  keep_closed.breaker.minimum_calls = 1 << 30;
  keep_closed.breaker.window_size = 1 << 30;
  auto refused = Chain(down, keep_closed);
  std::vector<double> t_refused;
  for (int i = 0; i < 2000; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!io.Call(*refused)) return 2;
    t_refused.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t_refused.begin(), t_refused.end());
  absl::PrintF("server down (refused), circuit closed: answered in %.1f us median, %.1f us p99, %.1f us max of %d calls (target <= 1000 us)\n",
               t_refused[t_refused.size() / 2], t_refused[t_refused.size() * 99 / 100],
               t_refused.back(), static_cast<int>(t_refused.size()));

  // 4. A stalled server, 100 ms call deadline.
  maas_test::ScriptedServer stall([](int fd, int) {
    while (!maas_test::ScriptedServer::ReadRequest(fd).empty()) {
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  });
  maas::ResilientOptions stalled_opts;
  stalled_opts.fallback.default_timeout = absl::Milliseconds(100);
  stalled_opts.breaker.minimum_calls = 1 << 30;
  stalled_opts.breaker.window_size = 1 << 30;
  maas::RemoteModelOptions ro;
  ro.signature = (*local).Signature().value();  // the stalled server cannot tell it
  ro.signature->name = "mlp16";
  stalled_opts.remote = ro;
  auto stalled = Chain(stall.url(), stalled_opts);
  std::vector<double> t_stall;
  for (int i = 0; i < 10; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!io.Call(*stalled)) return 2;
    t_stall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t_stall.begin(), t_stall.end());
  absl::PrintF("stalled server, 100 ms deadline: answered in %.2f ms median, %.2f ms max of %d calls (target <= 110 ms)\n",
               t_stall[t_stall.size() / 2], t_stall.back(), static_cast<int>(t_stall.size()));
  return 0;
}
