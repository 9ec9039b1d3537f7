// -----------------------------------------------------------------------------
// File: remote/inference.h
// -----------------------------------------------------------------------------
//
// Protocol-neutral values shared by the remote codecs (`kserve_v2_codec.h`,
// `tf_serving_v1_codec.h`) and the remote model: request options, an encoded
// request body, a decoded inference result, and server, model and repository
// metadata. All are plain values: copy and move them freely; none is
// thread-safe for concurrent writes.
//
// Example:
//
//   maas::InferRequestOptions opts;
//   opts.id = "step-42";
//   opts.binary_inputs = opts.binary_outputs = true;
//   opts.parameters.emplace_back("priority", maas::ParameterValue(1));
//   maas::EncodedRequest req;
//   absl::Status s = maas::KServeV2EncodeInferRequest(inputs, opts, &req);

#ifndef MAAS_REMOTE_INFERENCE_H_
#define MAAS_REMOTE_INFERENCE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/variant.h"
#include "maas/core/model_signature.h"
#include "maas/core/tensor.h"

namespace maas {

// ParameterValue
//
// The value of one protocol parameter: a string, a 64-bit integer, a double
// or a bool (the JSON value kinds the Open Inference Protocol allows). Built
// implicitly from any of them; a string literal stays a string (it does not
// decay to bool as it would in a bare variant).
//
// Example:
//
//   maas::ParameterValue a = "fast", b = 3, c = 0.5, d = true;
//   assert(a.is_string() && b.is_int() && c.is_double() && d.is_bool());
class ParameterValue {
 public:
  ParameterValue() : value_(false) {}
  ParameterValue(bool v) : value_(v) {}                     // NOLINT
  ParameterValue(double v) : value_(v) {}                   // NOLINT
  ParameterValue(std::string v) : value_(std::move(v)) {}   // NOLINT
  ParameterValue(absl::string_view v) : value_(std::string(v)) {}  // NOLINT
  ParameterValue(const char* v) : value_(std::string(v)) {}        // NOLINT
  // Any integer type except bool.
  template <typename T,
            typename = std::enable_if_t<std::is_integral_v<T> &&
                                        !std::is_same_v<T, bool>>>
  ParameterValue(T v) : value_(static_cast<std::int64_t>(v)) {}  // NOLINT

  bool is_string() const { return absl::holds_alternative<std::string>(value_); }
  bool is_int() const { return absl::holds_alternative<std::int64_t>(value_); }
  bool is_double() const { return absl::holds_alternative<double>(value_); }
  bool is_bool() const { return absl::holds_alternative<bool>(value_); }

  // Accessors; each requires the matching is_*() to be true.
  const std::string& string_value() const { return absl::get<std::string>(value_); }
  std::int64_t int_value() const { return absl::get<std::int64_t>(value_); }
  double double_value() const { return absl::get<double>(value_); }
  bool bool_value() const { return absl::get<bool>(value_); }

  friend bool operator==(const ParameterValue& a, const ParameterValue& b) {
    return a.value_ == b.value_;
  }
  friend bool operator!=(const ParameterValue& a, const ParameterValue& b) {
    return !(a == b);
  }

 private:
  absl::variant<std::string, std::int64_t, double, bool> value_;
};

// InferRequestOptions
//
// Everything in an inference request besides the input tensors.
//  * `id`: echoed by the server; empty = no id.
//  * `binary_inputs`: send inputs with the binary tensor data extension.
//  * `binary_outputs`: ask for outputs with the binary extension.
//  * `outputs`: names of the outputs wanted; empty = all of them.
//  * `parameters`: request-level parameters, sent in this order.
struct InferRequestOptions {
  std::string id;
  bool binary_inputs = false;
  bool binary_outputs = false;
  std::vector<std::string> outputs;
  std::vector<std::pair<std::string, ParameterValue>> parameters;
};

// EncodedRequest
//
// A request body ready to send. `header_length` is the JSON header's length
// for the `Inference-Header-Content-Length` HTTP header when binary data
// follows it, and 0 for a pure JSON body. `content_type` is the value for the
// `Content-Type` header. Encoders clear `body` but keep its capacity, so
// reusing one `EncodedRequest` across calls stops allocating once warm.
struct EncodedRequest {
  std::string body;
  std::size_t header_length = 0;
  std::string content_type;
};

// InferResult
//
// A decoded inference response. `model_version` and `id` are empty when the
// server omitted them (allowed by the protocol); `outputs` are in the order
// of the reply.
struct InferResult {
  std::string model_name;
  std::string model_version;
  std::string id;
  std::vector<Tensor> outputs;

  // InferResult::FindOutput()
  //
  // The output named `name`, or nullptr.
  const Tensor* FindOutput(absl::string_view name) const {
    for (const Tensor& t : outputs) {
      if (t.name() == name) return &t;
    }
    return nullptr;
  }
};

// ServerMetadata
//
// A server's name, version and advertised protocol extensions (for example
// "binary_tensor_data"). Extension lists are unreliable across servers:
// treat a missing entry as "unknown", not "unsupported".
struct ServerMetadata {
  std::string name;
  std::string version;
  std::vector<std::string> extensions;

  // ServerMetadata::HasExtension()
  bool HasExtension(absl::string_view extension) const {
    for (const std::string& e : extensions) {
      if (e == extension) return true;
    }
    return false;
  }
};

// ModelMetadata
//
// A model's name, available versions, platform ("onnx_onnxv1", "tensorflow",
// ... information only) and input/output tensors. Shapes use `kDynamic` (-1)
// for variable dimensions.
struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;
  std::string platform;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;

  // ModelMetadata::ToSignature()
  //
  // The signature a predictor for `version` of this model has: same name and
  // tensors, no batch limit. Allocates.
  ModelSignature ToSignature(std::string version) const {
    ModelSignature sig;
    sig.name = name;
    sig.version = std::move(version);
    sig.inputs = inputs;
    sig.outputs = outputs;
    return sig;
  }
};

// RepositoryModel
//
// One entry of a model repository index: name, version (may be empty),
// state ("READY", "UNAVAILABLE", ... server-defined) and the reason for a
// non-ready state (may be empty).
struct RepositoryModel {
  std::string name;
  std::string version;
  std::string state;
  std::string reason;
};

}  // namespace maas

#endif  // MAAS_REMOTE_INFERENCE_H_
