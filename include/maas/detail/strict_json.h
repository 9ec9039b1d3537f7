// Internal: the one way maas parses untrusted JSON into an nlohmann DOM
// (server metadata and error bodies, model files). Not part of the public
// API; shared by local/model_file.h and the remote codecs, which is why it
// lives outside both.
//
// Two rules on top of nlohmann's own syntax check:
//  * nesting depth is bounded (`kMaxJsonNesting`), checked on the text before
//    any DOM exists. nlohmann parses and destroys deep documents without
//    recursion, but `dump()`, copies and comparisons recurse: a reply nested
//    a million levels deep would overflow the stack (no `catch` stops that);
//  * a key repeated in one object is an error. nlohmann keeps the last value
//    silently, so two readers of the same bytes (a server and maas, or two
//    decoders) could disagree about what a reply says.
// Nothing here throws: allocation failures become a status.

#ifndef MAAS_DETAIL_STRICT_JSON_H_
#define MAAS_DETAIL_STRICT_JSON_H_

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace maas {
namespace detail {

// kMaxJsonNesting
//
// Deepest nesting of arrays and objects accepted in a DOM-parsed document.
// maas' own formats need at most 6 (a model file's weights: object, layers
// array, layer object, weights array, row array), server metadata about 8.
inline constexpr int kMaxJsonNesting = 64;

// JsonNestingExceeds()
//
// True when arrays and objects in `text` nest deeper than `max_depth`
// (brackets inside strings do not count). A linear scan without recursion;
// it does not validate the syntax.
inline bool JsonNestingExceeds(absl::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return false;
}

// FastJsonParser
//
// The common case of ParseStrictJson(): a recursive-descent parser straight
// into the DOM, without nlohmann's per-value callback, converting numbers
// with std::from_chars (correctly rounded, like nlohmann's strtod). It
// accepts a subset of what nlohmann accepts and builds the same DOM for it
// (integers as nlohmann types them: int64 for a leading '-', uint64
// otherwise, double when out of range or written with '.' / exponent);
// `Parse` returns false for anything else - a syntax error, a repeated key,
// a number out of double's range, a byte-order mark, an escape nlohmann's
// string decoder rejects, nesting deeper than `max_depth` - and
// ParseStrictJson() then runs its nesting check and nlohmann's parser, which
// give the verdict and the message. Strings with escapes or non-ASCII bytes
// are decoded by nlohmann itself. Its recursion is bounded by `max_depth`.
// Throws only std::bad_alloc.
class FastJsonParser {
 public:
  explicit FastJsonParser(absl::string_view text, int max_depth = kMaxJsonNesting)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  // Parses the whole text into `*out`; false when the text is not in the
  // subset (then `*out` is unspecified).
  bool Parse(nlohmann::json* out) {
    SkipSpace();
    if (!Value(out)) return false;
    SkipSpace();
    return p_ == end_;
  }

 private:
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Literal(absl::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        absl::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool Value(nlohmann::json* out) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
      case '[': {
        if (depth_ >= max_depth_) return false;  // the strict path reports it
        ++depth_;
        const bool ok = *p_ == '{' ? Object(out) : Array(out);
        --depth_;
        return ok;
      }
      case '"': {
        std::string s;
        if (!String(&s)) return false;
        *out = std::move(s);
        return true;
      }
      case 't': *out = true; return Literal("true");
      case 'f': *out = false; return Literal("false");
      case 'n': *out = nullptr; return Literal("null");
      default: return Number(out);
    }
  }

  bool Object(nlohmann::json* out) {
    ++p_;  // '{'
    *out = nlohmann::json::object();
    auto& obj = out->get_ref<nlohmann::json::object_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      SkipSpace();
      std::string key;
      if (p_ == end_ || *p_ != '"' || !String(&key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      SkipSpace();
      nlohmann::json value;
      if (!Value(&value)) return false;
      if (!obj.emplace(std::move(key), std::move(value)).second) return false;  // repeated
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  bool Array(nlohmann::json* out) {
    ++p_;  // '['
    *out = nlohmann::json::array();
    auto& arr = out->get_ref<nlohmann::json::array_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      SkipSpace();
      arr.emplace_back();
      if (!Value(&arr.back())) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  // A string starting at the opening quote. Printable ASCII without escapes
  // is taken as is; anything else goes through nlohmann's string decoder.
  bool String(std::string* out) {
    const char* start = p_;
    ++p_;
    bool plain = true;
    while (p_ != end_ && *p_ != '"') {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '\\') {
        plain = false;
        if (++p_ == end_) return false;
      } else if (c < 0x20 || c >= 0x7F) {
        plain = false;
      }
      ++p_;
    }
    if (p_ == end_) return false;
    ++p_;  // closing quote
    if (plain) {
      out->assign(start + 1, p_ - 1);
      return true;
    }
    nlohmann::json decoded = nlohmann::json::parse(start, p_, nullptr,
                                                   /*allow_exceptions=*/false);
    if (!decoded.is_string()) return false;
    *out = std::move(decoded.get_ref<std::string&>());
    return true;
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // RFC 8259 number grammar, checked here (from_chars is more lenient).
  bool Number(nlohmann::json* out) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !IsDigit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    if (integer) {
      if (negative) {
        std::int64_t v = 0;
        const auto r = std::from_chars(start, p_, v);
        if (r.ec == std::errc() && r.ptr == p_) {
          *out = v;
          return true;
        }
      } else {
        std::uint64_t v = 0;
        const auto r = std::from_chars(start, p_, v);
        if (r.ec == std::errc() && r.ptr == p_) {
          *out = v;
          return true;
        }
      }
      // Out of the integer range: a double, as nlohmann does.
    }
    double d = 0;
    const auto r = std::from_chars(start, p_, d);
    if (r.ec != std::errc() || r.ptr != p_) return false;  // e.g. out of range
    *out = d;
    return true;
  }

  const char* p_;
  const char* end_;
  const int max_depth_;
  int depth_ = 0;
};

// ParseStrictJson()
//
// Parses `text` into a DOM. Fails with `kDataLoss` for text that is not
// JSON, nests deeper than `max_depth`, or repeats a key within one object
// (the message names the key), and with `kResourceExhausted` when memory
// runs out. Never throws.
inline absl::StatusOr<nlohmann::json> ParseStrictJson(
    absl::string_view text, int max_depth = kMaxJsonNesting) {
  try {
    nlohmann::json fast;
    if (FastJsonParser(text, max_depth).Parse(&fast)) return fast;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory parsing JSON");
  }
  if (JsonNestingExceeds(text, max_depth)) {
    return absl::DataLossError(
        absl::StrCat("JSON nested deeper than ", max_depth, " levels"));
  }
  try {
    std::vector<std::unordered_set<std::string>> keys;  // one set per open object
    std::string repeated;
    bool has_repeat = false;
    nlohmann::json::parser_callback_t track =
        [&](int /*depth*/, nlohmann::json::parse_event_t event,
            nlohmann::json& parsed) {
          switch (event) {
            case nlohmann::json::parse_event_t::object_start:
              keys.emplace_back();
              break;
            case nlohmann::json::parse_event_t::key:
              if (!keys.empty() && parsed.is_string() &&
                  !keys.back().insert(parsed.get_ref<const std::string&>()).second &&
                  !has_repeat) {
                has_repeat = true;
                repeated = parsed.get_ref<const std::string&>();
              }
              break;
            case nlohmann::json::parse_event_t::object_end:
              if (!keys.empty()) keys.pop_back();
              break;
            default: break;
          }
          return true;
        };
    nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), track,
                                               /*allow_exceptions=*/false);
    if (doc.is_discarded()) return absl::DataLossError("not valid JSON");
    if (has_repeat) {
      return absl::DataLossError(absl::StrCat(
          "key \"", repeated.substr(0, 64), "\" appears twice in one object"));
    }
    return doc;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory parsing JSON");
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("not valid JSON: ", e.what()));
  }
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_DETAIL_STRICT_JSON_H_
