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

#include <cstddef>
#include <exception>
#include <new>
#include <string>
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

// ParseStrictJson()
//
// Parses `text` into a DOM. Fails with `kDataLoss` for text that is not
// JSON, nests deeper than `max_depth`, or repeats a key within one object
// (the message names the key), and with `kResourceExhausted` when memory
// runs out. Never throws.
inline absl::StatusOr<nlohmann::json> ParseStrictJson(
    absl::string_view text, int max_depth = kMaxJsonNesting) {
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
