// The exception barrier (issue 7 item 8) and the memory bound of a declared
// body (item 3), proven with an allocator this binary installs: global
// operator new can be told to fail at the k-th allocation of the calling
// thread, and it records the largest allocation made. Every allocation of a
// remote predict, of a transport call and of a local predict is failed in
// turn; each call must come back as a status (never terminate), with the
// caller's outputs untouched.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "doctest/doctest.h"
#include "maas/local/local_model.h"
#include "maas/local/network.h"
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#include "maas/testing/fake_transport.h"
#include "remote/transport/scripted_server.h"
#include "testing/status_doctest.h"

namespace {

thread_local long t_fail_at = 0;       // fail the allocation when it reaches 1
thread_local long t_allocations = 0;   // allocations since Arm()
thread_local bool t_failed = false;    // an allocation was failed
std::atomic<std::size_t> g_largest{0};

void* Allocate(std::size_t n) {
  ++t_allocations;
  if (t_fail_at > 0 && --t_fail_at == 0) {
    t_failed = true;
    throw std::bad_alloc();
  }
  std::size_t seen = g_largest.load(std::memory_order_relaxed);
  while (n > seen && !g_largest.compare_exchange_weak(seen, n)) {
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

// Fails this thread's k-th allocation from now (k >= 1).
void Arm(long k) {
  t_fail_at = k;
  t_allocations = 0;
  t_failed = false;
}
void Disarm() { t_fail_at = 0; }

}  // namespace

void* operator new(std::size_t n) { return Allocate(n); }
void* operator new[](std::size_t n) { return Allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using maas::DataType;

constexpr char kReply[] =
    R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[1.5,2.5]}]})";

maas::ModelSignature Sig() {
  maas::ModelSignature sig;
  sig.name = "m";
  sig.inputs = {{"x", DataType::kFloat32, {maas::kDynamic, 3}}};
  sig.outputs = {{"y", DataType::kFloat32, {maas::kDynamic, 2}}};
  return sig;
}

// Runs `call` with the k-th allocation failing, k = 1, 2, ... until a run
// makes no failing allocation; returns how many runs were made. `call`
// returns the status and whether the outputs still hold their marker.
// `prepare` runs before each call, unarmed (test-side setup that allocates).
template <typename F, typename P = void (*)()>
long FailEachAllocation(F call, P prepare = [] {}) {
  long k = 1;
  for (; k < 100000; ++k) {
    prepare();
    Arm(k);
    bool untouched = false;
    const absl::Status s = call(&untouched);
    const bool failed = t_failed;
    Disarm();
    if (!failed) {
      CHECK(s.ok());
      break;
    }
    CAPTURE(k);
    CAPTURE(s);
    CHECK_FALSE(s.ok());
    CHECK(untouched);
  }
  return k;
}

}  // namespace

TEST_SUITE("AllocationFailure") {

TEST_CASE("every allocation of a remote predict may fail: a status, outputs untouched") {
  auto fake = std::make_shared<maas::testing::FakeTransport>();
  fake->OnJson(maas::HttpMethod::kPost, "/v2/models/m/infer", kReply);
  maas::RemoteModelOptions opts;
  opts.model = "m";
  opts.signature = Sig();
  auto model = maas::RemoteModel::Create(opts, fake);
  REQUIRE(model.ok());
  const std::vector<float> x = {1, 2, 3};
  const long runs = FailEachAllocation([&](bool* untouched) {
    std::array<float, 2> y = {-7, -7};
    absl::Status s = (*model)->Predict(
        {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 3})},
        {maas::TensorView("y", absl::MakeSpan(y), {1, 2})});
    *untouched = y[0] == -7 && y[1] == -7;
    if (s.ok()) CHECK(y[1] == 2.5f);
    return s;
  });
  MESSAGE("remote predict: ", runs - 1, " allocations failed in turn");
  CHECK(runs > 5);
}

