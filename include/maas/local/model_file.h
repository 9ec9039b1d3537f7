// -----------------------------------------------------------------------------
// File: local/model_file.h
// -----------------------------------------------------------------------------
//
// Reading the maas model file (JSON, documented in docs/model-format.md) and
// binding it to a compile-time network.
//
//  * `ParseModelFile()` checks the file on its own: JSON syntax, required keys,
//    types, that every layer's weights are a rows x units matrix that chains
//    with its neighbours, finite numbers, scaling vector sizes.
//  * `LoadLocalModel<Net>()` also checks the file against the network type:
//    layer count, every layer's sizes and activation. Every error is
//    `kInvalidArgument` (or `kNotFound` / `kPermissionDenied` for an unreadable
//    path) with a message naming the file, the layer and the numbers, e.g.
//
//      model file 'drag.json': layer 1: the network type has 64 inputs and 64
//      units, the file has 64 inputs and 32 units
//
//  * Loading builds a new network and returns it only when everything
//    succeeded, so a failed load never leaves a half-loaded model in use.
//
// Example:
//
//   using Net = maas::Network<float, maas::Dense<2, 32, maas::Tanh>,
//                             maas::Dense<32, 1>>;
//   auto model = maas::LoadLocalModel<Net>("examples/data/drag_cd.json");
//   if (!model.ok()) { std::cerr << model.status() << "\n"; return 1; }

#ifndef MAAS_LOCAL_MODEL_FILE_H_
#define MAAS_LOCAL_MODEL_FILE_H_

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/detail/strict_json.h"
#include "maas/local/activation.h"
#include "maas/local/local_model.h"
#include "maas/local/network.h"
#include "nlohmann/json.hpp"

namespace maas {

// kModelFileFormat, kModelFileFormatVersion
//
// The values of the "format" and "format_version" keys this reader accepts.
inline constexpr absl::string_view kModelFileFormat = "maas.mlp";
inline constexpr int kModelFileFormatVersion = 1;

// ModelFileLayer
//
// One dense layer as read from a file: `weights` is inputs x units,
// row-major (`weights[i * units + j]` connects input i to unit j). `alpha`
// is the activation's parameter: the file's "alpha" for leaky_relu and elu,
// else their default (0.01, 1); 0 for activations without one.
struct ModelFileLayer {
  std::size_t inputs = 0;
  std::size_t units = 0;
  Activation activation = Activation::kIdentity;
  double alpha = 0.0;
  std::vector<double> weights;
  std::vector<double> bias;
};

// ModelFile
//
// A parsed, self-consistent model file. Scaling vectors are empty when the
// file has none. `metadata` is the file's free-form "metadata" object, kept as
// serialized JSON ("{}" when absent).
struct ModelFile {
  ModelSignature signature;
  std::string description;
  std::vector<ModelFileLayer> layers;
  std::vector<double> input_mean, input_std;
  std::vector<double> output_scale, output_offset;
  std::string metadata = "{}";
};

namespace detail {

// Error helper: every message starts with where the problem is.
class ModelFileReader {
 public:
  explicit ModelFileReader(absl::string_view source) : source_(source) {}

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("model file '", source_, "': ", what));
  }

