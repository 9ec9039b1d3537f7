// Internal forward-only JSON reader of the remote codecs. It reads envelopes
// (objects, strings, small integers) and, on the hot path, numeric arrays
// straight into typed buffers with std::from_chars, without a DOM. It never
// throws and never reads outside its text; the first error is kept with its
// byte offset. Not part of the public API.

#ifndef MAAS_REMOTE_DETAIL_CODEC_JSON_READER_H_
#define MAAS_REMOTE_DETAIL_CODEC_JSON_READER_H_

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "maas/core/data_type.h"
#include "maas/core/shape.h"

namespace maas {
namespace detail {

// Element tag for BYTES leaves (strings, or TF Serving's {"b64": ...}).
struct BytesLeaf {};

// The shape a nest of JSON arrays describes: `dims[i]` is the length of the
// arrays at depth i (checked equal across siblings) and `leaf_depth` the
// depth at which scalars appear (-1 until one is seen).
struct NestShape {
  static constexpr int kMaxDepth = static_cast<int>(Shape::kMaxRank) + 1;
  std::int64_t dims[kMaxDepth] = {};
  bool dim_set[kMaxDepth] = {};
  int leaf_depth = -1;

  // The rank: the leaf depth, or for arrays without any scalar the number of
  // array levels seen.
  int Rank() const {
    if (leaf_depth >= 0) return leaf_depth;
    int r = 0;
    while (r < kMaxDepth && dim_set[r]) ++r;
    return r;
  }
};

// Writes elements into a caller-sized buffer; counts past the end without
// writing, so the caller can report the real count.
struct FixedSink {
  std::byte* data = nullptr;
  std::size_t capacity = 0;  // elements
  std::size_t count = 0;

  template <typename T>
  void Put(T v) {
    if (count < capacity) std::memcpy(data + count * sizeof(T), &v, sizeof(T));
    ++count;
  }
  void PutBytes(absl::string_view) { ++count; }
};

// Appends elements to a growing byte vector (fixed-size types: the raw
// elements; BYTES: 4-byte little-endian length + bytes per element).
struct GrowSink {
  std::vector<std::byte>* buf = nullptr;
  std::size_t used = 0;  // bytes
  std::size_t count = 0;

  template <typename T>
  void Put(T v) {
    Reserve(sizeof(T));
    std::memcpy(buf->data() + used, &v, sizeof(T));
    used += sizeof(T);
    ++count;
  }
  void PutBytes(absl::string_view s) {
    Reserve(4 + s.size());
    const auto n = static_cast<std::uint32_t>(s.size());
    const unsigned char len[4] = {
        static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
        static_cast<unsigned char>(n >> 16), static_cast<unsigned char>(n >> 24)};
    std::memcpy(buf->data() + used, len, 4);
    if (!s.empty()) std::memcpy(buf->data() + used + 4, s.data(), s.size());
    used += 4 + s.size();
    ++count;
  }
  // Shrinks the vector to the bytes written.
  void Finish() { buf->resize(used); }

 private:
  void Reserve(std::size_t extra) {
    if (used + extra > buf->size()) {
      buf->resize(std::max<std::size_t>({64, 2 * buf->size(), used + extra}));
    }
  }
};

// Decodes standard or URL-safe base64 (padding optional) into `*out`.
inline bool Base64Decode(absl::string_view in, std::string* out) {
  out->clear();
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return true;
}

// JsonReader
//
// Reads one JSON text. Lenient where servers are: NaN/Infinity tokens, and
// numbers converted to the requested element type (with range checks).
class JsonReader {
 public:
  // `base_offset` is added to byte offsets in messages (for sub-readers over
  // a span of a larger body).
  explicit JsonReader(absl::string_view text, std::size_t base_offset = 0)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        base_offset_(base_offset) {}

  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  std::size_t offset() const {
    return static_cast<std::size_t>(p_ - begin_) + base_offset_;
  }
  const char* pos() const { return p_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }

