// The fast path of ParseStrictJson (detail::FastJsonParser) against
// nlohmann's own parser, the independent reference: whatever the fast path
// accepts, nlohmann accepts too and builds the identical DOM (same value
// types: dump() tells 1 from 1.0 and -0.0 from 0); whatever it declines,
// ParseStrictJson still answers exactly as nlohmann's strict path does.
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "maas/detail/strict_json.h"
#include "nlohmann/json.hpp"

namespace {

// nlohmann's verdict on `text`: the DOM's dump, or "" when it rejects it.
std::string Reference(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? std::string() : j.dump();
}

// Checks the fast path on `text`: accepted => nlohmann accepts the same DOM.
// Returns whether the fast path accepted it.
bool CheckFast(const std::string& text) {
  nlohmann::json fast;
  const bool accepted = maas::detail::FastJsonParser(text).Parse(&fast);
  if (accepted) {
    INFO("text: ", text);
    CHECK(fast.dump() == Reference(text));
  }
  return accepted;
}

const char* const kModel = R"({"format": "maas.mlp", "format_version": 1, "name": "m",
  "inputs": [{"name": "x", "shape": [-1, 2]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
  "layers": [{"type": "dense", "units": 1, "activation": "identity",
              "weights": [[1.5e-3], [-2]], "bias": [0.5]}], "meta": {"t": true, "f": false,
  "n": null, "s": "caf\u00e9 \ud83d\ude00", "e": {}, "a": []}})";

}  // namespace

TEST_SUITE("StrictJsonFast") {

TEST_CASE("numbers take nlohmann's types and values") {
  for (const char* t :
       {"0", "-0", "0.0", "-0.0", "1", "-1", "1.5", "1e3", "1E-2", "-1.25e+2", "123456789",
        "18446744073709551615", "18446744073709551616", "-9223372036854775808",
        "-9223372036854775809", "0.1", "0.30000000000000004", "1.7976931348623157e308",
        "4.9e-324", "2.2250738585072014e-308", "123456789012345678901234567890",
        "3.4028234663852886e38", "1.00000001", "[1, -2, 3.0, -4e0]"}) {
    CHECK_MESSAGE(CheckFast(t), t);
  }
}

TEST_CASE("everything nlohmann rejects is declined and rejected") {
  for (const char* t :
       {"", " ", "01", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "0x10", "NaN", "Infinity",
        "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":}", "[", "]",
        "{", "}", "\"abc", "tru", "nul", "falsey", "[1]]", "1 2", "\"a\\x\"", "\"\\ud800\"",
        "\"\x01\"", "\"\xff\"", "'a'", "[1e400]", "[1e-400]"}) {
    const std::string text(t);
    INFO("text: ", text);
    CheckFast(text);
    const auto strict = maas::detail::ParseStrictJson(text);
    const std::string ref = Reference(text);
    CHECK(strict.ok() == !ref.empty());
    if (strict.ok()) CHECK(strict->dump() == ref);
  }
}

TEST_CASE("a model file, escapes and non-ASCII strings") {
  CHECK(CheckFast(kModel));
  CHECK(CheckFast("\"caf\xc3\xa9\""));
  CHECK(CheckFast(" \t\r\n[ {\"a\" : [ ] , \"b\":{ }} ] \n"));
}

TEST_CASE("repeated keys and a byte-order mark go to the strict path") {
  CHECK_FALSE(CheckFast(R"({"a": 1, "a": 2})"));
  CHECK_FALSE(maas::detail::ParseStrictJson(R"({"a": 1, "a": 2})").ok());
  CHECK_FALSE(maas::detail::ParseStrictJson(R"({"a": {"b": 1, "b": 1}})").ok());
  const std::string bom = "\xEF\xBB\xBF[1]";
  CHECK_FALSE(CheckFast(bom));
  const auto strict = maas::detail::ParseStrictJson(bom);
  CHECK(strict.ok() == !Reference(bom).empty());
}

TEST_CASE("nesting: up to the limit on the fast path, beyond it refused") {
  const int limit = maas::detail::kMaxJsonNesting;
  const std::string ok = std::string(limit, '[') + std::string(limit, ']');
  CHECK(CheckFast(ok));
  CHECK(maas::detail::ParseStrictJson(ok).ok());
  const std::string deep = std::string(limit + 1, '[') + std::string(limit + 1, ']');
  CHECK_FALSE(CheckFast(deep));
  const auto strict = maas::detail::ParseStrictJson(deep);
  REQUIRE_FALSE(strict.ok());
  CHECK(std::string(strict.status().message()).find("nested deeper") != std::string::npos);
  const std::string huge = std::string(1000000, '[');  // no recursion that deep
  CHECK_FALSE(maas::detail::ParseStrictJson(huge).ok());
}

TEST_CASE("mutations of a model file: same verdict and DOM as nlohmann") {
  std::mt19937 rng(1234);
  const std::string base(kModel);
  const std::string alphabet = "{}[],:\"\\-+.eE0123456789 tfnu\x01\xc3\xff";
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string t = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % t.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: t[pos] = c; break;
        case 1: t.insert(t.begin() + static_cast<std::ptrdiff_t>(pos), c); break;
        default: t.erase(pos, 1); break;
      }
    }
    accepted += CheckFast(t) ? 1 : 0;
    const std::string ref = Reference(t);
    const auto strict = maas::detail::ParseStrictJson(t);
    // The strict parser also refuses repeated keys, which nlohmann accepts.
    if (!ref.empty() && !strict.ok()) {
      CHECK(std::string(strict.status().message()).find("appears twice") != std::string::npos);
    } else {
      CHECK(strict.ok() == !ref.empty());
      if (strict.ok()) CHECK(strict->dump() == ref);
    }
  }
  CHECK(accepted > 100);  // the fast path is exercised, not always declined
}

}  // TEST_SUITE