  absl::StatusOr<ModelFile> Parse(absl::string_view text) const {
    // Strict parse (detail/strict_json.h): bounded nesting, so "metadata"
    // can be serialised below without deep recursion, and no key repeated
    // within one object. A faster reader must keep both rules.
    absl::StatusOr<nlohmann::json> parsed = detail::ParseStrictJson(text);
    if (!parsed.ok()) {
      if (parsed.status().message() == "not valid JSON") {
        return Error("not valid JSON (check for a truncated file, a trailing "
                     "comma, or NaN/Infinity, which JSON does not allow)");
      }
      return Error(parsed.status().message());
    }
    nlohmann::json doc = *std::move(parsed);
    if (!doc.is_object()) return Error("the top level must be a JSON object");
    ModelFile file;

    auto format = GetString(doc, "format", "");
    if (!format.ok()) return format.status();
    if (*format != kModelFileFormat) {
      return Error(absl::StrCat("\"format\" must be \"", kModelFileFormat,
                                "\", got \"", *format, "\""));
    }
    auto it = doc.find("format_version");
    if (it == doc.end() || !it->is_number_integer()) {
      return Error("\"format_version\" is missing or not an integer");
    }
    if (it->get<std::int64_t>() != kModelFileFormatVersion) {
      return Error(absl::StrCat("\"format_version\" ", it->get<std::int64_t>(),
                                " is not supported (this reader knows ",
                                kModelFileFormatVersion, ")"));
    }
    auto name = GetString(doc, "name", "");
    if (!name.ok()) return name.status();
    file.signature.name = *name;
    auto version = GetString(doc, "version", "", /*required=*/false);
    if (!version.ok()) return version.status();
    file.signature.version = *version;
    auto description = GetString(doc, "description", "", false);
    if (!description.ok()) return description.status();
    file.description = *description;

    // Layers first: the I/O specs are checked against their sizes.
    it = doc.find("layers");
    if (it == doc.end() || !it->is_array() || it->empty()) {
      return Error("\"layers\" is missing or not a non-empty array");
    }
    for (std::size_t l = 0; l < it->size(); ++l) {
      auto layer = ParseLayer((*it)[l], l);
      if (!layer.ok()) return layer.status();
      if (l > 0 && layer->inputs != file.layers.back().units) {
        return Error(absl::StrCat("layer ", l, ": has ", layer->inputs,
                                  " inputs (weight rows) but layer ", l - 1,
                                  " has ", file.layers.back().units, " units"));
      }
      file.layers.push_back(std::move(*layer));
    }
    for (std::size_t l = 0; l + 1 < file.layers.size(); ++l) {
      if (file.layers[l].activation == Activation::kSoftmax) {
        return Error(absl::StrCat("layer ", l,
                                  ": softmax is only allowed on the last layer"));
      }
    }
    const std::size_t n_in = file.layers.front().inputs;
    const std::size_t n_out = file.layers.back().units;

    for (auto [key, specs, n] :
         {std::tuple("inputs", &file.signature.inputs, n_in),
          std::tuple("outputs", &file.signature.outputs, n_out)}) {
      auto spec = ParseIoSpec(doc, key, n);
      if (!spec.ok()) return spec.status();
      specs->push_back(std::move(*spec));
    }

    if (auto pre = doc.find("preprocessing"); pre != doc.end()) {
      if (!pre->is_object()) return Error("\"preprocessing\" must be an object");
      if (absl::Status s = ParsePair(*pre, "preprocessing", "input_mean",
                                     "input_std", n_in, &file.input_mean,
                                     &file.input_std);
          !s.ok()) {
        return s;
      }
      for (std::size_t i = 0; i < file.input_std.size(); ++i) {
        if (file.input_std[i] == 0.0) {
          return Error(absl::StrCat("preprocessing.input_std[", i,
                                    "] is 0 (division by zero)"));
        }
      }
    }
    if (auto post = doc.find("postprocessing"); post != doc.end()) {
      if (!post->is_object()) return Error("\"postprocessing\" must be an object");
      if (absl::Status s = ParsePair(*post, "postprocessing", "output_scale",
                                     "output_offset", n_out, &file.output_scale,
                                     &file.output_offset);
          !s.ok()) {
        return s;
      }
    }
    if (auto meta = doc.find("metadata"); meta != doc.end()) {
      if (!meta->is_object()) return Error("\"metadata\" must be an object");
      file.metadata = meta->dump();
    }
    return file;
  }

 private:
  absl::StatusOr<std::string> GetString(const nlohmann::json& obj,
                                        absl::string_view key,
                                        absl::string_view where,
                                        bool required = true) const {
    auto it = obj.find(std::string(key));
    if (it == obj.end()) {
      if (!required) return std::string();
      return Error(absl::StrCat(where, "\"", key, "\" is missing"));
    }
    if (!it->is_string()) {
      return Error(absl::StrCat(where, "\"", key, "\" must be a string, got ",
                                it->type_name()));
    }
    return it->get<std::string>();
  }

