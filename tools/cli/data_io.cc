// Implementation of data_io.h.

#include "data_io.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace maas_cli {
namespace {

absl::Status Bad(absl::string_view source, absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, where.empty() ? "" : ":", where,
                                                 ": ", what));
}

bool ParseDouble(absl::string_view s, double* out) {
  s = absl::StripAsciiWhitespace(s);
  if (s.empty()) return false;
  // from_chars rejects a leading '+'; accept it as CSV writers emit it.
  if (s.front() == '+') s.remove_prefix(1);
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *out);
  if (ec == std::errc() && p == end) return true;
  // "nan", "inf" and friends: from_chars handles them; anything else is bad.
  return false;
}

}  // namespace

std::string FormatNumber(double v, bool fp32) {
  char buf[64];
  auto [p, ec] = fp32 ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(v))
                      : std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return absl::StrCat(v);
  return std::string(buf, p);
}

absl::StatusOr<Matrix> ParseCsv(absl::string_view text, absl::string_view source) {
  Matrix m;
  std::size_t line_no = 0;
  bool first_content = true;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    std::vector<double> row;
    row.reserve(cells.size());
    bool numeric = true;
    std::size_t column = 1, bad_column = 0;
    absl::string_view bad_cell;
    for (absl::string_view cell : cells) {
      double v = 0;
      if (!ParseDouble(cell, &v)) {
        if (numeric) {
          bad_column = column + (cell.size() - absl::StripLeadingAsciiWhitespace(cell).size());
          bad_cell = absl::StripAsciiWhitespace(cell);
        }
        numeric = false;
      }
      row.push_back(v);
      column += cell.size() + 1;
    }
    if (!numeric) {
      if (first_content) {  // a header of names
        for (absl::string_view cell : cells) {
          m.names.emplace_back(absl::StripAsciiWhitespace(cell));
        }
        m.cols = cells.size();
        first_content = false;
        continue;
      }
      return Bad(source, absl::StrCat(line_no, ":", bad_column),
                 bad_cell.empty() ? std::string("empty value (expected a number)")
                                  : absl::StrCat("'", bad_cell, "' is not a number"));
    }
    first_content = false;
    if (m.cols == 0) m.cols = row.size();
    if (row.size() != m.cols) {
      return Bad(source, absl::StrCat(line_no),
                 absl::StrCat(row.size(), " values, ",
                              m.names.empty() || m.rows > 0
                                  ? absl::StrCat("the rows above have ", m.cols)
                                  : absl::StrCat("the header has ", m.cols, " names")));
    }
    m.values.insert(m.values.end(), row.begin(), row.end());
    ++m.rows;
  }
  if (m.rows == 0) return Bad(source, "", "no data rows");
  return m;
}

namespace {

// Line and column (1-based) of byte offset `pos` in `text`.
std::string LineColumn(absl::string_view text, std::size_t pos) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return absl::StrCat(line, ":", col);
}

}  // namespace

absl::StatusOr<Matrix> ParseJson(absl::string_view text, absl::string_view source) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line L, column C: ..."
    const std::size_t colon = what.find(": ", what.find("column"));
    return Bad(source, LineColumn(text, e.byte > 0 ? e.byte - 1 : 0),
               absl::StrCat("not valid JSON (",
                            colon == std::string::npos ? what : what.substr(colon + 2), ")"));
  }
  const nlohmann::json* rows = &doc;
  if (doc.is_object()) {
    rows = nullptr;
    for (const char* key : {"inputs", "data", "instances"}) {
      if (doc.contains(key)) {
        rows = &doc[key];
        break;
      }
    }
    if (rows == nullptr) {
      return Bad(source, "", "a JSON object needs an \"inputs\", \"data\" or \"instances\" "
                             "array");
    }
  }
  if (!rows->is_array() || rows->empty()) {
    return Bad(source, "", "expected a non-empty array of rows");
  }
  Matrix m;
  auto add_row = [&](const nlohmann::json& row, std::size_t r) -> absl::Status {
    if (!row.is_array()) {
      return Bad(source, "", absl::StrCat("row ", r, " is a ", row.type_name(),
                                          ", not an array of numbers"));
    }
    if (m.cols == 0) m.cols = row.size();
    if (row.size() != m.cols || row.empty()) {
      return Bad(source, "", absl::StrCat("row ", r, " has ", row.size(),
                                          " values, row 0 has ", m.cols));
    }
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (!row[c].is_number()) {
        return Bad(source, "", absl::StrCat("row ", r, " column ", c, ": ",
                                            row[c].type_name(), " is not a number"));
      }
      m.values.push_back(row[c].get<double>());
    }
    ++m.rows;
    return absl::OkStatus();
  };
  if ((*rows)[0].is_number()) {
    if (absl::Status s = add_row(*rows, 0); !s.ok()) return s;
    return m;
  }
  for (std::size_t r = 0; r < rows->size(); ++r) {
    if (absl::Status s = add_row((*rows)[r], r); !s.ok()) return s;
  }
  return m;
}

