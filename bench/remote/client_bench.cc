// Client-side cost of one remote predict, against a running server.
//
//   maas_client_bench --url http://127.0.0.1:8080 --model mlp16 --rows 1
//       --format json|binary --client maas|raw --seconds 5
//   maas_client_bench ... --dump-request PATH   (write the maas request: body,
//       and PATH.header = Inference-Header-Content-Length or empty; then exit)
//
// Clients, one request at a time on one keep-alive connection:
//  * maas: maas::RemoteModel::Predict (encode, HttpClientTransport's built-in
//    HTTP/1.1 engine, decode into the caller's buffer), the signature fetched
//    before timing; maas-curl: the same over the libcurl engine;
//  * chain: ConnectWithFallback() (retry, circuit breaker, NaN guard, local
//    fallback) on the healthy server;
//  * raw: a blocking socket with TCP_NODELAY sending the very bytes maas
//    sends (request line, headers and body in one write) and reading until
//    the Content-Length is complete; it does not decode the reply, so it is
//    the floor of what any HTTP client can cost.
// Prints one JSON line: requests, seconds, requests/s and the process' CPU
// per request over the timed loop only: `cpu_us` from
// CLOCK_PROCESS_CPUTIME_ID (exact scheduler run time), `user_us`/`sys_us`
// from getrusage (the kernel splits by timer ticks, so on a VM the split is
// statistical and can disagree with the total).
//
// Client "in-memory" is maas without the network: RemoteModel over a
// transport that replays one recorded reply, i.e. maas' own user-space CPU
// per request (validation, encoding, decoding); "in-memory-chain" the same
// inside the fallback chain.
// Driven by bench/remote/client_bench.py.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "maas/local/model_file.h"
#include "maas/remote/http_client_transport.h"
#include "maas/remote/kserve_v2_codec.h"
#include "maas/remote/remote_model.h"
#include "maas/resilient_model.h"

namespace {

struct Args {
  std::string url = "http://127.0.0.1:8080";
  std::string model = "mlp16";
  std::int64_t rows = 1;
  bool binary = false;
  std::string client = "maas";
  double seconds = 5;
  std::string dump;
};

double CpuSeconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + 1e-6 * static_cast<double>(tv.tv_usec);
}

// The bytes maas sends for one request (reused by the raw client and wrk).
struct Wire {
  std::string path, body, content_type;
  std::size_t header_length = 0;
};

Wire MaasRequest(const Args& a, const std::vector<float>& x) {
  maas::InferRequestOptions ro;
  ro.binary_inputs = ro.binary_outputs = a.binary;
  maas::EncodedRequest enc;
  maas::ConstTensorView in("x", absl::MakeConstSpan(x), {a.rows, 16});
  absl::Status s = maas::KServeV2EncodeInferRequest({in}, ro, &enc);
  if (!s.ok()) {
    std::cerr << s << "\n";
    std::exit(1);
  }
  return {maas::KServeV2InferPath(a.model, ""), enc.body,
          enc.content_type.empty() ? "application/json" : enc.content_type,
          enc.header_length};
}

// The model the benchmark's server serves (tests/remote/server/data/mlp16.json).
using Mlp16 = maas::Network<float, maas::Dense<16, 32, maas::Relu>, maas::Dense<32, 32, maas::Tanh>,
                            maas::Dense<32, 8, maas::Sigmoid>>;

// One client: set up and warmed by its factory, then `once` does a request.
using Once = std::function<bool()>;

// A Predictor doing one request per call, as a client.
Once PredictorClient(const Args& a, const std::vector<float>& x,
                     std::unique_ptr<maas::Predictor> model) {
  if (auto sig = model->Signature(); !sig.ok()) {
    std::cerr << sig.status() << "\n";
    return nullptr;
  }
  struct State {
    std::unique_ptr<maas::Predictor> model;
    std::vector<float> y;
    maas::ConstTensorView in;
    maas::TensorView out;
  };
  auto st = std::make_shared<State>();
  st->model = std::move(model);
  st->y.resize(static_cast<std::size_t>(a.rows) * 8);
  st->in = maas::ConstTensorView("", absl::MakeConstSpan(x), {a.rows, 16});
  st->out = maas::TensorView("", absl::MakeSpan(st->y), {a.rows, 8});
  return [st]() {
    maas::Predictor& p = *st->model;
    absl::Status s = p.Predict({st->in}, {st->out});
    if (!s.ok()) std::cerr << s << "\n";
    return s.ok();
  };
}