  absl::Status ReadNumbers(const nlohmann::json& arr, absl::string_view what,
                           std::vector<double>* out) const {
    if (!arr.is_array()) {
      return Error(absl::StrCat(what, " must be an array of numbers, got ",
                                arr.type_name()));
    }
    // Geometric growth: a layer's rows are appended one by one, and an exact
    // reserve per row would copy the weights read so far each time.
    if (out->capacity() < out->size() + arr.size()) {
      out->reserve(std::max(out->size() + arr.size(), 2 * out->capacity()));
    }
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const nlohmann::json& v = arr[i];
      if (!v.is_number()) {
        return Error(absl::StrCat(what, "[", i, "] must be a number, got ",
                                  v.type_name()));
      }
      const double d = v.get<double>();
      if (!std::isfinite(d)) {
        return Error(absl::StrCat(what, "[", i, "] is not finite"));
      }
      out->push_back(d);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ModelFileLayer> ParseLayer(const nlohmann::json& j,
                                            std::size_t l) const {
    const std::string where = absl::StrCat("layer ", l, ": ");
    if (!j.is_object()) return Error(absl::StrCat(where, "must be an object"));
    auto type = GetString(j, "type", where);
    if (!type.ok()) return type.status();
    if (*type != "dense") {
      return Error(absl::StrCat(where, "type \"", *type,
                                "\" is not supported (only \"dense\")"));
    }
    ModelFileLayer layer;
    auto units = j.find("units");
    if (units == j.end() || !units->is_number_integer() ||
        units->get<std::int64_t>() <= 0) {
      return Error(absl::StrCat(where, "\"units\" must be a positive integer"));
    }
    layer.units = units->get<std::size_t>();
    auto act = GetString(j, "activation", where);
    if (!act.ok()) return act.status();
    auto parsed = ParseActivation(*act);
    if (!parsed.ok()) return Error(absl::StrCat(where, parsed.status().message()));
    layer.activation = *parsed;
    layer.alpha = DefaultActivationAlpha(layer.activation);
    if (auto alpha = j.find("alpha"); alpha != j.end()) {
      if (!ActivationHasAlpha(layer.activation)) {
        return Error(absl::StrCat(where, "\"alpha\" applies only to leaky_relu and "
                                         "elu, not to ", *act));
      }
      if (!alpha->is_number() || !std::isfinite(alpha->get<double>())) {
        return Error(absl::StrCat(where, "\"alpha\" must be a finite number"));
      }
      layer.alpha = alpha->get<double>();
    }

    auto w = j.find("weights");
    if (w == j.end() || !w->is_array() || w->empty()) {
      return Error(absl::StrCat(where, "\"weights\" must be a non-empty array "
                                       "of rows (one row per input)"));
    }
    layer.inputs = w->size();
    for (std::size_t i = 0; i < w->size(); ++i) {
      const nlohmann::json& row = (*w)[i];
      if (!row.is_array() || row.size() != layer.units) {
        return Error(absl::StrCat(
            where, "weights row ", i, ": expected ", layer.units,
            " values (one per unit), got ",
            row.is_array() ? absl::StrCat(row.size()) : std::string(row.type_name())));
      }
      if (absl::Status s = ReadNumbers(row, absl::StrCat(where, "weights[", i, "]"),
                                       &layer.weights);
          !s.ok()) {
        return s;
      }
    }
    auto b = j.find("bias");
    if (b == j.end()) return Error(absl::StrCat(where, "\"bias\" is missing"));
    if (absl::Status s = ReadNumbers(*b, absl::StrCat(where, "bias"), &layer.bias);
        !s.ok()) {
      return s;
    }
    if (layer.bias.size() != layer.units) {
      return Error(absl::StrCat(where, "bias: expected ", layer.units,
                                " values, got ", layer.bias.size()));
    }
    return layer;
  }

  absl::StatusOr<TensorSpec> ParseIoSpec(const nlohmann::json& doc,
                                         absl::string_view key,
                                         std::size_t features) const {
    auto it = doc.find(std::string(key));
    if (it == doc.end() || !it->is_array() || it->size() != 1) {
      return Error(absl::StrCat("\"", key, "\" must be an array of one tensor "
                                           "description"));
    }
    const nlohmann::json& t = (*it)[0];
    const std::string where = absl::StrCat(key, "[0]: ");
    if (!t.is_object()) return Error(absl::StrCat(where, "must be an object"));
    TensorSpec spec;
    auto name = GetString(t, "name", where);
    if (!name.ok()) return name.status();
    if (name->empty()) return Error(absl::StrCat(where, "\"name\" is empty"));
    spec.name = *name;
    auto dtype = GetString(t, "datatype", where, false);
    if (!dtype.ok()) return dtype.status();
    spec.dtype = DataType::kFloat32;
    if (!dtype->empty()) {
      auto parsed = ParseDataType(*dtype);
      if (!parsed.ok() || (*parsed != DataType::kFloat32 &&
                           *parsed != DataType::kFloat64)) {
        return Error(absl::StrCat(where, "\"datatype\" must be FP32 or FP64, got \"",
                                  *dtype, "\""));
      }
      spec.dtype = *parsed;
    }
    auto shape = t.find("shape");
    if (shape == t.end() || !shape->is_array() || shape->size() != 2 ||
        !(*shape)[0].is_number_integer() || !(*shape)[1].is_number_integer() ||
        (*shape)[0].get<std::int64_t>() != kDynamic) {
      return Error(absl::StrCat(where, "\"shape\" must be [-1, features]"));
    }
    const auto n = (*shape)[1].get<std::int64_t>();
    if (n != static_cast<std::int64_t>(features)) {
      return Error(absl::StrCat(where, "shape [-1,", n, "] does not match the ",
                                key == "inputs" ? "first layer's " : "last layer's ",
                                features, key == "inputs" ? " inputs" : " units"));
    }
    spec.shape = {kDynamic, n};
    return spec;
  }

  absl::Status ParsePair(const nlohmann::json& obj, absl::string_view section,
                         absl::string_view key_a, absl::string_view key_b,
                         std::size_t n, std::vector<double>* a,
                         std::vector<double>* b) const {
    const auto ia = obj.find(std::string(key_a));
    const auto ib = obj.find(std::string(key_b));
    if (ia == obj.end() || ib == obj.end()) {
      return Error(absl::StrCat(section, " needs both \"", key_a, "\" and \"",
                                key_b, "\""));
    }
    for (auto [it, key, out] : {std::tuple(ia, key_a, a), std::tuple(ib, key_b, b)}) {
      const std::string what = absl::StrCat(section, ".", key);
      if (absl::Status s = ReadNumbers(*it, what, out); !s.ok()) return s;
      if (out->size() != n) {
        return Error(absl::StrCat(what, ": expected ", n, " values, got ",
                                  out->size()));
      }
    }
    return absl::OkStatus();
  }

  std::string source_;
};

}  // namespace detail

