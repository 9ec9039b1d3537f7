// -----------------------------------------------------------------------------
// File: core/tensor.h
// -----------------------------------------------------------------------------
//
// `maas::Tensor` owns its elements: what the allocating `Predict` overload
// returns and what codecs decode into. For fixed-size datatypes the storage is
// the row-major elements; for BYTES it is the binary-extension form (per
// element a 4-byte little-endian length followed by the bytes).
//
// Example:
//
//   maas::Tensor t = maas::Tensor::Zeros<float>("force", {4, 8});
//   absl::Span<float> f = t.data<float>();   // 32 zeros
//   maas::TensorView out = t.view();         // hand it to Predict

#ifndef MAAS_CORE_TENSOR_H_
#define MAAS_CORE_TENSOR_H_

#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/shape.h"
#include "maas/core/tensor_view.h"

namespace maas {

// Tensor
//
// A named, typed, shaped buffer. Movable and copyable (copies the data).
// Not thread-safe for concurrent writes; concurrent reads are fine.
class Tensor {
 public:
  // Tensor()
  //
  // An empty tensor with datatype `kInvalid`.
  Tensor() = default;

  // Tensor(name, dtype, shape)
  //
  // Zero-filled storage for `shape` elements of `dtype`. `shape` must be fully
  // defined and `dtype` of fixed size; otherwise the tensor holds no bytes and
  // `view().CheckBuffer()` reports the problem. Allocates.
  Tensor(std::string name, DataType dtype, Shape shape)
      : name_(std::move(name)), dtype_(dtype), shape_(shape) {
    const std::int64_t n = shape.num_elements();
    if (n > 0) bytes_.resize(static_cast<std::size_t>(n) * DataTypeSize(dtype));
  }

  // Tensor::Zeros<T>()
  //
  // Zero-filled tensor of element type `T`.
  template <typename T>
  static Tensor Zeros(std::string name, Shape shape) {
    return Tensor(std::move(name), DataTypeOf<T>(), shape);
  }

  // Tensor::FromValues<T>()
  //
  // Copies `values` into a new tensor of `shape`. Fails with
  // `kInvalidArgument` when the counts differ or the shape is not concrete.
  template <typename T>
  static absl::StatusOr<Tensor> FromValues(std::string name, Shape shape,
                                           absl::Span<const T> values) {
    ConstTensorView probe(name, values, shape);
    if (absl::Status s = probe.CheckBuffer("tensor"); !s.ok()) return s;
    Tensor t(std::move(name), DataTypeOf<T>(), shape);
    if (!values.empty()) {
      std::memcpy(t.bytes_.data(), values.data(), values.size() * sizeof(T));
    }
    return t;
  }

  // Tensor::FromBytes()
  //
  // Takes raw storage as is (the BYTES encoding for `kBytes`). Fails with
  // `kInvalidArgument` when a fixed-size datatype's byte count does not fit
  // the shape.
  static absl::StatusOr<Tensor> FromBytes(std::string name, DataType dtype,
                                          Shape shape,
                                          std::vector<std::byte> bytes) {
    ConstTensorView probe(name, dtype, shape, bytes.data(), bytes.size());
    if (absl::Status s = probe.CheckBuffer("tensor"); !s.ok()) return s;
    Tensor t;
    t.name_ = std::move(name);
    t.dtype_ = dtype;
    t.shape_ = shape;
    t.bytes_ = std::move(bytes);
    return t;
  }

  const std::string& name() const { return name_; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::size_t byte_size() const { return bytes_.size(); }

  // bytes()
  //
  // The raw storage.
  absl::Span<const std::byte> bytes() const { return bytes_; }
  absl::Span<std::byte> mutable_bytes() { return absl::MakeSpan(bytes_); }

  // data<T>()
  //
  // The elements; empty if `T` is not the datatype.
  template <typename T>
  absl::Span<const T> data() const { return view().data<T>(); }
  template <typename T>
  absl::Span<T> data() { return view().data<T>(); }

  // view()
  //
  // A view of this tensor, valid while the tensor lives and is not resized.
  ConstTensorView view() const {
    return ConstTensorView(name_, dtype_, shape_, bytes_.data(), bytes_.size());
  }
  TensorView view() {
    return TensorView(name_, dtype_, shape_, bytes_.data(), bytes_.size());
  }

 private:
  std::string name_;
  DataType dtype_ = DataType::kInvalid;
  Shape shape_;
  std::vector<std::byte> bytes_;
};

}  // namespace maas

#endif  // MAAS_CORE_TENSOR_H_
