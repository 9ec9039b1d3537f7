// Internal text helpers of the remote codecs: URL path escaping, JSON string
// escaping, number formatting with std::to_chars, error-body sanitising.
// Not part of the public API.

#ifndef MAAS_REMOTE_DETAIL_CODEC_TEXT_H_
#define MAAS_REMOTE_DETAIL_CODEC_TEXT_H_

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/remote/detail/codec_json_reader.h"

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

// Appends `n` elements of type T read from `data` (unaligned, native order)
// as comma-separated JSON values, without brackets.
template <typename T>
inline void AppendJsonValues(std::string* out, const std::byte* data,
                             std::size_t n) {
  if (n == 0) return;
  const std::size_t pos = out->size();
  out->resize(pos + n * (kMaxNumberChars + 1));
  char* const base = &(*out)[0];
  char* p = base + pos;
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    p = FormatNumber(p, v);
    *p++ = ',';
  }
  out->resize(static_cast<std::size_t>(p - 1 - base));
}

// Calls `f(element)` for every element of a BYTES buffer (4-byte
// little-endian length + bytes each) and sets `*count`. False when a length
// runs past the end.
template <typename F>
inline bool ForEachBytesElement(const void* data, std::size_t size, F&& f,
                                std::size_t* count) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t off = 0;
  *count = 0;
  while (off < size) {
    if (size - off < 4) return false;
    const std::size_t len = static_cast<std::size_t>(p[off]) |
                            (static_cast<std::size_t>(p[off + 1]) << 8) |
                            (static_cast<std::size_t>(p[off + 2]) << 16) |
                            (static_cast<std::size_t>(p[off + 3]) << 24);
    off += 4;
    if (size - off < len) return false;
    f(absl::string_view(reinterpret_cast<const char*>(p + off), len));
    off += len;
    ++*count;
  }
  return true;
}

// Appends `in` as standard base64 with padding.
inline void AppendBase64(std::string* out, absl::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k]));
  };
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

// Appends "[d0,d1,...]".
inline void AppendShape(std::string* out, absl::Span<const std::int64_t> dims) {
  out->push_back('[');
  char buf[kMaxNumberChars];
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) out->push_back(',');
    out->append(buf, static_cast<std::size_t>(FormatNumber(buf, dims[i]) - buf));
  }
  out->push_back(']');
}

// Appends `n` fixed-size elements of `dtype` from `data` as comma-separated
// JSON values. False for datatypes JSON cannot carry here (FP16, BF16,
// BYTES, invalid).
inline bool AppendJsonValuesAs(std::string* out, DataType dtype,
                               const void* data, std::size_t n) {
  const auto* d = static_cast<const std::byte*>(data);
  switch (dtype) {
    case DataType::kBool: AppendJsonValues<bool>(out, d, n); return true;
    case DataType::kUint8: AppendJsonValues<std::uint8_t>(out, d, n); return true;
    case DataType::kUint16: AppendJsonValues<std::uint16_t>(out, d, n); return true;
    case DataType::kUint32: AppendJsonValues<std::uint32_t>(out, d, n); return true;
    case DataType::kUint64: AppendJsonValues<std::uint64_t>(out, d, n); return true;
    case DataType::kInt8: AppendJsonValues<std::int8_t>(out, d, n); return true;
    case DataType::kInt16: AppendJsonValues<std::int16_t>(out, d, n); return true;
    case DataType::kInt32: AppendJsonValues<std::int32_t>(out, d, n); return true;
    case DataType::kInt64: AppendJsonValues<std::int64_t>(out, d, n); return true;
    case DataType::kFloat32: AppendJsonValues<float>(out, d, n); return true;
    case DataType::kFloat64: AppendJsonValues<double>(out, d, n); return true;
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kBytes:
    case DataType::kInvalid: break;
  }
  return false;
}

// As AppendJsonValuesAs(), inside brackets.
inline bool AppendJsonArrayAs(std::string* out, DataType dtype,
                              const void* data, std::size_t n) {
  out->push_back('[');
  const bool ok = AppendJsonValuesAs(out, dtype, data, n);
  out->push_back(']');
  return ok;
}

// kMaxErrorText
//
// Longest server error text kept in a status message (bytes, before "...").
inline constexpr std::size_t kMaxErrorText = 512;

// Appends `text` to `*out` made printable ASCII (tab, CR and LF become ' ',
// every other byte outside 0x20-0x7E becomes '?'; so a server cannot put
// line breaks or terminal escapes into a log line) and cut to kMaxErrorText
// bytes, with "..." when cut.
inline void AppendPrintable(std::string* out, absl::string_view text) {
  const std::size_t n = text.size() < kMaxErrorText ? text.size() : kMaxErrorText;
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && u < 0x7F) {
      out->push_back(text[i]);
    } else {
      out->push_back(u == '\n' || u == '\r' || u == '\t' ? ' ' : '?');
    }
  }
  if (text.size() > kMaxErrorText) out->append("...");
}

// The message of an error body: the "error" (or else "detail", or else
// "message") member of a JSON object, its text if a string and its JSON text
// otherwise; else the body itself; made printable and cut to kMaxErrorText
// bytes either way. Bodies over 64 KiB are not decoded. Read with the streaming JsonReader (no DOM, bounded
// nesting). Never fails.
inline std::string ErrorMessageFromBody(absl::string_view body) {
  std::string out;
  try {
    JsonReader r(body);
    // An error text is short: a body over 64 KiB is cut, not decoded.
    if (body.size() <= (std::size_t{64} << 10) && r.Peek() == '{') {
      static constexpr absl::string_view kKeys[] = {"error", "detail", "message"};
      std::string texts[3];
      bool found[3] = {false, false, false};
      bool first = true;
      std::string key;
      r.Expect('{');
      while (r.NextMember(&first, &key)) {
        int slot = -1;
        for (int k = 0; k < 3; ++k) {
          if (key == kKeys[k] && !found[k]) slot = k;
        }
        if (slot < 0) {
          if (!r.SkipValue(1)) break;
          continue;
        }
        if (r.Peek() == '"') {
          if (!r.ReadString(&texts[slot])) break;
        } else {
          absl::string_view span;
          if (!r.SkipValueSpan(&span)) break;
          texts[slot].assign(span.data(), std::min(span.size(), kMaxErrorText + 1));
        }
        found[slot] = true;
      }
      if (!r.failed() && r.AtEnd()) {
        for (int k = 0; k < 3; ++k) {
          if (!found[k]) continue;
          AppendPrintable(&out, texts[k]);
          return out;
        }
      }
    }
  } catch (...) {  // backstop: this function never fails
    out.clear();
  }
  AppendPrintable(&out, body);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_CODEC_TEXT_H_