// ParseModelFile()
//
// Parses and checks model-file text on its own (not against a network type).
// `source` names the text in messages (a path, or "<embedded>"). Fails with
// `kInvalidArgument`. Never throws.
inline absl::StatusOr<ModelFile> ParseModelFile(absl::string_view text,
                                                absl::string_view source =
                                                    "<memory>") {
  try {
    return detail::ModelFileReader(source).Parse(text);
  } catch (const std::exception& e) {  // backstop: nothing may escape
    return absl::InternalError(
        absl::StrCat("model file '", source, "': unexpected error: ", e.what()));
  }
}

// ReadModelFile()
//
// Reads `path` and parses it. Fails with `kPermissionDenied` when the file
// exists but may not be read, `kNotFound` when it cannot be opened otherwise,
// and as `ParseModelFile()` after that.
inline absl::StatusOr<ModelFile> ReadModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string message = absl::StrCat("model file '", path,
                                             "': cannot open: ",
                                             std::strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(message)
                         : absl::NotFoundError(message);
  }
  // One read into a string of the file's size (no stream-buffer copies).
  std::string text;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), size);
    text.resize(static_cast<std::size_t>(in.gcount()));
  } else {
    std::ostringstream rest;  // not seekable (a pipe): read to the end
    rest << in.rdbuf();
    text = rest.str();
  }
  return ParseModelFile(text, path);
}

