// Predictor::Jacobian: the local models answer through views (validated as
// Predict, buffers untouched on failure), a remote model answers
// kUnimplemented naming itself, and a fallback chain with a remote primary
// answers from its local network.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "doctest/doctest.h"
#include "maas/core/tensor_view.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/jacobian.h"
#include "maas/local/local_model.h"
#include "maas/local/model_file.h"
#include "maas/remote/remote_model.h"
#include "maas/resilience/fallback.h"
#include "maas/testing/fake_transport.h"
#include "testing/status_doctest.h"

namespace {

// 3 -> 5 (tanh) -> 2 (identity), FP64, with scaling.
constexpr char kModel[] = R"({
  "format": "maas.mlp", "format_version": 1, "name": "m", "version": "1",
  "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, 3]}],
  "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1, 2]}],
  "preprocessing": {"input_mean": [0.1, -0.2, 0.3], "input_std": [1.5, 0.5, 2.0]},
  "postprocessing": {"output_scale": [2.0, 0.25], "output_offset": [1.0, -1.0]},
  "layers": [
    {"type": "dense", "units": 5, "activation": "tanh",
     "weights": [[0.3, -0.2, 0.5, 0.1, -0.7], [0.9, 0.4, -0.3, 0.2, 0.6],
                 [-0.5, 0.8, 0.1, -0.4, 0.3]],
     "bias": [0.1, -0.1, 0.2, 0.0, 0.05]},
    {"type": "dense", "units": 2, "activation": "identity",
     "weights": [[0.5, -0.3], [0.2, 0.7], [-0.6, 0.4], [0.8, 0.1], [0.3, -0.9]],
     "bias": [0.0, 0.1]}]
})";

using Net = maas::Network<double, maas::Dense<3, 5, maas::Tanh>, maas::Dense<5, 2>>;

const std::vector<double> kX = {0.4, -1.0, 2.0, -0.3, 0.7, 0.1};  // two rows

// The reference: maas::JacobianBatch on the network itself.
std::vector<double> Want(std::vector<double>* y) {
  auto file = maas::ParseModelFile(kModel, "m");
  REQUIRE(file.ok());
  auto net = maas::BuildNetwork<Net>(*file, "m");
  REQUIRE(net.ok());
  std::vector<double> jac(12);
  y->resize(4);
  REQUIRE(maas::JacobianBatch(**net, kX.data(), 2, y->data(), jac.data()) == absl::OkStatus());
  return jac;
}

absl::Status CallJacobian(maas::Predictor& p, std::vector<double>* y, std::vector<double>* jac,
                          maas::Shape jac_shape = {2, 2, 3}) {
  const maas::ConstTensorView in[] = {maas::ConstTensorView("", absl::MakeConstSpan(kX), {2, 3})};
  const maas::TensorView out[] = {maas::TensorView("", absl::MakeSpan(*y), {2, 2})};
  return p.Jacobian(in, out, maas::TensorView("dy_dx", absl::MakeSpan(*jac), jac_shape));
}

TEST_SUITE("jacobian.predictor") {
  TEST_CASE("LocalModel and DynamicLocalModel answer through views") {
    std::vector<double> want_y;
    const std::vector<double> want = Want(&want_y);
    auto local = maas::LoadLocalModelFromText<Net>(kModel, "m");
    REQUIRE(local.ok());
    auto dynamic = maas::LoadDynamicModelFromText(kModel, "m");
    REQUIRE(dynamic.ok());
    for (maas::Predictor* p : {static_cast<maas::Predictor*>(local->get()), dynamic->get()}) {
      std::vector<double> y(4), jac(12);
      REQUIRE(CallJacobian(*p, &y, &jac) == absl::OkStatus());
      CHECK(jac == want);
      CHECK(y == want_y);
      // Without outputs: only the Jacobian.
      std::vector<double> jac2(12);
      const maas::ConstTensorView in[] = {
          maas::ConstTensorView("x", absl::MakeConstSpan(kX), {2, 3})};
      REQUIRE(p->Jacobian(in, {}, maas::TensorView("j", absl::MakeSpan(jac2), {2, 2, 3})) ==
              absl::OkStatus());
      CHECK(jac2 == want);
      // A Jacobian view of the wrong shape: kInvalidArgument, nothing written.
      std::vector<double> y3(4, 7.0), jac3(12, 7.0);
      const absl::Status s = CallJacobian(*p, &y3, &jac3, {2, 3, 2});
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(s.message()).find("[2,2,3]") != std::string::npos);
      CHECK(jac3 == std::vector<double>(12, 7.0));
      CHECK(y3 == std::vector<double>(4, 7.0));
      // A wrong input: as Predict.
      std::vector<double> jac4(12, 7.0);
      const maas::ConstTensorView bad[] = {
          maas::ConstTensorView("nope", absl::MakeConstSpan(kX), {2, 3})};
      CHECK(p->Jacobian(bad, {}, maas::TensorView("j", absl::MakeSpan(jac4), {2, 2, 3})).code() ==
            absl::StatusCode::kInvalidArgument);
      CHECK(jac4 == std::vector<double>(12, 7.0));
    }
  }

  TEST_CASE("a remote model has no derivatives, a fallback chain answers from its local model") {
    auto file = maas::ParseModelFile(kModel, "m");
    REQUIRE(file.ok());
    maas::RemoteModelOptions ro;
    ro.model = "m";
    ro.signature = file->signature;
    auto transport = std::make_shared<maas::testing::FakeTransport>();
    auto remote = maas::RemoteModel::Create(ro, transport);
    REQUIRE(remote.ok());
    std::vector<double> y(4, 7.0), jac(12, 7.0);
    const absl::Status s = CallJacobian(**remote, &y, &jac);
    CHECK(s.code() == absl::StatusCode::kUnimplemented);
    CHECK(std::string(s.message()).find("remote") != std::string::npos);
    CHECK(std::string(s.message()).find("offers no derivatives") != std::string::npos);
    CHECK(jac == std::vector<double>(12, 7.0));

    auto local = maas::LoadLocalModelFromText<Net>(kModel, "m");
    REQUIRE(local.ok());
    auto chain = maas::FallbackPredictor::Create(std::move(*remote), std::move(*local), {});
    REQUIRE(chain.ok());
    std::vector<double> want_y;
    const std::vector<double> want = Want(&want_y);
    REQUIRE(CallJacobian(**chain, &y, &jac) == absl::OkStatus());
    CHECK(jac == want);
    CHECK(y == want_y);
    CHECK(transport->requests().empty());  // the server was never asked
  }
}

}  // namespace