  // Prepends `context` to the recorded error.
  void AddErrorContext(absl::string_view context) {
    if (failed_) error_ = absl::StrCat(context, error_);
  }

  // Records the first error ("<what> at byte N") and returns false.
  bool Fail(absl::string_view what) {
    if (!failed_) {
      failed_ = true;
      error_ = absl::StrCat(what, " at byte ", offset());
    }
    return false;
  }

  void SkipWs() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }
  // The next non-blank character, or '\0' at the end.
  char Peek() {
    SkipWs();
    return p_ < end_ ? *p_ : '\0';
  }
  bool AtEnd() {
    SkipWs();
    return p_ == end_;
  }
  bool Consume(char c) {
    if (Peek() == c && p_ < end_) {
      ++p_;
      return true;
    }
    return false;
  }
  bool Expect(char c) {
    if (Consume(c)) return true;
    return Fail(absl::StrCat("expected '", absl::string_view(&c, 1), "' but ",
                             Found()));
  }

  // What is at the current position, for messages.
  std::string Found() {
    if (AtEnd()) return "the text ends";
    const char c = *p_;
    if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F) {
      return absl::StrCat("found '", absl::string_view(&c, 1), "'");
    }
    return absl::StrCat("found byte ", static_cast<int>(static_cast<unsigned char>(c)));
  }

  // After Expect('{'): true with `*key` set while members remain; the value
  // follows. False at '}' or on error (check failed()).
  bool NextMember(bool* first, std::string* key) {
    const char c = Peek();
    if (c == '}') {
      ++p_;
      return false;
    }
    if (!*first) {
      if (c != ',') return Fail(absl::StrCat("expected ',' or '}' but ", Found()));
      ++p_;
    }
    *first = false;
    if (Peek() != '"') return Fail(absl::StrCat("expected a key but ", Found()));
    if (!ReadString(key)) return false;
    return Expect(':');
  }

  // After Expect('['): true while elements remain. False at ']' or on error.
  bool NextElement(bool* first) {
    const char c = Peek();
    if (c == ']') {
      ++p_;
      return false;
    }
    if (!*first) {
      if (c != ',') return Fail(absl::StrCat("expected ',' or ']' but ", Found()));
      ++p_;
    }
    *first = false;
    return true;
  }

  // Reads a string value (with escapes, \u surrogate pairs to UTF-8).
  bool ReadString(std::string* out) {
    out->clear();
    if (Peek() != '"') return Fail(absl::StrCat("expected a string but ", Found()));
    ++p_;
    for (;;) {
      const char* run = p_;
      while (p_ < end_ && *p_ != '"' && *p_ != '\\') ++p_;
      out->append(run, static_cast<std::size_t>(p_ - run));
      if (p_ == end_) return Fail("unterminated string");
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      ++p_;  // backslash
      if (p_ == end_) return Fail("unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!ReadHex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
              return Fail("unpaired UTF-16 surrogate in string");
            }
            p_ += 2;
            if (!ReadHex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return Fail("unpaired UTF-16 surrogate in string");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail("unpaired UTF-16 surrogate in string");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Fail("invalid escape in string");
      }
    }
  }

  // Skips one value of any kind, checking its syntax.
  bool SkipValue(int depth = 0) {
    if (depth > kMaxDepth) return Fail("JSON nested too deeply");
    const char c = Peek();
    if (c == '{') {
      ++p_;
      bool first = true;
      while (NextMember(&first, &scratch_key_)) {
        if (!SkipValue(depth + 1)) return false;
      }
      return !failed_;
    }
    if (c == '[') {
      ++p_;
      bool first = true;
      while (NextElement(&first)) {
        if (!SkipValue(depth + 1)) return false;
      }
      return !failed_;
    }
    if (c == '"') return SkipString();
    return SkipScalar();
  }

