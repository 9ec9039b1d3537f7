// maas health / metadata / models / predict.

#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli.h"
#include "data_io.h"
#include "flags.h"
#include "maas/core/data_type.h"
#include "maas/core/tensor.h"
#include "maas/core/tensor_view.h"
#include "maas/local/model_file.h"

namespace maas_cli {
namespace {

// RemoteFromFlags()
//
// The remote options for URL [MODEL] and the common flags; false (after a
// message) for a bad --protocol.
bool RemoteFromFlags(const std::string& url, const std::string& model, RemoteOptions* o,
                     absl::string_view command) {
  o->url = url;
  o->model = model;
  o->version = absl::GetFlag(FLAGS_version);
  const std::string protocol = absl::GetFlag(FLAGS_protocol);
  if (protocol != "v2" && protocol != "v1") {
    std::cerr << "maas " << command << ": --protocol must be v2 or v1, got '" << protocol
              << "'\n";
    return false;
  }
  o->v1 = protocol == "v1";
  o->binary = absl::GetFlag(FLAGS_binary);
  const double t = absl::GetFlag(FLAGS_timeout);
  if (!(t > 0)) {
    std::cerr << "maas " << command << ": --timeout must be > 0\n";
    return false;
  }
  o->timeout = absl::Seconds(t);
  return true;
}

int Usage(absl::string_view command, absl::string_view synopsis) {
  std::cerr << "usage: maas " << command << " " << synopsis << "\n";
  return kExitUsage;
}

}  // namespace

int Health(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("health", "URL");
  RemoteOptions o;
  if (!RemoteFromFlags(args[0], "", &o, "health")) return kExitUsage;
  auto model = ConnectRemote(o);
  if (!model.ok()) return Fail("health", model.status(), kExitUsage);
  absl::StatusOr<bool> live = (*model)->ServerLive();
  if (!live.ok()) return Fail("health", live.status(), kExitRefused);
  absl::StatusOr<bool> ready = (*model)->ServerReady();
  if (!ready.ok()) return Fail("health", ready.status(), kExitRefused);
  Table t({"server", o.url});
  t.Add({"live", *live ? "yes" : "NO"});
  t.Add({"ready", *ready ? "yes" : "NO"});
  absl::StatusOr<maas::ServerMetadata> md = (*model)->GetServerMetadata();
  if (md.ok()) {
    t.Add({"name", md->name});
    t.Add({"version", md->version});
    t.Add({"extensions", md->extensions.empty() ? "-" : absl::StrJoin(md->extensions, ", ")});
  } else {
    t.Add({"metadata", absl::StrCat("unavailable (", absl::StatusCodeToString(md.status().code()),
                                    ")")});
  }
  std::cout << t.ToString();
  if (!*live || !*ready) {
    std::cerr << "maas health: the server is " << (*live ? "live but not ready" : "not live")
              << "\n";
    return kExitRefused;
  }
  return kExitOk;
}

// A model file's signature, layers and scaling (no network needed).
int LocalMetadata(const std::string& path) {
  absl::StatusOr<maas::ModelFile> f = maas::ReadModelFile(path);
  if (!f.ok()) return Fail("metadata", f.status(), kExitRefused);
  std::cout << "model     " << f->signature.name << "\n"
            << "version   " << (f->signature.version.empty() ? "-" : f->signature.version)
            << "\n"
            << "file      " << path << "\n";
  if (!f->description.empty()) std::cout << "about     " << f->description << "\n";
  std::cout << "\n";
  Table t({"tensor", "kind", "datatype", "shape"});
  for (const auto& [kind, specs] : {std::pair("input", &f->signature.inputs),
                                    std::pair("output", &f->signature.outputs)}) {
    for (const maas::TensorSpec& s : *specs) {
      t.Add({s.name, kind, std::string(maas::DataTypeName(s.dtype)), s.shape.ToString()});
    }
  }
  std::cout << t.ToString() << "\n";
  Table layers({"layer", "inputs", "units", "activation", "parameters"});
  std::size_t params = 0;
  for (std::size_t l = 0; l < f->layers.size(); ++l) {
    const maas::ModelFileLayer& x = f->layers[l];
    const std::size_t n = x.weights.size() + x.bias.size();
    params += n;
    layers.Add({absl::StrCat(l), absl::StrCat(x.inputs), absl::StrCat(x.units),
                std::string(maas::ActivationName(x.activation)), absl::StrCat(n)});
  }
  std::cout << layers.ToString() << params << " parameters; input standardisation: "
            << (f->input_mean.empty() ? "no" : "yes") << "; output scaling: "
            << (f->output_scale.empty() ? "no" : "yes") << "\n";
  if (f->metadata != "{}") std::cout << "metadata  " << f->metadata << "\n";
  return kExitOk;
}

int Metadata(const std::vector<std::string>& args) {
  const std::string local = absl::GetFlag(FLAGS_local);
  if (!local.empty()) {
    if (!args.empty()) return Usage("metadata", "(URL MODEL [--version V] | --local FILE)");
    return LocalMetadata(local);
  }
  if (args.size() != 2) return Usage("metadata", "(URL MODEL [--version V] | --local FILE)");
  RemoteOptions o;
  if (!RemoteFromFlags(args[0], args[1], &o, "metadata")) return kExitUsage;
  auto model = ConnectRemote(o);
  if (!model.ok()) return Fail("metadata", model.status(), kExitUsage);
  absl::StatusOr<maas::ModelMetadata> md = (*model)->GetModelMetadata();
  if (!md.ok()) return Fail("metadata", md.status(), kExitRefused);
  absl::StatusOr<bool> ready = (*model)->ModelReady();
  std::cout << "model     " << md->name << "\n"
            << "versions  " << (md->versions.empty() ? "-" : absl::StrJoin(md->versions, ", "))
            << "\n"
            << "platform  " << (md->platform.empty() ? "-" : md->platform) << "\n"
            << "ready     "
            << (ready.ok() ? (*ready ? "yes" : "NO")
                           : absl::StrCat("unknown (", ready.status().message(), ")"))
            << "\n\n";
  Table t({"tensor", "kind", "datatype", "shape"});
  for (const auto& [kind, specs] : {std::pair("input", &md->inputs),
                                    std::pair("output", &md->outputs)}) {
    for (const maas::TensorSpec& s : *specs) {
      t.Add({s.name, kind, std::string(maas::DataTypeName(s.dtype)), s.shape.ToString()});
    }
  }
  std::cout << t.ToString();
  return kExitOk;
}

int Models(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("models", "URL");
  RemoteOptions o;
  if (!RemoteFromFlags(args[0], "", &o, "models")) return kExitUsage;
  auto model = ConnectRemote(o);
  if (!model.ok()) return Fail("models", model.status(), kExitUsage);
  auto index = (*model)->RepositoryIndex();
  if (!index.ok()) {
    if (index.status().code() == absl::StatusCode::kNotFound ||
        index.status().code() == absl::StatusCode::kUnimplemented) {
      std::cerr << "maas models: the server has no model repository index (the V2 repository "
                   "extension); ask for a model by name with 'maas metadata URL MODEL'\n";
    }
    return Fail("models", index.status(), kExitRefused);
  }
  Table t({"model", "version", "state", "reason"});
  for (const maas::RepositoryModel& m : *index) {
    t.Add({m.name, m.version.empty() ? "-" : m.version, m.state.empty() ? "-" : m.state,
           m.reason});
  }
  std::cout << t.ToString() << index->size() << " model(s)\n";
  return kExitOk;
}

int Predict(const std::vector<std::string>& args) {
  const std::string local = absl::GetFlag(FLAGS_local);
  const std::string input = absl::GetFlag(FLAGS_input);
  const char* synopsis = "(URL MODEL | --local FILE) --input data.csv|.npy|.json [--output F]";
  if ((local.empty() && args.size() != 2) || (!local.empty() && !args.empty()) ||
      input.empty()) {
    return Usage("predict", synopsis);
  }
  std::unique_ptr<maas::Predictor> predictor;
  if (!local.empty()) {
    maas::DataType dtype;
    if (!LocalPrecision("predict", &dtype)) return kExitUsage;
    auto p = OpenLocal(local, dtype);
    if (!p.ok()) return Fail("predict", p.status(), kExitRefused);
    predictor = *std::move(p);
  } else {
    RemoteOptions o;
    if (!RemoteFromFlags(args[0], args[1], &o, "predict")) return kExitUsage;
    auto p = ConnectRemote(o);
    if (!p.ok()) return Fail("predict", p.status(), kExitUsage);
    predictor = *std::move(p);
  }
  absl::StatusOr<maas::ModelSignature> sig = predictor->Signature();
  if (!sig.ok()) return Fail("predict", sig.status(), kExitRefused);
  absl::StatusOr<Matrix> data = ReadMatrix(input);
  if (!data.ok()) {
    return Fail("predict", data.status(),
                data.status().code() == absl::StatusCode::kNotFound ? kExitUsage : kExitData);
  }
  if (sig->inputs.size() != 1) {
    return Fail("predict", absl::InvalidArgumentError(absl::StrCat(
                               "model '", sig->name, "' has ", sig->inputs.size(),
                               " inputs; maas predict feeds models with one input tensor")),
                kExitData);
  }
  const maas::TensorSpec& in = sig->inputs[0];
  const bool fp64 = in.dtype == maas::DataType::kFloat64;
  if (!fp64 && in.dtype != maas::DataType::kFloat32) {
    return Fail("predict", absl::InvalidArgumentError(absl::StrCat(
                               "input '", in.name, "' has datatype ", maas::DataTypeName(in.dtype),
                               "; maas predict sends FP32 or FP64")),
                kExitData);
  }
  if (in.shape.rank() != 2 ||
      (in.shape.dim(1) != maas::kDynamic &&
       in.shape.dim(1) != static_cast<std::int64_t>(data->cols))) {
    return Fail("predict", absl::InvalidArgumentError(absl::StrCat(
                               input, ": ", data->cols, " columns, but model '", sig->name,
                               "' input '", in.name, "' has shape ", in.shape.ToString())),
                kExitData);
  }
  const auto rows = static_cast<std::int64_t>(data->rows);
  const auto cols = static_cast<std::int64_t>(data->cols);
  std::vector<float> xf(data->values.begin(), data->values.end());
  maas::ConstTensorView view =
      fp64 ? maas::ConstTensorView(in.name, absl::MakeConstSpan(data->values), {rows, cols})
           : maas::ConstTensorView(in.name, absl::MakeConstSpan(xf), {rows, cols});
  absl::StatusOr<std::vector<maas::Tensor>> out = predictor->Predict({view});
  if (!out.ok()) {
    // A shape the signature refuses is the data's fault; anything else the model's.
    const bool data_fault = out.status().code() == absl::StatusCode::kInvalidArgument &&
                            !maas::HttpStatusOf(out.status()).has_value();
    return Fail("predict", out.status(), data_fault ? kExitData : kExitRefused);
  }
  Matrix result;
  result.rows = data->rows;
  for (const maas::Tensor& t : *out) {
    const std::size_t width = t.shape().rank() >= 2
                                  ? static_cast<std::size_t>(t.shape().num_elements() / rows)
                                  : 1;
    for (std::size_t j = 0; j < width; ++j) {
      result.names.push_back(width == 1 ? t.name() : absl::StrCat(t.name(), "_", j));
    }
    result.cols += width;
  }
  result.values.assign(result.rows * result.cols, 0.0);
  std::size_t col0 = 0;
  for (const maas::Tensor& t : *out) {
    const std::size_t width = static_cast<std::size_t>(t.shape().num_elements() / rows);
    for (std::size_t r = 0; r < result.rows; ++r) {
      for (std::size_t j = 0; j < width; ++j) {
        double v = 0;
        const std::size_t k = r * width + j;
        switch (t.dtype()) {
          case maas::DataType::kFloat64: v = t.data<double>()[k]; break;
          case maas::DataType::kFloat32: v = t.data<float>()[k]; break;
          case maas::DataType::kInt64: v = static_cast<double>(t.data<std::int64_t>()[k]); break;
          case maas::DataType::kInt32: v = t.data<std::int32_t>()[k]; break;
          default: v = std::nan(""); break;
        }
        result.values[r * result.cols + col0 + j] = v;
      }
    }
    col0 += width;
  }
  if (absl::Status s = WriteMatrix(result, absl::GetFlag(FLAGS_output), !fp64); !s.ok()) {
    return Fail("predict", s, kExitUsage);
  }
  if (absl::GetFlag(FLAGS_output) != "-") {
    std::cerr << "maas predict: " << result.rows << " rows x " << result.cols << " outputs of '"
              << sig->name << "' written to " << absl::GetFlag(FLAGS_output) << "\n";
  }
  return kExitOk;
}

}  // namespace maas_cli
