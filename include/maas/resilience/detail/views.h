// Internal helpers of the resilience decorators: per-thread scratch tensors,
// float/double conversion between views, merging per-call reports, and the
// retry classification shared by the decorators. Not part of the public API.

#ifndef MAAS_RESILIENCE_DETAIL_VIEWS_H_
#define MAAS_RESILIENCE_DETAIL_VIEWS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "maas/core/call.h"
#include "maas/core/data_type.h"
#include "maas/core/status_payload.h"
#include "maas/core/tensor_view.h"

namespace maas {
namespace detail {

// ScratchArena
//
// Per-thread reusable memory for a decorator's temporary tensors: after the
// first calls of a given size it stops allocating. Blocks are 64-byte
// aligned and never move while a call uses them (Reserve() first, then
// Take()).
class ScratchArena {
 public:
  // Ensures room for `bytes` in total (the old contents are dropped).
  void Reserve(std::size_t bytes) {
    used_ = 0;
    if (bytes + 64 > buf_.size()) buf_.resize(bytes + 64);
  }
  // A block of `bytes` from the reserved room.
  void* Take(std::size_t bytes) {
    auto base = reinterpret_cast<std::uintptr_t>(buf_.data()) + used_;
    const std::uintptr_t aligned = (base + 63) & ~std::uintptr_t{63};
    used_ += static_cast<std::size_t>(aligned - base) + bytes;
    return reinterpret_cast<void*>(aligned);
  }

 private:
  std::vector<unsigned char> buf_;
  std::size_t used_ = 0;
};

// Bytes for `n` elements of `dtype` rounded to whole 64-byte blocks (plus
// alignment slack), for ScratchArena::Reserve().
inline std::size_t ScratchBytes(DataType dtype, std::int64_t n) {
  return ((static_cast<std::size_t>(n) * DataTypeSize(dtype)) + 127) & ~std::size_t{63};
}

inline bool IsFloatType(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat64;
}

// Copies `n` elements from `src` (type `from`) to `dst` (type `to`);
// float <-> double or the same type only.
inline void ConvertElements(DataType from, const void* src, DataType to, void* dst,
                            std::size_t n) {
  if (from == to) {
    if (n > 0) std::memcpy(dst, src, n * DataTypeSize(from));
    return;
  }
  if (from == DataType::kFloat32 && to == DataType::kFloat64) {
    const auto* s = static_cast<const float*>(src);
    auto* d = static_cast<double*>(dst);
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<double>(s[i]);
  } else {
    const auto* s = static_cast<const double*>(src);
    auto* d = static_cast<float*>(dst);
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
  }
}

// Folds a sub-call's report into the decorator's report: attempts add up,
// flags accumulate, the serving label and primary status are the latest.
inline void MergeReport(const CallReport& sub, CallReport* report) {
  if (report == nullptr) return;
  report->attempts += sub.attempts;
  report->retry_wait += sub.retry_wait;
  report->fell_back = report->fell_back || sub.fell_back;
  report->circuit_open = report->circuit_open || sub.circuit_open;
  report->non_finite = report->non_finite || sub.non_finite;
  if (!sub.served_by.empty()) report->served_by = sub.served_by;
  if (!sub.primary_status.ok()) report->primary_status = sub.primary_status;
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_RESILIENCE_DETAIL_VIEWS_H_