TEST_CASE("every allocation of the allocating predict and of Signature() may fail") {
  auto fake = std::make_shared<maas::testing::FakeTransport>();
  fake->OnJson(maas::HttpMethod::kPost, "/v2/models/m/infer", kReply);
  fake->OnJson(maas::HttpMethod::kGet, "/v2/models/m",
               R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,3]}],)"
               R"("outputs":[{"name":"y","datatype":"FP32","shape":[-1,2]}]})");
  maas::RemoteModelOptions opts;
  opts.model = "m";
  const std::vector<float> x = {1, 2, 3};
  std::unique_ptr<maas::RemoteModel> model;
  const long runs = FailEachAllocation(
      [&](bool* untouched) {
        *untouched = true;
        absl::StatusOr<maas::ModelSignature> sig = model->Signature();  // fetches metadata
        if (!sig.ok()) return sig.status();
        auto out = model->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 3})});
        return out.status();
      },
      [&] { model = *maas::RemoteModel::Create(opts, fake); });
  CHECK(runs > 5);
}

TEST_CASE("every allocation of a transport call may fail, on both engines") {
  maas_test::ScriptedServer server([](int fd, int) {
    while (true) {
      if (maas_test::ScriptedServer::ReadRequest(fd).empty()) return;
      maas_test::ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    }
  });
  for (maas::HttpEngine engine : {maas::HttpEngine::kPlain, maas::HttpEngine::kCurl}) {
    CAPTURE(static_cast<int>(engine));
    maas::HttpTransportOptions o;
    o.engine = engine;
    auto t = maas::HttpClientTransport::Create(server.url(), o);
    REQUIRE(t.ok());
    maas::HttpRequest r;
    r.path = "/x";
    const long runs = FailEachAllocation([&](bool* untouched) {
      *untouched = true;
      absl::StatusOr<maas::HttpResponse> resp = (*t)->Send(r);
      if (resp.ok()) CHECK(resp->body == "hello");
      return resp.status();
    });
    CHECK(runs > 3);
  }
}

TEST_CASE("a local predict allocates nothing") {
  using Net = maas::Network<float, maas::Dense<3, 8, maas::Relu>, maas::Dense<8, 2>>;
  auto net = std::make_unique<Net>();
  auto model = maas::LocalModel<Net>::Create(std::move(net), maas::LocalModel<Net>::DefaultSignature());
  REQUIRE(model.ok());
  const std::vector<float> x = {1, 2, 3};
  std::vector<float> y = {0, 0};
  maas::Predictor& p = **model;
  Arm(1);  // the first allocation would fail
  absl::Status s = p.Predict({maas::ConstTensorView("input", absl::MakeConstSpan(x), {1, 3})},
                             {maas::TensorView("output", absl::MakeSpan(y), {1, 2})});
  const long allocations = t_allocations;
  Disarm();
  CHECK(s.ok());
  CHECK(allocations == 0);
}

TEST_CASE("a declared body that never arrives costs memory only for the bytes received") {
  maas_test::ScriptedServer server([&](int fd, int) {
    if (maas_test::ScriptedServer::ReadRequest(fd).empty()) return;
    maas_test::ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n0123456789");
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
  });
  for (maas::HttpEngine engine : {maas::HttpEngine::kPlain, maas::HttpEngine::kCurl}) {
    CAPTURE(static_cast<int>(engine));
    maas::HttpTransportOptions o;
    o.engine = engine;
    o.total_timeout = absl::Milliseconds(300);
    auto t = maas::HttpClientTransport::Create(server.url(), o);
    REQUIRE(t.ok());
    g_largest = 0;
    maas::HttpRequest r;
    r.path = "/x";
    absl::StatusOr<maas::HttpResponse> resp = (*t)->Send(r);
    CHECK(resp.status().code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(g_largest.load() < (std::size_t{1} << 20));  // not the declared 200 MiB
  }
}

}  // TEST_SUITE
