// -----------------------------------------------------------------------------
// File: tools/cli/data_io.h
// -----------------------------------------------------------------------------
//
// Reading and writing the row matrices of the `maas` command: CSV, NumPy .npy
// and JSON. Every reading error is `kInvalidArgument` (the command's "data
// mismatch", exit status 3) with a message naming the file and, for text
// formats, the line and column:
//
//   data.csv:3:7: 'abc' is not a number
//   data.csv:4: 3 values, the rows above have 4
//   data.json:2:15: not valid JSON (syntax error ...)
//   data.npy: dtype '<c16' is not supported (float32/64, int32/64)
//
// Thread safety: the functions share no state.

#ifndef MAAS_TOOLS_CLI_DATA_IO_H_
#define MAAS_TOOLS_CLI_DATA_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace maas_cli {

// Matrix
//
// Row-major rows x cols values; `names` are column names when the source
// had them (a CSV header), else empty.
struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> values;
  std::vector<std::string> names;

  double at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
};

// ReadMatrix()
//
// Reads `path` as CSV (.csv, .txt: comma-separated numbers, an optional
// header row of names, '#' comment lines, blank lines skipped), NumPy
// (.npy: 1-D or 2-D, C order, little-endian float32/float64/int32/int64)
// or JSON (.json: an array of rows, a flat array of numbers for one row, or
// an object whose "inputs"/"data"/"instances" member is such an array).
// Fails with `kNotFound` when the file cannot be opened and
// `kInvalidArgument` naming file:line:column otherwise.
absl::StatusOr<Matrix> ReadMatrix(const std::string& path);

// ParseCsv(), ParseJson(), ParseNpy()
//
// The readers on in-memory content; `source` names it in messages.
absl::StatusOr<Matrix> ParseCsv(absl::string_view text, absl::string_view source);
absl::StatusOr<Matrix> ParseJson(absl::string_view text, absl::string_view source);
absl::StatusOr<Matrix> ParseNpy(absl::string_view bytes, absl::string_view source);

// OutputFormat / WriteMatrix()
//
// Writes `m` to `path` ("-" = stdout) as CSV (header from `m.names`),
// JSON (array of rows) or .npy (float64, or float32 when `fp32`). The format
// comes from the extension (.csv, .json, .npy; stdout: CSV); with `fp32`
// text formats print each value's shortest float form. Fails with
// `kPermissionDenied` when the file cannot be written.
absl::Status WriteMatrix(const Matrix& m, const std::string& path, bool fp32 = false);

// FormatNumber()
//
// Shortest text that reads back to the same double (or, with `fp32`, to
// the same float).
std::string FormatNumber(double v, bool fp32 = false);

}  // namespace maas_cli

#endif  // MAAS_TOOLS_CLI_DATA_IO_H_
