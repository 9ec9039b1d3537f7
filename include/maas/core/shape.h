// -----------------------------------------------------------------------------
// File: core/shape.h
// -----------------------------------------------------------------------------
//
// `maas::Shape` is a tensor shape of up to `Shape::kMaxRank` dimensions stored
// inline (no allocation), so views can be built and checked on a simulation's
// hot path. By convention dimension 0 is the batch dimension. In a signature a
// dimension of `kDynamic` (-1) matches any size; concrete tensors use sizes
// >= 0 only.
//
// Example:
//
//   maas::Shape spec = {maas::kDynamic, 16};   // any batch, 16 features
//   maas::Shape x = {4, 16};
//   assert(spec.Matches(x) && x.num_elements() == 64);
//   std::string s = x.ToString();               // "[4,16]"

#ifndef MAAS_CORE_SHAPE_H_
#define MAAS_CORE_SHAPE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace maas {

// kDynamic
//
// A dimension size that matches any size, as -1 in the Open Inference Protocol.
inline constexpr std::int64_t kDynamic = -1;

// Shape
//
// A value type: trivially copyable, at most `kMaxRank` dimensions. Building a
// shape with more dimensions through `Shape::FromDims()` fails with
// `kInvalidArgument`; the initializer-list constructor keeps the first
// `kMaxRank` and marks the shape invalid (`valid()` is false), so a bad shape
// can be reported later instead of crashing.
class Shape {
 public:
  static constexpr std::size_t kMaxRank = 8;

  // Shape()
  //
  // The rank-0 shape (a scalar).
  constexpr Shape() = default;

  // Shape({d0, d1, ...})
  //
  // The given dimensions, outermost first.
  constexpr Shape(std::initializer_list<std::int64_t> dims) {
    for (std::int64_t d : dims) {
      if (rank_ == kMaxRank) {
        overflow_ = true;
        break;
      }
      dims_[rank_++] = d;
    }
  }

  // Shape::FromDims()
  //
  // A shape from any sequence of sizes. Fails with `kInvalidArgument` when
  // there are more than `kMaxRank` dimensions or a size is below -1.
  static absl::StatusOr<Shape> FromDims(absl::Span<const std::int64_t> dims) {
    if (dims.size() > kMaxRank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape has ", dims.size(), " dimensions; maas supports at most ",
          kMaxRank));
    }
    Shape s;
    for (std::int64_t d : dims) {
      if (d < kDynamic) {
        return absl::InvalidArgumentError(
            absl::StrCat("shape dimension ", d, " is negative"));
      }
      s.dims_[s.rank_++] = d;
    }
    return s;
  }

  // rank()
  constexpr std::size_t rank() const { return rank_; }

  // dim()
  //
  // Size of dimension `i`; `i` must be below `rank()`.
  constexpr std::int64_t dim(std::size_t i) const { return dims_[i]; }

  // set_dim()
  //
  // Replaces the size of dimension `i`; `i` must be below `rank()`.
  constexpr void set_dim(std::size_t i, std::int64_t d) { dims_[i] = d; }

  // dims()
  //
  // The sizes as a span over this object's storage.
  absl::Span<const std::int64_t> dims() const {
    return absl::MakeConstSpan(dims_.data(), rank_);
  }

  // valid()
  //
  // False when the shape was built with too many dimensions.
  constexpr bool valid() const { return !overflow_; }

  // is_fully_defined()
  //
  // True when the shape is valid and no dimension is `kDynamic`.
  constexpr bool is_fully_defined() const {
    if (overflow_) return false;
    for (std::size_t i = 0; i < rank_; ++i) {
      if (dims_[i] < 0) return false;
    }
    return true;
  }

  // num_elements()
  //
  // Product of the sizes (1 for rank 0); -1 if any size is dynamic, negative,
  // or the product overflows int64.
  constexpr std::int64_t num_elements() const {
    std::int64_t n = 1;
    for (std::size_t i = 0; i < rank_; ++i) {
      const std::int64_t d = dims_[i];
      if (d < 0) return -1;
      if (d != 0 && n > INT64_MAX / d) return -1;
      n *= d;
    }
    return overflow_ ? -1 : n;
  }

  // Matches()
  //
  // True when `concrete` has this rank and equals it in every dimension that
  // is not `kDynamic` here.
  constexpr bool Matches(const Shape& concrete) const {
    if (overflow_ || concrete.overflow_ || rank_ != concrete.rank_) return false;
    for (std::size_t i = 0; i < rank_; ++i) {
      if (dims_[i] != kDynamic && dims_[i] != concrete.dims_[i]) return false;
    }
    return true;
  }

  // ToString()
  //
  // "[4,16]", with -1 for dynamic dimensions. Allocates.
  std::string ToString() const {
    std::string out = "[";
    for (std::size_t i = 0; i < rank_; ++i) {
      if (i) out += ',';
      absl::StrAppend(&out, dims_[i]);
    }
    if (overflow_) out += ",...";
    out += ']';
    return out;
  }

  friend constexpr bool operator==(const Shape& a, const Shape& b) {
    if (a.rank_ != b.rank_ || a.overflow_ != b.overflow_) return false;
    for (std::size_t i = 0; i < a.rank_; ++i) {
      if (a.dims_[i] != b.dims_[i]) return false;
    }
    return true;
  }
  friend constexpr bool operator!=(const Shape& a, const Shape& b) {
    return !(a == b);
  }

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  std::size_t rank_ = 0;
  bool overflow_ = false;
};

}  // namespace maas

#endif  // MAAS_CORE_SHAPE_H_