// maas::RemoteModel::Predict over the chosen engine (plain = the built-in
// HTTP/1.1 engine, curl = libcurl).
Once MaasClient(const Args& a, const std::vector<float>& x, maas::HttpEngine engine) {
  maas::RemoteModelOptions o;
  o.model = a.model;
  o.binary = a.binary;
  maas::HttpTransportOptions h;
  h.engine = engine;
  auto model = maas::ConnectRemoteModel(a.url, o, h);
  if (!model.ok()) {
    std::cerr << model.status() << "\n";
    return nullptr;
  }
  return PredictorClient(a, x, *std::move(model));
}

// The whole fallback chain (ConnectWithFallback: retry, circuit breaker,
// NaN guard, local fallback) on a healthy server: what resilience costs when
// nothing goes wrong.
Once ChainClient(const Args& a, const std::vector<float>& x) {
  auto local = maas::LoadLocalModel<Mlp16>(MAAS_BENCH_MLP16);
  if (!local.ok()) {
    std::cerr << local.status() << "\n";
    return nullptr;
  }
  maas::ResilientOptions o;
  o.remote.binary = a.binary;
  auto chain = maas::ConnectWithFallback(a.url, a.model,
                                         std::unique_ptr<maas::Predictor>(*std::move(local)), o);
  if (!chain.ok()) {
    std::cerr << chain.status() << "\n";
    return nullptr;
  }
  return PredictorClient(a, x, *std::move(chain));
}

// Replays one recorded reply without touching the network: what maas costs
// in user space alone (validation, encode, request assembly, decode).
class ReplayTransport final : public maas::HttpTransport {
 public:
  explicit ReplayTransport(std::shared_ptr<maas::HttpTransport> real) : real_(std::move(real)) {}
  absl::StatusOr<maas::HttpResponse> Send(const maas::HttpRequest& request) override {
    if (request.method == maas::HttpMethod::kGet || !recorded_.has_value()) {
      absl::StatusOr<maas::HttpResponse> r = real_->Send(request);
      if (r.ok() && request.method == maas::HttpMethod::kPost) recorded_ = *r;
      return r;
    }
    return *recorded_;
  }
  std::string base_url() const override { return real_->base_url(); }

 private:
  std::shared_ptr<maas::HttpTransport> real_;
  std::optional<maas::HttpResponse> recorded_;
};

// maas without the network (RemoteModel over the replaying transport);
// `chain`: inside the same fallback chain as ChainClient, so the difference
// between the two is the chain's own CPU per call.
Once InMemoryClient(const Args& a, const std::vector<float>& x, bool chain) {
  auto real = maas::HttpClientTransport::Create(a.url);
  if (!real.ok()) return nullptr;
  maas::RemoteModelOptions o;
  o.model = a.model;
  o.binary = a.binary;
  auto model = maas::RemoteModel::Create(
      o, std::make_shared<ReplayTransport>(std::shared_ptr<maas::HttpTransport>(*std::move(real))));
  if (!model.ok()) return nullptr;
  std::unique_ptr<maas::Predictor> p = *std::move(model);
  if (chain) {
    auto local = maas::LoadLocalModel<Mlp16>(MAAS_BENCH_MLP16);
    if (!local.ok()) return nullptr;
    maas::ResilientOptions ro;
    p = std::make_unique<maas::RetryingPredictor>(
        std::make_unique<maas::CircuitBreakerPredictor>(
            std::make_unique<maas::NonFiniteGuardPredictor>(std::move(p)), ro.breaker),
        ro.retry);
    auto c = maas::FallbackPredictor::Create(
        std::move(p), std::unique_ptr<maas::Predictor>(*std::move(local)), ro.fallback);
    if (!c.ok()) return nullptr;
    p = *std::move(c);
  }
  return PredictorClient(a, x, std::move(p));
}

