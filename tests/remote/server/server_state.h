// Finds a test server started by serve.py (a ctest fixture): its state file
// <MAAS_TEST_STATE_DIR>/<name>.state.json holds the URL.
#ifndef MAAS_TESTS_REMOTE_SERVER_SERVER_STATE_H_
#define MAAS_TESTS_REMOTE_SERVER_SERVER_STATE_H_

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace maas_test {

// The base URL of the server `name` ("kserve", "mlserver"), or "" with
// `*why` explaining what is missing.
inline std::string ServerUrl(const char* name, std::string* why) {
  const std::string path = absl::StrCat(MAAS_TEST_STATE_DIR, "/", name, ".state.json");
  std::ifstream in(path);
  if (!in) {
    *why = absl::StrCat("no server state file ", path,
                        ": the fixture test that starts the server failed or did not "
                        "run (are the venvs there? tools/bootstrap.sh --all)");
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json st = nlohmann::json::parse(ss.str(), nullptr, false);
  if (st.is_discarded() || !st.contains("url")) {
    *why = absl::StrCat("server state file ", path, " is malformed");
    return "";
  }
  return st["url"].get<std::string>();
}

// Path of a file in the source tree.
inline std::string SourcePath(const std::string& rel) {
  return absl::StrCat(MAAS_TEST_SOURCE_DIR, "/", rel);
}

}  // namespace maas_test

#endif  // MAAS_TESTS_REMOTE_SERVER_SERVER_STATE_H_