  // Skips one value and returns the text it spans.
  bool SkipValueSpan(absl::string_view* span) {
    SkipWs();
    const char* start = p_;
    if (!SkipValue()) return false;
    *span = absl::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  // Reads an integral number (also written as 3.0 or 3e0) into int64.
  bool ReadInt64(std::int64_t* out) {
    SkipWs();
    return ReadLeaf(out);
  }

  // Reads `null`.
  bool ReadNull() {
    SkipWs();
    if (end_ - p_ >= 4 && std::memcmp(p_, "null", 4) == 0) {
      p_ += 4;
      return true;
    }
    return Fail(absl::StrCat("expected null but ", Found()));
  }

  // Reads one scalar element as `T` at the current (non-blank) position.
  // Floats: any JSON number, NaN/Infinity/-Infinity, true/false as 1/0;
  // overflow gives +-infinity. Integers: integral numbers within range.
  // BOOL: true/false, 0/1.
  template <typename T>
  bool ReadLeaf(T* out) {
    if constexpr (std::is_same_v<T, bool>) {
      if (ReadBoolToken(out)) return true;
      double d = 0;
      if (!ReadDoubleValue(&d)) return false;
      if (d == 0.0 || d == 1.0) {
        *out = d == 1.0;
        return true;
      }
      return Fail(absl::StrCat(d, " is not a BOOL (true, false, 0 or 1)"));
    } else if constexpr (std::is_floating_point_v<T>) {
      if (FastFloat(out)) return true;
      const char* s = p_;
      T v;
      const auto r = std::from_chars(s, end_, v);
      if (r.ec == std::errc()) {
        p_ = r.ptr;
        *out = v;
        return true;
      }
      if (r.ec == std::errc::result_out_of_range) {
        p_ = r.ptr;
        *out = OutOfRange<T>(s, r.ptr);
        return true;
      }
      bool b;
      if (ReadBoolToken(&b)) {
        *out = b ? T(1) : T(0);
        return true;
      }
      return Fail(absl::StrCat("expected a number but ", Found()));
    } else {
      const char* s = p_;
      T v;
      const auto r = std::from_chars(s, end_, v);
      if (r.ec == std::errc() && (r.ptr == end_ || !IsNumberChar(*r.ptr))) {
        p_ = r.ptr;
        *out = v;
        return true;
      }
      bool b;
      if (ReadBoolToken(&b)) {
        *out = b ? T(1) : T(0);
        return true;
      }
      double d = 0;
      if (!ReadDoubleValue(&d)) return false;
      // [lo, hi) are exact doubles: -2^(bits-1) and 2^(bits-1) (or 2^bits).
      constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
      constexpr double hi =
          2.0 * static_cast<double>(std::numeric_limits<T>::max() / 2 + 1);
      if (!(d >= lo && d < hi) || std::trunc(d) != d) {
        p_ = s;
        return Fail(absl::StrCat("value ", d, " does not fit ",
                                 DataTypeName(DataTypeOf<T>())));
      }
      *out = static_cast<T>(d);
      return true;
    }
  }

  // Reads a BYTES element: a string, or {"b64": "<base64>"}.
  bool ReadBytesLeaf(std::string* out) {
    const char c = Peek();
    if (c == '"') return ReadString(out);
    if (c == '{') {
      ++p_;
      bool first = true;
      bool got = false;
      while (NextMember(&first, &scratch_key_)) {
        if (scratch_key_ == "b64") {
          if (!ReadString(&scratch_b64_)) return false;
          if (!Base64Decode(scratch_b64_, out)) return Fail("invalid base64 in \"b64\"");
          got = true;
        } else if (!SkipValue(1)) {
          return false;
        }
      }
      if (failed_) return false;
      if (!got) return Fail("BYTES object without \"b64\"");
      return true;
    }
    return Fail(absl::StrCat("expected a string but ", Found()));
  }

  // Reads a value that is a scalar or nested arrays of scalars, of element
  // type `T` (or BytesLeaf), into `sink`, recording the nesting in `ns`.
  // `level` is the depth of this value within the tensor.
  template <typename T, typename Sink>
  bool ReadTree(Sink* sink, NestShape* ns, int level) {
    const char c = Peek();
    if (c != '[') {
      if (ns->leaf_depth < 0) {
        ns->leaf_depth = level;
      } else if (ns->leaf_depth != level) {
        return Fail("ragged nesting: scalars at different depths");
      }
      return PutLeaf<T>(sink);
    }
    if (level >= NestShape::kMaxDepth - 1) {
      return Fail(absl::StrCat("arrays nested deeper than ", Shape::kMaxRank));
    }
    ++p_;
    std::int64_t count = 0;
    const char d = Peek();
    if (d == ']') {
      ++p_;
    } else if (d != '[') {
      // Innermost level: a flat run of scalars, the hot path.
      if (ns->leaf_depth < 0) {
        ns->leaf_depth = level + 1;
      } else if (ns->leaf_depth != level + 1) {
        return Fail("ragged nesting: scalars at different depths");
      }
      for (;;) {
        if (!PutLeaf<T>(sink)) return false;
        ++count;
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
          continue;
        }
        if (p_ < end_ && *p_ == ']') {
          ++p_;
          break;
        }
        return Fail(absl::StrCat("expected ',' or ']' but ", Found()));
      }
    } else {
      bool first = true;
      while (NextElement(&first)) {
        if (!ReadTree<T>(sink, ns, level + 1)) return false;
        ++count;
      }
      if (failed_) return false;
    }
    if (!ns->dim_set[level]) {
      ns->dim_set[level] = true;
      ns->dims[level] = count;
    } else if (ns->dims[level] != count) {
      return Fail(absl::StrCat("ragged arrays: ", count, " elements where ",
                               ns->dims[level], " were seen before"));
    }
    return true;
  }