absl::StatusOr<Matrix> ParseNpy(absl::string_view bytes, absl::string_view source) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != "\x93NUMPY") {
    return Bad(source, "", "not a NumPy .npy file (no \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Bad(source, "", "truncated header");
    for (int i = 3; i >= 0; --i) {
      header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    }
    offset = 12;
  } else {
    return Bad(source, "", absl::StrCat(".npy format version ", major, " is not supported"));
  }
  if (offset + header_len > bytes.size()) return Bad(source, "", "truncated header");
  const std::string header(bytes.substr(offset, header_len));
  auto value_of = [&](absl::string_view key) -> std::string {
    const std::size_t k = header.find(absl::StrCat("'", key, "'"));
    if (k == std::string::npos) return "";
    std::size_t v = header.find(':', k);
    if (v == std::string::npos) return "";
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    if (v < header.size() && header[v] == '(') {
      return header.substr(v, header.find(')', v) - v + 1);
    }
    std::size_t end = header.find_first_of(",}", v);
    return std::string(absl::StripAsciiWhitespace(header.substr(v, end - v)));
  };
  const std::string descr = std::string(absl::StripSuffix(absl::StripPrefix(value_of("descr"), "'"), "'"));
  const std::string order = value_of("fortran_order");
  const std::string shape_text = value_of("shape");
  if (order == "True") return Bad(source, "", "Fortran-ordered arrays are not supported");
  std::size_t width = 0;
  if (descr == "<f8" || descr == "<i8") width = 8;
  if (descr == "<f4" || descr == "<i4") width = 4;
  if (width == 0) {
    return Bad(source, "", absl::StrCat("dtype '", descr, "' is not supported (little-endian "
                                        "float32/float64/int32/int64)"));
  }
  std::vector<std::size_t> dims;
  for (absl::string_view d : absl::StrSplit(absl::StripPrefix(absl::StripSuffix(shape_text, ")"), "("),
                                            ',', absl::SkipWhitespace())) {
    std::size_t n = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(d), &n)) {
      return Bad(source, "", absl::StrCat("cannot read the shape ", shape_text));
    }
    dims.push_back(n);
  }
  if (dims.empty() || dims.size() > 2) {
    return Bad(source, "", absl::StrCat("shape ", shape_text, ": only 1-D (one row) or 2-D "
                                        "arrays are supported"));
  }
  Matrix m;
  m.rows = dims.size() == 2 ? dims[0] : 1;
  m.cols = dims.back();
  const std::size_t count = m.rows * m.cols;
  const std::size_t data = offset + header_len;
  if (bytes.size() - data < count * width) {
    return Bad(source, "", absl::StrCat("has ", (bytes.size() - data) / width, " values, the "
                                        "shape ", shape_text, " needs ", count));
  }
  if (count == 0) return Bad(source, "", "empty array");
  m.values.resize(count);
  const char* p = bytes.data() + data;
  for (std::size_t i = 0; i < count; ++i, p += width) {
    if (descr == "<f8") {
      double v;
      std::memcpy(&v, p, 8);
      m.values[i] = v;
    } else if (descr == "<f4") {
      float v;
      std::memcpy(&v, p, 4);
      m.values[i] = v;
    } else if (descr == "<i8") {
      std::int64_t v;
      std::memcpy(&v, p, 8);
      m.values[i] = static_cast<double>(v);
    } else {
      std::int32_t v;
      std::memcpy(&v, p, 4);
      m.values[i] = v;
    }
  }
  return m;
}

absl::StatusOr<Matrix> ReadMatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".npy")) return ParseNpy(bytes, path);
  if (absl::EndsWith(lower, ".json")) return ParseJson(bytes, path);
  return ParseCsv(bytes, path);
}

absl::Status WriteMatrix(const Matrix& m, const std::string& path, bool fp32) {
  const std::string lower = absl::AsciiStrToLower(path);
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write: ",
                                                      std::strerror(errno)));
    }
    out = &file;
  }
  if (absl::EndsWith(lower, ".npy")) {
    std::string header = absl::StrCat("{'descr': '", fp32 ? "<f4" : "<f8",
                                      "', 'fortran_order': False, 'shape': (", m.rows, ", ",
                                      m.cols, "), }");
    const std::size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
    const auto len = static_cast<std::uint16_t>(header.size());
    *out << "\x93NUMPY" << '\x01' << '\x00' << static_cast<char>(len & 0xff)
         << static_cast<char>(len >> 8) << header;
    for (double v : m.values) {
      if (fp32) {
        const float f = static_cast<float>(v);
        out->write(reinterpret_cast<const char*>(&f), 4);
      } else {
        out->write(reinterpret_cast<const char*>(&v), 8);
      }
    }
  } else if (absl::EndsWith(lower, ".json")) {
    *out << "[\n";
    for (std::size_t r = 0; r < m.rows; ++r) {
      *out << "  [";
      for (std::size_t c = 0; c < m.cols; ++c) {
        *out << (c ? ", " : "") << FormatNumber(m.at(r, c), fp32);
      }
      *out << "]" << (r + 1 < m.rows ? ",\n" : "\n");
    }
    *out << "]\n";
  } else {
    if (!m.names.empty()) {
      for (std::size_t c = 0; c < m.names.size(); ++c) *out << (c ? "," : "") << m.names[c];
      *out << "\n";
    }
    for (std::size_t r = 0; r < m.rows; ++r) {
      for (std::size_t c = 0; c < m.cols; ++c) {
        *out << (c ? "," : "") << FormatNumber(m.at(r, c), fp32);
      }
      *out << "\n";
    }
  }
  out->flush();
  if (!*out) return absl::DataLossError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

}  // namespace maas_cli
