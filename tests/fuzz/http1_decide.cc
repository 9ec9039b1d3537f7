// For the differential test (http1_differential.py): reads each fuzz input
// of the http1_reply target (2 control bytes + reply bytes; the files named,
// or every file under the directories named) with Http1ReplyReader in one
// piece, and prints one line per input:
//   <path> ACCEPT <status> <body as hex>
//   <path> REJECT <failure kind>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "maas/remote/detail/http1_reply_reader.h"

namespace {

class WholeSource final : public maas::detail::ByteSource {
 public:
  explicit WholeSource(const std::string& data) : data_(data) {}
  std::optional<maas::detail::WireFailure> Read(char* dst, std::size_t cap, std::size_t* n,
                                                bool) override {
    const std::size_t k = std::min(cap, data_.size() - pos_);
    std::memcpy(dst, data_.data() + pos_, k);
    pos_ += k;
    *n = k;
    return std::nullopt;
  }

 private:
  const std::string& data_;
  std::size_t pos_ = 0;
};

void Decide(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 2) return;
  maas::detail::Http1ReplyReader::Limits limits;
  if (static_cast<unsigned char>(bytes[1]) & 1) limits.max_body = 100;
  const std::string reply = bytes.substr(2);
  WholeSource src(reply);
  maas::detail::Http1ReplyReader reader;
  maas::HttpResponse out;
  if (auto f = reader.Read(src, limits, &out)) {
    std::printf("%s REJECT %d\n", p.c_str(), static_cast<int>(f->kind));
    return;
  }
  std::printf("%s ACCEPT %d ", p.c_str(), out.status);
  for (unsigned char c : out.body) std::printf("%02x", c);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) Decide(e.path());
      }
    } else {
      Decide(p);
    }
  }
  return 0;
}
