// Test helpers for the codec tests: fixture files and JSON comparisons.
#ifndef MAAS_TESTS_REMOTE_CODEC_FIXTURE_H_
#define MAAS_TESTS_REMOTE_CODEC_FIXTURE_H_

#include <fstream>
#include <sstream>
#include <string>

#include "doctest/doctest.h"
#include "nlohmann/json.hpp"

namespace maas_test {

// The text of tests/remote/codec/data/<rel>; fails the test when missing.
inline std::string ReadFixture(const std::string& rel) {
  const std::string path = std::string(MAAS_CODEC_FIXTURE_DIR) + "/" + rel;
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An independent parse of a JSON text (nlohmann, strict), for structural
// comparisons with what the codecs write.
inline nlohmann::json ParseStrict(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  REQUIRE_MESSAGE(!j.is_discarded(), "not valid JSON: " << text.substr(0, 200));
  return j;
}

}  // namespace maas_test

#endif  // MAAS_TESTS_REMOTE_CODEC_FIXTURE_H_
