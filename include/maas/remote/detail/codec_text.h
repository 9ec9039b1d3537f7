// Internal text helpers of the remote codecs: URL path escaping, JSON string
// escaping, number formatting with std::to_chars, error-body sanitising.
// Not part of the public API.

#ifndef MAAS_REMOTE_DETAIL_CODEC_TEXT_H_
#define MAAS_REMOTE_DETAIL_CODEC_TEXT_H_

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace maas {
namespace detail {

// Appends `s` to `*out` with every byte outside RFC 3986's unreserved set
// (A-Z a-z 0-9 - . _ ~) written as %XX, so a model name is one path segment.
inline void AppendPathSegment(std::string* out, absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                            (u >= '0' && u <= '9') || u == '-' || u == '.' ||
                            u == '_' || u == '~';
    if (unreserved) {
      out->push_back(c);
    } else {
      out->push_back('%');
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    }
  }
}

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
inline bool IsValidUtf8(absl::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Appends `s` as a JSON string literal (with quotes). Bytes >= 0x80 are
// copied as they are: callers check UTF-8 where it matters.
inline void AppendJsonString(std::string* out, absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (u < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Longest text FormatNumber() writes for any supported element type
// ("-1.1754944e-38", "-9223372036854775808", "-2.2250738585072014e-308").
inline constexpr std::size_t kMaxNumberChars = 32;

// Writes one element at `p` (which has room for kMaxNumberChars) and returns
// the end: integers in decimal, floats in shortest round-trip form, NaN and
// infinities as the tokens `NaN`, `Infinity`, `-Infinity`, bools as
// true/false.
template <typename T>
inline char* FormatNumber(char* p, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    if (v) {
      std::memcpy(p, "true", 4);
      return p + 4;
    }
    std::memcpy(p, "false", 5);
    return p + 5;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) {
      if (std::isnan(v)) {
        std::memcpy(p, "NaN", 3);
        return p + 3;
      }
      if (v < 0) {
        std::memcpy(p, "-Infinity", 9);
        return p + 9;
      }
      std::memcpy(p, "Infinity", 8);
      return p + 8;
    }
    return std::to_chars(p, p + kMaxNumberChars, v).ptr;
  } else {
    return std::to_chars(p, p + kMaxNumberChars, v).ptr;
  }
}

// The message of an error body: the "error" (or "detail", "message") string
// of a JSON object, else the body made printable and cut to 512 characters.
inline std::string ErrorMessageFromBody(absl::string_view body) {
  try {
    const nlohmann::json doc =
        nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
    if (!doc.is_discarded() && doc.is_object()) {
      for (const char* key : {"error", "detail", "message"}) {
        auto it = doc.find(key);
        if (it == doc.end()) continue;
        if (it->is_string()) return it->get<std::string>();
        return it->dump(-1, ' ', true,
                        nlohmann::json::error_handler_t::replace);
      }
    }
  } catch (...) {  // backstop: this function never fails
  }
  constexpr std::size_t kMax = 512;
  std::string out;
  const std::size_t n = body.size() < kMax ? body.size() : kMax;
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(body[i]);
    out.push_back(u >= 0x20 && u < 0x7F ? body[i] : (u == '\n' ? ' ' : '?'));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_CODEC_TEXT_H_
