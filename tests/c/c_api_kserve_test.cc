// The C API against a real inference server: KServe's ModelServer (started
// once per ctest run by tests/remote/server, fixture maas_kserve) serving the
// projectile's drag model drag_cd with a NumPy forward pass. Its answers,
// through the C ABI over V2 JSON, V2 binary and V1, must match the
// compile-time local network on the same model file (float64 both sides).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "maas/c/maas.h"
#include "maas/local/model_file.h"
#include "remote/server/server_state.h"

namespace {

using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>, maas::Dense<12, 1>>;

TEST_CASE("c api: drag_cd on KServe equals the local network (V2 JSON, V2 binary, V1)") {
  std::string why;
  const std::string url = maas_test::ServerUrl("kserve", &why);
  REQUIRE_MESSAGE(!url.empty(), why);
  auto local = maas::LoadLocalModel<DragNet>(
      maas_test::SourcePath("examples/data/drag_cd.json"));
  REQUIRE(local.ok());
  std::vector<double> x(64), want(64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = -0.5 + 5.5 * static_cast<double>(i) / 63.0;
  REQUIRE((*local)->PredictRows(x, absl::MakeSpan(want)).ok());

  for (const char* protocol : {"v2", "v2-binary", "v1"}) {
    CAPTURE(protocol);
    maas_model* m = nullptr;
    REQUIRE_MESSAGE(maas_model_connect_remote(url.c_str(), "drag_cd", protocol, 30.0, &m) ==
                        MAAS_OK,
                    maas_last_error());
    std::vector<double> got(x.size(), -99);
    REQUIRE_MESSAGE(maas_model_predict_f64(m, x.data(), 64, 1, got.data(), 64, 1) == MAAS_OK,
                    maas_last_error());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(0.1, std::abs(want[i])));
    }
    MESSAGE(std::string(protocol), ": worst relative difference ", worst);
    CHECK(worst <= 1e-10);  // observed 1.1e-14: both run the network in float64
    std::vector<float> xf(x.begin(), x.end()), gotf(x.size(), -99.f);
    REQUIRE(maas_model_predict_f32(m, xf.data(), 64, 1, gotf.data(), 64, 1) == MAAS_OK);
    for (std::size_t i = 0; i < x.size(); ++i) {
      CHECK(std::abs(gotf[i] - want[i]) <= 1e-5 * std::max(0.1, std::abs(want[i])) + 1e-6);
    }
    maas_model_free(m);
  }
  maas_model* none = nullptr;
  CHECK(maas_model_connect_remote(url.c_str(), "no_such_model", "v2", 30.0, &none) ==
        MAAS_NOT_FOUND);
  CHECK(none == nullptr);
}

}  // namespace
