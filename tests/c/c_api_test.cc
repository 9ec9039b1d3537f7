// The C API (include/maas/c/maas.h) through its C ABI: status codes and
// messages, no crash on bad input (null handles and pointers, wrong sizes),
// outputs untouched on failure, and remote models against an in-process
// KServe V2 server on 127.0.0.1 whose answers are computed independently
// (y = x0 + 2 x1 + 0.5 in the handler).
#include "maas/c/maas.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "doctest/doctest.h"
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

#endif  // MAAS_C_TEST_HTTP

}  // namespace
