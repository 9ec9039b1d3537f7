// Consumer of the maas Conan package: a local model from model-file text
// checked against a hand-computed value and, when the package has the HTTP
// transport, a remote model whose server is absent (the transport must link
// and report kUnavailable, not crash).
#include <cmath>
#include <cstdio>

#include <maas/maas.h>
#if MAAS_TEST_HTTP
#include <maas/remote/http_client_transport.h>
#endif

int main() {
  using Net = maas::Network<float, maas::Dense<2, 2, maas::Relu>, maas::Dense<2, 1>>;
  const char* text = R"({"format": "maas.mlp", "format_version": 1, "name": "pkg",
    "inputs": [{"name": "x", "shape": [-1, 2]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
    "layers": [{"type": "dense", "units": 2, "activation": "relu",
                "weights": [[1, -1], [2, 1]], "bias": [0, 0]},
               {"type": "dense", "units": 1, "activation": "identity",
                "weights": [[1], [1]], "bias": [0.5]}]})";
  auto model = maas::LoadLocalModelFromText<Net>(text, "pkg");
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const float x[] = {1.f, 2.f};  // hidden relu(5, 1) -> 6.5
  float y = 0;
  if (!(*model)->PredictRows(x, absl::MakeSpan(&y, 1)).ok() || std::fabs(y - 6.5f) > 1e-6f) {
    std::fprintf(stderr, "unexpected result %g\n", y);
    return 1;
  }
  std::printf("maas %s local model ok: y = %g\n", maas::kVersionString, y);
#if MAAS_TEST_HTTP
  maas::RemoteModelOptions opts;
  opts.model = "absent";
  auto remote = maas::ConnectRemoteModel("http://127.0.0.1:1", opts);
  if (!remote.ok()) {
    std::fprintf(stderr, "%s\n", remote.status().ToString().c_str());
    return 1;
  }
  absl::Status s = (*remote)->Signature().status();
  if (s.code() != absl::StatusCode::kUnavailable) {
    std::fprintf(stderr, "expected UNAVAILABLE, got %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("maas::http ok: no server gives %s\n", s.ToString().c_str());
#endif
  return 0;
}
