// The C API (include/maas/c/maas.h) through its C ABI: status codes and
// messages, no crash on bad input (null handles and pointers, wrong sizes),
// outputs untouched on failure; local models (run-time-sized network) against
// the compile-time network and a hand-computed model; remote models against
// an in-process KServe V2 server on 127.0.0.1 whose answers are computed
// independently (y = x0 + 2 x1 + 0.5 in the handler); fallback chains.
#include "maas/c/maas.h"

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#if MAAS_C_TEST_HTTP
#include "nlohmann/json.hpp"
#include "remote/transport/loopback_server.h"
#endif

namespace {

TEST_CASE("c api: status names and version") {
  CHECK(std::string(maas_status_name(MAAS_OK)) == "OK");
  CHECK(std::string(maas_status_name(MAAS_INVALID_ARGUMENT)) == "INVALID_ARGUMENT");
  CHECK(std::string(maas_status_name(MAAS_UNAVAILABLE)) == "UNAVAILABLE");
  CHECK(std::string(maas_status_name(MAAS_UNAUTHENTICATED)) == "UNAUTHENTICATED");
  CHECK(std::string(maas_status_name(-1)) == "UNKNOWN");
  CHECK(std::string(maas_status_name(17)) == "UNKNOWN");
  CHECK(std::string(maas_version()).find('.') != std::string::npos);
}

TEST_CASE("c api: null handles and pointers are statuses, not crashes") {
  double x[2] = {1, 2}, y[1] = {-7};
  float xf[2] = {1, 2}, yf[1] = {-7};
  CHECK(maas_model_predict_f64(nullptr, x, 1, 2, y, 1, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(std::string(maas_last_error()) == "the model handle is null");
  CHECK(maas_model_predict_f32(nullptr, xf, 1, 2, yf, 1, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(y[0] == -7);
  CHECK(yf[0] == -7);
  std::int64_t n = 0;
  CHECK(maas_model_input_size(nullptr, &n) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_output_size(nullptr, &n) == MAAS_INVALID_ARGUMENT);
  int d = 0;
  CHECK(maas_model_is_double(nullptr, &d) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_connect_remote("http://127.0.0.1:1", "m", nullptr, 0, nullptr) ==
        MAAS_INVALID_ARGUMENT);
  maas_model* m = reinterpret_cast<maas_model*>(0x1);
  CHECK(maas_model_connect_remote(nullptr, "m", nullptr, 0, &m) != MAAS_OK);
  CHECK(m == nullptr);
  maas_model_free(nullptr);
}

TEST_CASE("c api: last error copy truncates and reports the full length") {
  CHECK(maas_model_predict_f64(nullptr, nullptr, 0, 0, nullptr, 0, 0) == MAAS_INVALID_ARGUMENT);
  const std::string full = maas_last_error();
  char small[6];
  CHECK(maas_last_error_copy(small, sizeof small) == full.size());
  CHECK(std::string(small) == full.substr(0, 5));
  CHECK(maas_last_error_copy(nullptr, 0) == full.size());
  CHECK(std::string(maas_last_error()) == full);  // copying does not clear it
  CHECK(maas_status_name(0) != nullptr);
  CHECK(std::string(maas_last_error()) == full);  // nor does a non-fallible call
}

#if __has_include("maas/local/dynamic_network.h")
#define MAAS_C_TEST_LOCAL 1

// The drag model of the projectile example, compile-time sized.
using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>, maas::Dense<12, 1>>;

const std::string kDragModel = std::string(MAAS_TEST_SOURCE_DIR) + "/examples/data/drag_cd.json";

// x [-1, 2] -> y = x0 + 2 x1 + 0.5, FP64: the remote test server's formula.
constexpr const char* kAffineModel = R"({"format": "maas.mlp", "format_version": 1,
  "name": "affine",
  "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, 2]}],
  "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1, 1]}],
  "layers": [{"type": "dense", "units": 1, "activation": "identity",
              "weights": [[1], [2]], "bias": [0.5]}]})";

TEST_CASE("c api: local model from a file equals the compile-time network") {
  maas_model* m = nullptr;
  REQUIRE_MESSAGE(maas_model_load_local(kDragModel.c_str(), &m) == MAAS_OK, maas_last_error());
  std::int64_t in = 0, out = 0;
  int is_double = -1;
  CHECK(maas_model_input_size(m, &in) == MAAS_OK);
  CHECK(maas_model_output_size(m, &out) == MAAS_OK);
  CHECK(maas_model_is_double(m, &is_double) == MAAS_OK);
  CHECK(in == 1);
  CHECK(out == 1);
  CHECK(is_double == 1);
  auto ref = maas::LoadLocalModel<DragNet>(kDragModel);
  REQUIRE(ref.ok());
  for (std::int64_t rows : {1, 7, 300}) {
    CAPTURE(rows);
    std::vector<double> x(static_cast<std::size_t>(rows)), want(x.size()), got(x.size(), -9);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = -0.5 + 0.019 * static_cast<double>(i);
    REQUIRE((*ref)->PredictRows(x, absl::MakeSpan(want)).ok());
    REQUIRE(maas_model_predict_f64(m, x.data(), rows, 1, got.data(), rows, 1) == MAAS_OK);
    for (std::size_t i = 0; i < x.size(); ++i) {
      CHECK(std::abs(got[i] - want[i]) <= 1e-12 * std::max(1.0, std::abs(want[i])));
    }
  }
  maas_model_free(m);
}

TEST_CASE("c api: local model from text, hand-computed") {
  maas_model* m = nullptr;
  const std::string text = kAffineModel;
  REQUIRE_MESSAGE(maas_model_load_local_text(text.data(), text.size(), "affine", &m) == MAAS_OK,
                  maas_last_error());
  const double x[4] = {1, 2, -3, 0.25};
  double y[2] = {0, 0};
  REQUIRE(maas_model_predict_f64(m, x, 2, 2, y, 2, 1) == MAAS_OK);
  CHECK(y[0] == 5.5);
  CHECK(y[1] == -2.0);
  const float xf[2] = {0.5f, 0.25f};
  float yf[1] = {0};
  REQUIRE(maas_model_predict_f32(m, xf, 1, 2, yf, 1, 1) == MAAS_OK);
  CHECK(yf[0] == 1.5f);
  double untouched[2] = {-1, -1};
  CHECK(maas_model_predict_f64(m, x, 2, 1, untouched, 2, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(untouched[0] == -1);
  maas_model_free(m);
}

TEST_CASE("c api: local model errors are statuses with the file's name") {
  maas_model* m = reinterpret_cast<maas_model*>(0x1);
  CHECK(maas_model_load_local("/no/such/model.json", &m) == MAAS_NOT_FOUND);
  CHECK(m == nullptr);
  CHECK(std::string(maas_last_error()).find("/no/such/model.json") != std::string::npos);
  const std::string bad = R"({"format": "maas.mlp", "format_version": 1, "layers": [)";
  CHECK(maas_model_load_local_text(bad.data(), bad.size(), "bad.json", &m) ==
        MAAS_INVALID_ARGUMENT);
  CHECK(std::string(maas_last_error()).find("bad.json") != std::string::npos);
  CHECK(maas_model_load_local(nullptr, &m) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_load_local_text(nullptr, 3, nullptr, &m) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_load_local(kDragModel.c_str(), nullptr) == MAAS_INVALID_ARGUMENT);
  CHECK(m == nullptr);
}

TEST_CASE("c api: fallback chain arguments") {
  maas_model* a = nullptr;
  maas_model* b = nullptr;
  maas_model* chain = reinterpret_cast<maas_model*>(0x1);
  CHECK(maas_model_fallback(&a, &b, &chain) == MAAS_INVALID_ARGUMENT);
  CHECK(chain == nullptr);
  CHECK(maas_model_fallback(nullptr, nullptr, nullptr) == MAAS_INVALID_ARGUMENT);
  REQUIRE(maas_model_load_local(kDragModel.c_str(), &a) == MAAS_OK);
  CHECK(maas_model_fallback(&a, &a, &chain) == MAAS_INVALID_ARGUMENT);
  const std::string text = kAffineModel;
  REQUIRE(maas_model_load_local_text(text.data(), text.size(), "affine", &b) == MAAS_OK);
  // [-1,1] and [-1,2] do not fit: refused, and both handles still work.
  CHECK(maas_model_fallback(&a, &b, &chain) == MAAS_FAILED_PRECONDITION);
  CHECK(chain == nullptr);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  const double x[2] = {1, 2};
  double y[1] = {0};
  CHECK(maas_model_predict_f64(b, x, 1, 2, y, 1, 1) == MAAS_OK);
  CHECK(y[0] == 5.5);
  CHECK(maas_model_predict_f64(a, x, 1, 1, y, 1, 1) == MAAS_OK);
  maas_model_free(a);
  maas_model_free(b);
}

#else
#define MAAS_C_TEST_LOCAL 0

TEST_CASE("c api: local models") {
  std::printf("MAAS_SKIPPED: include/maas/local/dynamic_network.h is not in this tree\n");
}
#endif  // __has_include

#if MAAS_C_TEST_HTTP

// A KServe V2 server with models "affine" (FP64) and "affine32" (FP32),
// x [-1, 2] -> y [-1, 1], and "flaky", whose infer always answers 503.
class AffineServer {
 public:
  AffineServer() {
    auto& srv = server_.server();
    for (const char* name : {"affine", "affine32", "flaky"}) {
      const std::string dt = std::string(name) == "affine32" ? "FP32" : "FP64";
      const std::string meta = nlohmann::json{
          {"name", name}, {"platform", "test"},
          {"inputs", {{{"name", "x"}, {"datatype", dt}, {"shape", {-1, 2}}}}},
          {"outputs", {{{"name", "y"}, {"datatype", dt}, {"shape", {-1, 1}}}}}}.dump();
      srv.Get(std::string("/v2/models/") + name,
              [meta](const httplib::Request&, httplib::Response& res) {
                res.set_content(meta, "application/json");
              });
    }
    auto infer = [](const std::string& name, const std::string& dt) {
      return [name, dt](const httplib::Request& req, httplib::Response& res) {
        nlohmann::json in = nlohmann::json::parse(req.body, nullptr, false);
        if (in.is_discarded() || !in.contains("inputs")) {
          res.status = 400;
          res.set_content(R"({"error":"bad request"})", "application/json");
          return;
        }
        const nlohmann::json& t = in["inputs"][0];
        std::vector<double> x = t["data"].get<std::vector<double>>();
        std::vector<double> y;
        for (std::size_t i = 0; i + 1 < x.size(); i += 2) y.push_back(x[i] + 2 * x[i + 1] + 0.5);
        nlohmann::json out = {
            {"model_name", name},
            {"outputs", {{{"name", "y"}, {"datatype", dt},
                          {"shape", {static_cast<int>(y.size()), 1}}, {"data", y}}}}};
        res.set_content(out.dump(), "application/json");
      };
    };
    srv.Post("/v2/models/affine/infer", infer("affine", "FP64"));
    srv.Post("/v2/models/affine32/infer", infer("affine32", "FP32"));
    srv.Post("/v2/models/flaky/infer", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content(R"({"error":"overloaded"})", "application/json");
    });
    ok_ = server_.Start();
  }
  bool ok() const { return ok_; }
  std::string url() const { return server_.url(); }

 private:
  maas_test::LoopbackServer server_;
  bool ok_ = false;
};

TEST_CASE("c api: remote model predicts like the server's own formula") {
  AffineServer server;
  REQUIRE(server.ok());
  maas_model* m = nullptr;
  REQUIRE_MESSAGE(maas_model_connect_remote(server.url().c_str(), "affine", "v2", 10.0, &m) ==
                      MAAS_OK,
                  maas_last_error());
  CHECK(std::string(maas_last_error()).empty());
  std::int64_t in = 0, out = 0;
  int is_double = -1;
  CHECK(maas_model_input_size(m, &in) == MAAS_OK);
  CHECK(maas_model_output_size(m, &out) == MAAS_OK);
  CHECK(maas_model_is_double(m, &is_double) == MAAS_OK);
  CHECK(in == 2);
  CHECK(out == 1);
  CHECK(is_double == 1);
  const double x[6] = {1, 2, -3, 0.25, 10, -4};
  double y[3] = {0, 0, 0};
  REQUIRE_MESSAGE(maas_model_predict_f64(m, x, 3, 2, y, 3, 1) == MAAS_OK, maas_last_error());
  for (int r = 0; r < 3; ++r) CHECK(y[r] == x[2 * r] + 2 * x[2 * r + 1] + 0.5);
  // A float array on an FP64 model: converted both ways.
  const float xf[4] = {0.5f, 0.25f, 2, 3};
  float yf[2] = {0, 0};
  REQUIRE(maas_model_predict_f32(m, xf, 2, 2, yf, 2, 1) == MAAS_OK);
  CHECK(yf[0] == doctest::Approx(1.5));
  CHECK(yf[1] == doctest::Approx(8.5));
  // Zero rows: nothing to do, null arrays allowed.
  CHECK(maas_model_predict_f64(m, nullptr, 0, 2, nullptr, 0, 1) == MAAS_OK);
  maas_model_free(m);
}

TEST_CASE("c api: FP32 remote model, double arrays") {
  AffineServer server;
  REQUIRE(server.ok());
  maas_model* m = nullptr;
  REQUIRE(maas_model_connect_remote(server.url().c_str(), "affine32", nullptr, 0, &m) == MAAS_OK);
  int is_double = -1;
  CHECK(maas_model_is_double(m, &is_double) == MAAS_OK);
  CHECK(is_double == 0);
  const double x[2] = {1.5, -0.25};
  double y[1] = {0};
  REQUIRE(maas_model_predict_f64(m, x, 1, 2, y, 1, 1) == MAAS_OK);
  CHECK(y[0] == doctest::Approx(1.5));
  maas_model_free(m);
}

TEST_CASE("c api: wrong sizes and server failures leave the output untouched") {
  AffineServer server;
  REQUIRE(server.ok());
  maas_model* m = nullptr;
  REQUIRE(maas_model_connect_remote(server.url().c_str(), "affine", "v2", 10.0, &m) == MAAS_OK);
  const double x[4] = {1, 2, 3, 4};
  double y[2] = {-1, -1};
  CHECK(maas_model_predict_f64(m, x, 2, 3, y, 2, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(std::string(maas_last_error()).find("values per row") != std::string::npos);
  CHECK(maas_model_predict_f64(m, x, 2, 2, y, 2, 2) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_predict_f64(m, x, -1, 2, y, -1, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_predict_f64(m, nullptr, 2, 2, y, 2, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_predict_f64(m, x, 2, 2, nullptr, 2, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_predict_f64(m, x, 2, 2, y, 1, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(std::string(maas_last_error()).find("2 rows (samples) and the output array 1") !=
        std::string::npos);
  const std::int64_t huge = INT64_MAX / 2 + 1;
  CHECK(maas_model_predict_f64(m, x, huge, 2, y, huge, 1) == MAAS_INVALID_ARGUMENT);
  CHECK(y[0] == -1);
  CHECK(y[1] == -1);
  maas_model_free(m);

  maas_model* flaky = nullptr;
  REQUIRE(maas_model_connect_remote(server.url().c_str(), "flaky", "v2", 10.0, &flaky) == MAAS_OK);
  CHECK(maas_model_predict_f64(flaky, x, 2, 2, y, 2, 1) == MAAS_UNAVAILABLE);
  CHECK(std::string(maas_last_error()).find("overloaded") != std::string::npos);
  float xf[2] = {1, 2}, yf[1] = {-1};
  CHECK(maas_model_predict_f32(flaky, xf, 1, 2, yf, 1, 1) == MAAS_UNAVAILABLE);
  CHECK(y[0] == -1);
  CHECK(yf[0] == -1);
  maas_model_free(flaky);
}

TEST_CASE("c api: connect fails early with the server's code") {
  AffineServer server;
  REQUIRE(server.ok());
  maas_model* m = reinterpret_cast<maas_model*>(0x1);
  CHECK(maas_model_connect_remote(server.url().c_str(), "nope", "v2", 10.0, &m) ==
        MAAS_NOT_FOUND);
  CHECK(m == nullptr);
  CHECK(maas_model_connect_remote("http://127.0.0.1:1", "affine", "v2", 5.0, &m) ==
        MAAS_UNAVAILABLE);
  CHECK(std::string(maas_last_error()).find("127.0.0.1:1") != std::string::npos);
  CHECK(maas_model_connect_remote(server.url().c_str(), "affine", "grpc", 0, &m) ==
        MAAS_INVALID_ARGUMENT);
  CHECK(std::string(maas_last_error()).find("protocol 'grpc'") != std::string::npos);
  CHECK(maas_model_connect_remote(server.url().c_str(), "affine", "v2", -1, &m) ==
        MAAS_INVALID_ARGUMENT);
  CHECK(maas_model_connect_remote("not a url", "affine", "v2", 0, &m) == MAAS_INVALID_ARGUMENT);
  CHECK(m == nullptr);
}

#if MAAS_C_TEST_LOCAL
TEST_CASE("c api: fallback chain answers from the local model when the server fails") {
  AffineServer server;
  REQUIRE(server.ok());
  const std::string text = kAffineModel;
  const double x[4] = {1, 2, -3, 0.25};
  for (const char* primary_name : {"affine", "flaky"}) {
    CAPTURE(std::string(primary_name));
    maas_model* remote = nullptr;
    maas_model* local = nullptr;
    maas_model* chain = nullptr;
    REQUIRE(maas_model_connect_remote(server.url().c_str(), primary_name, "v2", 10.0, &remote) ==
            MAAS_OK);
    REQUIRE(maas_model_load_local_text(text.data(), text.size(), "affine", &local) == MAAS_OK);
    REQUIRE_MESSAGE(maas_model_fallback(&remote, &local, &chain) == MAAS_OK, maas_last_error());
    CHECK(remote == nullptr);  // owned by the chain now
    CHECK(local == nullptr);
    maas_model_free(remote);   // harmless
    double y[2] = {0, 0};
    REQUIRE_MESSAGE(maas_model_predict_f64(chain, x, 2, 2, y, 2, 1) == MAAS_OK, maas_last_error());
    CHECK(y[0] == 5.5);
    CHECK(y[1] == -2.0);
    // A caller error is never hidden by falling back.
    double untouched[2] = {-1, -1};
    CHECK(maas_model_predict_f64(chain, x, 2, 1, untouched, 2, 1) == MAAS_INVALID_ARGUMENT);
    CHECK(untouched[0] == -1);
    maas_model_free(chain);
  }
}
#endif  // MAAS_C_TEST_LOCAL

#endif  // MAAS_C_TEST_HTTP

}  // namespace