  // ReadTree() with the element type chosen at run time. FP16, BF16 and
  // kInvalid fail.
  template <typename Sink>
  bool ReadTreeAs(DataType dtype, Sink* sink, NestShape* ns, int level) {
    switch (dtype) {
      case DataType::kBool: return ReadTree<bool>(sink, ns, level);
      case DataType::kUint8: return ReadTree<std::uint8_t>(sink, ns, level);
      case DataType::kUint16: return ReadTree<std::uint16_t>(sink, ns, level);
      case DataType::kUint32: return ReadTree<std::uint32_t>(sink, ns, level);
      case DataType::kUint64: return ReadTree<std::uint64_t>(sink, ns, level);
      case DataType::kInt8: return ReadTree<std::int8_t>(sink, ns, level);
      case DataType::kInt16: return ReadTree<std::int16_t>(sink, ns, level);
      case DataType::kInt32: return ReadTree<std::int32_t>(sink, ns, level);
      case DataType::kInt64: return ReadTree<std::int64_t>(sink, ns, level);
      case DataType::kFloat32: return ReadTree<float>(sink, ns, level);
      case DataType::kFloat64: return ReadTree<double>(sink, ns, level);
      case DataType::kBytes: return ReadTree<BytesLeaf>(sink, ns, level);
      case DataType::kFloat16:
      case DataType::kBFloat16:
      case DataType::kInvalid: break;
    }
    return Fail(absl::StrCat(DataTypeName(dtype), " data cannot be read from JSON"));
  }

 private:
  static constexpr int kMaxDepth = 64;

  static bool IsNumberChar(char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
           c == '+' || c == '-';
  }

  template <typename T, typename Sink>
  bool PutLeaf(Sink* sink) {
    if constexpr (std::is_same_v<T, BytesLeaf>) {
      if (!ReadBytesLeaf(&scratch_str_)) return false;
      if (scratch_str_.size() > 0xFFFFFFFFu) return Fail("BYTES element longer than 4 GiB");
      sink->PutBytes(scratch_str_);
      return true;
    } else {
      T v{};
      if (!ReadLeaf(&v)) return false;
      sink->Put(v);
      return true;
    }
  }