namespace detail {

// CheckFileFitsFloat()
//
// A float network cannot hold a value beyond float's range (the cast would
// be undefined behaviour, in practice inf): `kInvalidArgument` naming the
// first weight, bias, scaling value or inverse input_std that does not fit.
inline absl::Status CheckFileFitsFloat(const ModelFile& file, absl::string_view source) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("model file '", source, "': ", what));
  };
  constexpr double kMax = std::numeric_limits<float>::max();
  // `cols` > 0 reports the index as [row][col] of a matrix with that many
  // columns; `inverse` checks 1 / value (input_std is stored inverted).
  auto fits = [&](const std::vector<double>& v, std::size_t cols, bool inverse,
                  const std::string& what) -> absl::Status {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (std::abs(inverse ? 1.0 / v[i] : v[i]) <= kMax) continue;
      const std::string index = cols > 0 ? absl::StrCat("[", i / cols, "][", i % cols, "]")
                                         : absl::StrCat("[", i, "]");
      return error(absl::StrCat(what, index, " = ", v[i], " is outside the range of ",
                                "the network type's float",
                                inverse ? " once inverted" : ""));
    }
    return absl::OkStatus();
  };
  for (std::size_t l = 0; l < file.layers.size(); ++l) {
    const ModelFileLayer& layer = file.layers[l];
    const std::string where = absl::StrCat("layer ", l, ": ");
    if (absl::Status s = fits(layer.weights, layer.units, false, where + "weights");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = fits(layer.bias, 0, false, where + "bias"); !s.ok()) return s;
    if (std::abs(layer.alpha) > kMax) {
      return error(absl::StrCat(where, "alpha ", layer.alpha, " is not a finite float"));
    }
  }
  for (auto [v, inverse, what] :
       {std::tuple(&file.input_mean, false, "preprocessing.input_mean"),
        std::tuple(&file.input_std, true, "preprocessing.input_std"),
        std::tuple(&file.output_scale, false, "postprocessing.output_scale"),
        std::tuple(&file.output_offset, false, "postprocessing.output_offset")}) {
    if (absl::Status s = fits(*v, 0, inverse, what); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace detail

// BuildNetwork<Net>()
//
// A new heap-allocated network holding `file`'s weights and scaling. Fails
// with `kInvalidArgument` when the file does not fit the type: layer count,
// each layer's inputs, units and activation, and (float networks) a value or
// an inverse input_std beyond float's range.
template <typename Net>
absl::StatusOr<std::unique_ptr<Net>> BuildNetwork(const ModelFile& file,
                                                  absl::string_view source =
                                                      "<memory>") {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat("model file '", source, "': ", what));
  };
  if (file.layers.size() != Net::kNumLayers) {
    return error(absl::StrCat("the network type has ", Net::kNumLayers,
                              " layers, the file has ", file.layers.size()));
  }
  if constexpr (std::is_same_v<typename Net::ValueType, float>) {
    if (absl::Status s = detail::CheckFileFitsFloat(file, source); !s.ok()) return s;
  }
  auto net = std::make_unique<Net>();
  for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
    const ModelFileLayer& layer = file.layers[l];
    if (layer.inputs != Net::layer_input_size(l) ||
        layer.units != Net::layer_output_size(l)) {
      return error(absl::StrCat(
          "layer ", l, ": the network type has ", Net::layer_input_size(l),
          " inputs and ", Net::layer_output_size(l), " units, the file has ",
          layer.inputs, " inputs and ", layer.units, " units"));
    }
    if (layer.activation != Net::layer_activation(l)) {
      return error(absl::StrCat(
          "layer ", l, ": the network type's activation is ",
          ActivationName(Net::layer_activation(l)), ", the file's is ",
          ActivationName(layer.activation)));
    }
    if (absl::Status s = net->SetLayer(l, absl::MakeConstSpan(layer.weights),
                                       absl::MakeConstSpan(layer.bias));
        !s.ok()) {
      return error(std::string(s.message()));
    }
    if (ActivationHasAlpha(layer.activation)) {
      if (absl::Status s = net->SetLayerAlpha(l, layer.alpha); !s.ok()) {
        return error(std::string(s.message()));
      }
    }
  }
  if (!file.input_mean.empty()) {
    if (absl::Status s = net->SetInputScaling(absl::MakeConstSpan(file.input_mean),
                                              absl::MakeConstSpan(file.input_std));
        !s.ok()) {
      return error(std::string(s.message()));
    }
  }
  if (!file.output_scale.empty()) {
    if (absl::Status s = net->SetOutputScaling(
            absl::MakeConstSpan(file.output_scale),
            absl::MakeConstSpan(file.output_offset));
        !s.ok()) {
      return error(std::string(s.message()));
    }
  }
  return net;
}

// LocalModelFromFile<Net>()
//
// Binds a parsed file to a `LocalModel<Net>`; the signature's tensor names,
// model name and version come from the file, the datatype from `Net`.
template <typename Net>
absl::StatusOr<std::unique_ptr<LocalModel<Net>>> LocalModelFromFile(
    const ModelFile& file, absl::string_view source = "<memory>") {
  auto net = BuildNetwork<Net>(file, source);
  if (!net.ok()) return net.status();
  ModelSignature sig = file.signature;
  sig.inputs[0].dtype = DataTypeOf<typename Net::ValueType>();
  sig.outputs[0].dtype = DataTypeOf<typename Net::ValueType>();
  return LocalModel<Net>::Create(std::move(*net), std::move(sig));
}

// LoadLocalModel<Net>()
//
// Reads, checks and binds the model file at `path`. See the file comment for
// the errors. Allocates; not for the hot path.
template <typename Net>
absl::StatusOr<std::unique_ptr<LocalModel<Net>>> LoadLocalModel(
    const std::string& path) {
  auto file = ReadModelFile(path);
  if (!file.ok()) return file.status();
  return LocalModelFromFile<Net>(*file, path);
}

// LoadLocalModelFromText<Net>()
//
// As `LoadLocalModel()`, from model-file text already in memory (e.g. a model
// embedded in the binary); `source` names it in messages.
template <typename Net>
absl::StatusOr<std::unique_ptr<LocalModel<Net>>> LoadLocalModelFromText(
    absl::string_view text, absl::string_view source = "<memory>") {
  auto file = ParseModelFile(text, source);
  if (!file.ok()) return file.status();
  return LocalModelFromFile<Net>(*file, source);
}

}  // namespace maas

#endif  // MAAS_LOCAL_MODEL_FILE_H_