Once RawClient(const Args& a, const std::vector<float>& x) {
  auto url = maas::detail::ParseBaseUrl(a.url);
  if (!url.ok()) {
    std::cerr << url.status() << "\n";
    return nullptr;
  }
  const Wire w = MaasRequest(a, x);
  auto req = std::make_shared<std::string>(absl::StrCat(
      "POST ", w.path, " HTTP/1.1\r\nHost: ", url->host, ":", url->port,
      "\r\nContent-Type: ", w.content_type, "\r\nContent-Length: ", w.body.size(),
      "\r\n"));
  if (w.header_length > 0) {
    absl::StrAppend(req.get(), "Inference-Header-Content-Length: ", w.header_length, "\r\n");
  }
  absl::StrAppend(req.get(), "\r\n", w.body);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(url->port));
  inet_pton(AF_INET, url->host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("connect");
    return nullptr;
  }
  auto buf = std::make_shared<std::vector<char>>(std::size_t{1} << 21);
  return [fd, req, buf]() {
    if (write(fd, req->data(), req->size()) != static_cast<ssize_t>(req->size())) {
      return false;
    }
    std::size_t have = 0, need = 0;
    while (true) {
      const ssize_t got = read(fd, buf->data() + have, buf->size() - have);
      if (got <= 0) return false;
      have += static_cast<std::size_t>(got);
      if (need == 0) {
        const char* end =
            static_cast<const char*>(memmem(buf->data(), have, "\r\n\r\n", 4));
        if (end == nullptr) continue;
        const std::size_t head = static_cast<std::size_t>(end - buf->data()) + 4;
        const char* cl =
            static_cast<const char*>(memmem(buf->data(), head, "content-length: ", 16));
        const std::size_t len = cl == nullptr ? 0 : std::strtoul(cl + 16, nullptr, 10);
        need = head + len;
      }
      if (have >= need) return true;
    }
  };
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--url") a.url = v;
    else if (k == "--model") a.model = v;
    else if (k == "--rows") a.rows = std::stoll(v);
    else if (k == "--format") a.binary = v == "binary";
    else if (k == "--client") a.client = v;
    else if (k == "--seconds") a.seconds = std::stod(v);
    else if (k == "--dump-request") a.dump = v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> x(static_cast<std::size_t>(a.rows) * 16);
  for (float& v : x) v = d(rng);

  if (!a.dump.empty()) {
    const Wire w = MaasRequest(a, x);
    std::ofstream(a.dump, std::ios::binary) << w.body;
    std::ofstream(a.dump + ".header") << (w.header_length > 0 ? absl::StrCat(w.header_length) : "");
    std::ofstream(a.dump + ".type") << w.content_type;
    return 0;
  }

  Once once = a.client == "raw"               ? RawClient(a, x)
              : a.client == "in-memory"        ? InMemoryClient(a, x, false)
              : a.client == "in-memory-chain"  ? InMemoryClient(a, x, true)
              : a.client == "chain"            ? ChainClient(a, x)
              : a.client == "maas-curl"        ? MaasClient(a, x, maas::HttpEngine::kCurl)
                                               : MaasClient(a, x, maas::HttpEngine::kPlain);
  if (once == nullptr) return 1;
  for (int i = 0; i < 50; ++i) {  // warm up: connection, buffers, server
    if (!once()) return 1;
  }
  rusage r0{}, r1{};
  timespec c0{}, c1{};
  std::size_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto stop = t0 + std::chrono::duration<double>(a.seconds);
  getrusage(RUSAGE_SELF, &r0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  while (std::chrono::steady_clock::now() < stop) {
    for (int i = 0; i < 16; ++i, ++n) {
      if (!once()) return 1;
    }
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  getrusage(RUSAGE_SELF, &r1);
  const double cpu = static_cast<double>(c1.tv_sec - c0.tv_sec) +
                     1e-9 * static_cast<double>(c1.tv_nsec - c0.tv_nsec);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double user = CpuSeconds(r1.ru_utime) - CpuSeconds(r0.ru_utime);
  const double sys = CpuSeconds(r1.ru_stime) - CpuSeconds(r0.ru_stime);
  const double per = 1e6 / static_cast<double>(n);
  absl::PrintF(
      "{\"client\":\"%s\",\"format\":\"%s\",\"rows\":%d,\"requests\":%d,"
      "\"seconds\":%.3f,\"rps\":%.1f,\"user_us\":%.2f,\"sys_us\":%.2f,\"cpu_us\":%.2f}\n",
      a.client, a.binary ? "binary" : "json", a.rows, n, secs,
      static_cast<double>(n) / secs, user * per, sys * per, cpu * per);
  return 0;
}
