// -----------------------------------------------------------------------------
// File: core/model_signature.h
// -----------------------------------------------------------------------------
//
// `maas::ModelSignature` describes what a model takes and returns: named input
// and output tensors, each with a datatype and a shape whose dimension 0 is the
// batch dimension (`kDynamic` for any batch size). Every `Predictor` validates
// its callers' views against its signature before doing any work, so a wrong
// shape, datatype, batch size or buffer size is a `kInvalidArgument` status
// whose message names the tensor and gives the expected and actual values:
//
//   input 'state': expected shape [-1,16], got [4,15]
//   input 'state': expected datatype FP32, got FP64
//   output 'force': expected shape [4,8] for batch size 4, got [4,7]
//
// Views are matched to the signature by name; a view with an empty name is
// matched by position.

#ifndef MAAS_CORE_MODEL_SIGNATURE_H_
#define MAAS_CORE_MODEL_SIGNATURE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/shape.h"
#include "maas/core/tensor_view.h"

namespace maas {

// TensorSpec
//
// One named tensor of a signature. `shape` may hold `kDynamic` dimensions.
struct TensorSpec {
  std::string name;
  DataType dtype = DataType::kInvalid;
  Shape shape;

  friend bool operator==(const TensorSpec& a, const TensorSpec& b) {
    return a.name == b.name && a.dtype == b.dtype && a.shape == b.shape;
  }
};

// ModelSignature
//
// Name, version and tensors of a model. `max_batch_size` of 0 means no limit.
// A plain value; copy it freely (it allocates).
struct ModelSignature {
  std::string name;
  std::string version;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::int64_t max_batch_size = 0;