  // Clinger's fast path for short decimals: with at most 19 significant
  // digits m <= 2^53 and a decimal exponent e in [-22, 22], m and 10^|e| are
  // exact doubles and one IEEE multiplication or division rounds correctly.
  // For float, the double is rounded once more, which is exact unless the
  // double lies on a midpoint between two floats (then the slow path runs).
  // Returns false, consuming nothing, whenever the text needs the full
  // algorithm (or is not a plain number): std::from_chars then decides.
  template <typename T>
  bool FastFloat(T* out) {
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* q = p_;
    const bool negative = q < end_ && *q == '-';
    if (negative) ++q;
    std::uint64_t m = 0;
    int digits = 0;
    int exp10 = 0;
    const char* int_start = q;
    for (; q < end_ && static_cast<unsigned>(*q - '0') < 10; ++q) {
      const auto d = static_cast<unsigned>(*q - '0');
      if (m == 0 && d == 0) continue;
      if (digits == 19) return false;
      m = m * 10 + d;
      ++digits;
    }
    if (q == int_start) return false;
    if (q < end_ && *q == '.') {
      ++q;
      // Eight digits at a time while they fit (SWAR, as in fast_float).
      while (end_ - q >= 8 && digits + 8 <= 19) {
        std::uint64_t w;
        std::memcpy(&w, q, 8);
        if (((w & 0xF0F0F0F0F0F0F0F0u) |
             (((w + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) !=
            0x3333333333333333u) {
          break;
        }
        w -= 0x3030303030303030u;
        w = (w * 10) + (w >> 8);
        w = (((w & 0x000000FF000000FFu) * 0x000F424000000064u) +
             (((w >> 16) & 0x000000FF000000FFu) * 0x0000271000000001u)) >> 32;
        if (m != 0 || w != 0) {
          m = m * 100000000u + w;
          digits = m == w ? CountDigits(w) : digits + 8;
        }
        exp10 -= 8;
        q += 8;
      }
      for (; q < end_ && static_cast<unsigned>(*q - '0') < 10; ++q) {
        const auto d = static_cast<unsigned>(*q - '0');
        --exp10;
        if (m == 0 && d == 0) continue;
        if (digits == 19) return false;
        m = m * 10 + d;
        ++digits;
      }
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      bool eneg = false;
      if (q < end_ && (*q == '+' || *q == '-')) eneg = *q++ == '-';
      int e = 0;
      const char* estart = q;
      for (; q < end_ && static_cast<unsigned>(*q - '0') < 10; ++q) {
        if (q - estart == 4) return false;
        e = e * 10 + (*q - '0');
      }
      if (q == estart) return false;
      exp10 += eneg ? -e : e;
    }
    if (m == 0) {
      *out = negative ? -T(0) : T(0);
      p_ = q;
      return true;
    }
    if (m > (std::uint64_t{1} << 53) || exp10 < -22 || exp10 > 22) return false;
    double d = static_cast<double>(m);
    d = exp10 < 0 ? d / kPow10[-exp10] : d * kPow10[exp10];
    if constexpr (std::is_same_v<T, float>) {
      std::uint64_t bits;
      std::memcpy(&bits, &d, sizeof(bits));
      constexpr std::uint64_t kLow = (std::uint64_t{1} << 29) - 1;
      if ((bits & kLow) == (std::uint64_t{1} << 28)) return false;
      *out = static_cast<float>(negative ? -d : d);
    } else {
      *out = negative ? -d : d;
    }
    p_ = q;
    return true;
  }

  static int CountDigits(std::uint64_t v) {
    int n = 0;
    while (v != 0) {
      v /= 10;
      ++n;
    }
    return n;
  }

  bool ReadBoolToken(bool* out) {
    if (end_ - p_ >= 4 && std::memcmp(p_, "true", 4) == 0) {
      p_ += 4;
      *out = true;
      return true;
    }
    if (end_ - p_ >= 5 && std::memcmp(p_, "false", 5) == 0) {
      p_ += 5;
      *out = false;
      return true;
    }
    return false;
  }

  bool ReadDoubleValue(double* out) {
    const char* s = p_;
    const auto r = std::from_chars(s, end_, *out);
    if (r.ec == std::errc()) {
      p_ = r.ptr;
      return true;
    }
    if (r.ec == std::errc::result_out_of_range) {
      p_ = r.ptr;
      *out = OutOfRange<double>(s, r.ptr);
      return true;
    }
    return Fail(absl::StrCat("expected a number but ", Found()));
  }

  // The value of a number token [s, e) that from_chars found out of range
  // for T: +-infinity on overflow, a correctly signed zero or subnormal on
  // underflow.
  template <typename T>
  static T OutOfRange(const char* s, const char* e) {
    const bool negative = *s == '-';
    if constexpr (std::is_same_v<T, float>) {
      double d = 0;
      const auto r = std::from_chars(s, e, d);
      if (r.ec == std::errc()) {
        if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
          return negative ? -std::numeric_limits<float>::infinity()
                          : std::numeric_limits<float>::infinity();
        }
        return static_cast<float>(d);
      }
    }
    // Decide over- or underflow from the exponent's sign (a mantissa with
    // hundreds of leading zeros and no exponent is taken as underflow too).
    bool underflow = true;
    for (const char* q = s; q < e; ++q) {
      if (*q == 'e' || *q == 'E') {
        underflow = q + 1 < e && q[1] == '-';
        break;
      }
      if (*q >= '1' && *q <= '9' && (q == s || q[-1] != '.')) {
        underflow = false;
      }
    }
    if (underflow) return negative ? -T(0) : T(0);
    return negative ? -std::numeric_limits<T>::infinity()
                    : std::numeric_limits<T>::infinity();
  }

  bool ReadHex4(std::uint32_t* out) {
    if (end_ - p_ < 4) return Fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return Fail("invalid \\u escape");
    }
    *out = v;
    return true;
  }

  static void AppendUtf8(std::string* out, std::uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool SkipString() {
    ++p_;  // opening quote
    while (p_ < end_) {
      const char c = *p_++;
      if (c == '"') return true;
      if (c == '\\') {
        if (p_ == end_) break;
        ++p_;
      }
    }
    return Fail("unterminated string");
  }

  bool SkipScalar() {
    if (p_ < end_ && (static_cast<unsigned>(*p_ - '0') < 10 ||
                      (*p_ == '-' && end_ - p_ > 1 && static_cast<unsigned>(p_[1] - '0') < 10))) {
      ++p_;
      while (p_ < end_ && IsNumberChar(*p_)) ++p_;
      return true;
    }
    static constexpr absl::string_view kTokens[] = {"true", "false", "null",
                                                    "NaN", "Infinity", "-Infinity"};
    for (absl::string_view t : kTokens) {
      if (static_cast<std::size_t>(end_ - p_) >= t.size() &&
          std::memcmp(p_, t.data(), t.size()) == 0) {
        p_ += t.size();
        return true;
      }
    }
    if (p_ < end_ && (*p_ == '-' || (*p_ >= '0' && *p_ <= '9'))) {
      ++p_;
      while (p_ < end_ && IsNumberChar(*p_)) ++p_;
      return true;
    }
    return Fail(absl::StrCat("expected a value but ", Found()));
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  std::size_t base_offset_;
  bool failed_ = false;
  std::string error_;
  std::string scratch_key_;
  std::string scratch_str_;
  std::string scratch_b64_;
};

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_CODEC_JSON_READER_H_
