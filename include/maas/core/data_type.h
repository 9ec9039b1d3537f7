// -----------------------------------------------------------------------------
// File: core/data_type.h
// -----------------------------------------------------------------------------
//
// `maas::DataType` names the element types of the Open Inference Protocol
// (KServe V2): BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BF16 and
// BYTES. Helpers convert to and from the protocol's spelling and give element
// sizes; `DataTypeOf<T>()` maps a C++ element type to its enumerator.
//
// Example:
//
//   static_assert(maas::DataTypeOf<float>() == maas::DataType::kFloat32);
//   absl::StatusOr<maas::DataType> t = maas::ParseDataType("FP64");

#ifndef MAAS_CORE_DATA_TYPE_H_
#define MAAS_CORE_DATA_TYPE_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace maas {

// DataType
//
// One enumerator per Open Inference Protocol datatype. `kInvalid` is the value
// of a default-constructed tensor and is never valid in a request.
enum class DataType : std::uint8_t {
  kInvalid = 0,
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat16,
  kFloat32,
  kFloat64,
  kBFloat16,
  kBytes,
};

// DataTypeName()
//
// The protocol spelling ("FP32", "INT64", ...); "INVALID" for `kInvalid`.
constexpr absl::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kBool: return "BOOL";
    case DataType::kUint8: return "UINT8";
    case DataType::kUint16: return "UINT16";
    case DataType::kUint32: return "UINT32";
    case DataType::kUint64: return "UINT64";
    case DataType::kInt8: return "INT8";
    case DataType::kInt16: return "INT16";
    case DataType::kInt32: return "INT32";
    case DataType::kInt64: return "INT64";
    case DataType::kFloat16: return "FP16";
    case DataType::kFloat32: return "FP32";
    case DataType::kFloat64: return "FP64";
    case DataType::kBFloat16: return "BF16";
    case DataType::kBytes: return "BYTES";
    case DataType::kInvalid: break;
  }
  return "INVALID";
}

// DataTypeSize()
//
// Bytes per element; 0 for `kBytes` (variable length) and `kInvalid`.
constexpr std::size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kBool:
    case DataType::kUint8:
    case DataType::kInt8: return 1;
    case DataType::kUint16:
    case DataType::kInt16:
    case DataType::kFloat16:
    case DataType::kBFloat16: return 2;
    case DataType::kUint32:
    case DataType::kInt32:
    case DataType::kFloat32: return 4;
    case DataType::kUint64:
    case DataType::kInt64:
    case DataType::kFloat64: return 8;
    case DataType::kBytes:
    case DataType::kInvalid: break;
  }
  return 0;
}

// ParseDataType()
//
// Parses a protocol spelling, case-sensitively as the protocol requires.
// Returns `kInvalidArgument` naming the text for anything else.
inline absl::StatusOr<DataType> ParseDataType(absl::string_view name) {
  for (int i = 1; i <= static_cast<int>(DataType::kBytes); ++i) {
    const auto type = static_cast<DataType>(i);
    if (DataTypeName(type) == name) return type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown datatype '", name, "'"));
}

// DataTypeOf<T>()
//
// The enumerator of a C++ element type, for the types a view can hold:
// bool, the fixed-width integers, float and double. Other types do not compile.
template <typename T>
constexpr DataType DataTypeOf() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) return DataType::kBool;
  else if constexpr (std::is_same_v<U, std::uint8_t>) return DataType::kUint8;
  else if constexpr (std::is_same_v<U, std::uint16_t>) return DataType::kUint16;
  else if constexpr (std::is_same_v<U, std::uint32_t>) return DataType::kUint32;
  else if constexpr (std::is_same_v<U, std::uint64_t>) return DataType::kUint64;
  else if constexpr (std::is_same_v<U, std::int8_t>) return DataType::kInt8;
  else if constexpr (std::is_same_v<U, std::int16_t>) return DataType::kInt16;
  else if constexpr (std::is_same_v<U, std::int32_t>) return DataType::kInt32;
  else if constexpr (std::is_same_v<U, std::int64_t>) return DataType::kInt64;
  else if constexpr (std::is_same_v<U, float>) return DataType::kFloat32;
  else if constexpr (std::is_same_v<U, double>) return DataType::kFloat64;
  else {
    static_assert(sizeof(U) == 0,
                  "maas::DataTypeOf: T must be bool, a fixed-width integer, "
                  "float or double");
    return DataType::kInvalid;
  }
}

}  // namespace maas

#endif  // MAAS_CORE_DATA_TYPE_H_