  // ModelSignature::ValidateInputs()
  //
  // Checks `inputs` against `this->inputs`: every input present once, known
  // names, datatypes, shapes, buffer sizes and one batch size shared by all
  // batched inputs. On success writes the views in signature order into
  // `ordered` (whose size must be `this->inputs.size()`) and returns the batch
  // size (1 when no input is batched). Fails with `kInvalidArgument`.
  // Allocates only on failure (to build the message).
  absl::StatusOr<std::int64_t> ValidateInputs(
      absl::Span<const ConstTensorView> given,
      absl::Span<ConstTensorView> ordered) const {
    if (ordered.size() != inputs.size()) {
      return absl::InternalError("maas: ValidateInputs given a wrong-size buffer");
    }
    if (absl::Status s = Match("input", inputs, given, ordered, true); !s.ok()) {
      return s;
    }
    std::int64_t batch = -1;
    const ConstTensorView* batch_from = nullptr;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const TensorSpec& spec = inputs[i];
      const ConstTensorView& v = ordered[i];
      if (v.dtype() != spec.dtype) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", spec.name, "': expected datatype ",
            DataTypeName(spec.dtype), ", got ", DataTypeName(v.dtype())));
      }
      if (!spec.shape.Matches(v.shape())) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", spec.name, "': expected shape ",
                         spec.shape.ToString(), ", got ", v.shape().ToString()));
      }
      if (absl::Status s = v.CheckBuffer("input"); !s.ok()) return s;
      if (IsBatched(spec)) {
        const std::int64_t b = v.shape().dim(0);
        if (batch_from != nullptr && b != batch) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input '", spec.name, "': batch size ", b,
              " differs from batch size ", batch, " of input '",
              batch_from->name().empty() ? inputs[0].name
                                         : std::string(batch_from->name()),
              "'"));
        }
        batch = b;
        batch_from = &v;
      }
    }
    if (batch < 0) batch = 1;
    if (max_batch_size > 0 && batch > max_batch_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch size ", batch, " exceeds the model's maximum of ",
                       max_batch_size));
    }
    return batch;
  }

  // ModelSignature::ExpectedOutputShape()
  //
  // The shape output `i` has for a batch of `batch` rows: its spec shape with
  // a dynamic dimension 0 replaced by `batch`. Other dynamic dimensions stay
  // `kDynamic`.
  Shape ExpectedOutputShape(std::size_t i, std::int64_t batch) const {
    Shape s = outputs[i].shape;
    if (IsBatched(outputs[i])) s.set_dim(0, batch);
    return s;
  }

  // ModelSignature::ValidateOutputs()
  //
  // Checks caller-provided output views for a batch of `batch` rows: names,
  // datatypes, shapes and buffer sizes. Writes them in signature order into
  // `ordered` (size `this->outputs.size()`); with `require_all` false, outputs
  // the caller did not ask for are left as default views. Fails with
  // `kInvalidArgument`. Allocates only on failure.
  absl::Status ValidateOutputs(absl::Span<const TensorView> given,
                               std::int64_t batch,
                               absl::Span<TensorView> ordered,
                               bool require_all = true) const {
    if (ordered.size() != outputs.size()) {
      return absl::InternalError(
          "maas: ValidateOutputs given a wrong-size buffer");
    }
    if (absl::Status s = Match("output", outputs, given, ordered, require_all);
        !s.ok()) {
      return s;
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const TensorView& v = ordered[i];
      if (v.dtype() == DataType::kInvalid && v.raw_data() == nullptr &&
          !require_all) {
        continue;
      }
      const TensorSpec& spec = outputs[i];
      if (v.dtype() != spec.dtype) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output '", spec.name, "': expected datatype ",
            DataTypeName(spec.dtype), ", got ", DataTypeName(v.dtype())));
      }
      const Shape want = ExpectedOutputShape(i, batch);
      if (!want.Matches(v.shape())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output '", spec.name, "': expected shape ", want.ToString(),
            " for batch size ", batch, ", got ", v.shape().ToString()));
      }
      if (absl::Status s = v.CheckBuffer("output"); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // ModelSignature::DebugString()
  //
  // One line, e.g. "drag v1: inputs state:FP32[-1,3] -> outputs cd:FP32[-1,1]".
  std::string DebugString() const {
    auto fmt = [](std::string* out, const TensorSpec& t) {
      absl::StrAppend(out, t.name, ":", DataTypeName(t.dtype), t.shape.ToString());
    };
    return absl::StrCat(name, version.empty() ? "" : " v", version,
                        ": inputs ", absl::StrJoin(inputs, ", ", fmt),
                        " -> outputs ", absl::StrJoin(outputs, ", ", fmt));
  }

  // IsBatched()
  //
  // True when the spec's dimension 0 is the (dynamic) batch dimension.
  static bool IsBatched(const TensorSpec& spec) {
    return spec.shape.rank() > 0 && spec.shape.dim(0) == kDynamic;
  }

 private:
  template <typename View>
  static absl::Status Match(absl::string_view kind,
                            const std::vector<TensorSpec>& specs,
                            absl::Span<const View> given,
                            absl::Span<View> ordered, bool require_all) {
    for (View& o : ordered) o = View();
    if (given.size() > specs.size() || (require_all && given.size() != specs.size())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected ", specs.size(), " ", kind, specs.size() == 1 ? "" : "s",
          " (", NameList(specs), "), got ", given.size()));
    }
    for (std::size_t g = 0; g < given.size(); ++g) {
      const View& v = given[g];
      std::size_t slot = specs.size();
      if (v.name().empty()) {
        slot = g;
      } else {
        for (std::size_t i = 0; i < specs.size(); ++i) {
          if (specs[i].name == v.name()) {
            slot = i;
            break;
          }
        }
        if (slot == specs.size()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "unknown ", kind, " '", v.name(), "'; the model's ", kind,
              "s are ", NameList(specs)));
        }
      }
      if (ordered[slot].dtype() != DataType::kInvalid ||
          ordered[slot].raw_data() != nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            kind, " '", specs[slot].name, "' is given more than once"));
      }
      ordered[slot] = v;
      if (ordered[slot].dtype() == DataType::kInvalid) {
        return absl::InvalidArgumentError(absl::StrCat(
            kind, " '", specs[slot].name, "': datatype is not set"));
      }
    }
    return absl::OkStatus();
  }

  static std::string NameList(const std::vector<TensorSpec>& specs) {
    return absl::StrJoin(specs, ", ", [](std::string* out, const TensorSpec& t) {
      absl::StrAppend(out, "'", t.name, "'");
    });
  }
};

}  // namespace maas

#endif  // MAAS_CORE_MODEL_SIGNATURE_H_
