// Fuzz target: the plain engine's HTTP/1.1 reply reader over its whole reply
// path (status line, headers, 1xx, Content-Length / chunked / until-close
// framing, trailers, limits), fed in pieces whose sizes the input chooses.
// Contract: no crash; a success has a status in 200..999 and a body within
// the limit; a failure has a message.
// Input: byte 0 = read size (1 + b % 64; 0 -> whole), byte 1 = body limit
// choice (small / default), then the reply bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "fuzz_common.h"
#include "maas/remote/detail/http1_reply_reader.h"

namespace {

class PieceSource final : public maas::detail::ByteSource {
 public:
  PieceSource(const std::uint8_t* data, std::size_t size, std::size_t piece)
      : data_(data), size_(size), piece_(piece) {}
  std::optional<maas::detail::WireFailure> Read(char* dst, std::size_t cap, std::size_t* n,
                                                bool) override {
    const std::size_t k = std::min({cap, piece_, size_ - pos_});
    if (k > 0) std::memcpy(dst, data_ + pos_, k);
    pos_ += k;
    *n = k;
    return std::nullopt;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_, piece_, pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = data[0] == 0 ? size : 1 + data[0] % 64;
  maas::detail::Http1ReplyReader::Limits limits;
  if (data[1] & 1) limits.max_body = 100;
  PieceSource src(data + 2, size - 2, piece);
  maas::detail::Http1ReplyReader reader;
  maas::HttpResponse out;
  std::optional<maas::detail::WireFailure> f = reader.Read(src, limits, &out);
  if (f.has_value()) {
    MAAS_FUZZ_CHECK(!f->detail.empty() || f->kind == maas::TransportFailure::kDeadline);
  } else {
    MAAS_FUZZ_CHECK(out.status >= 200 && out.status <= 999);
    MAAS_FUZZ_CHECK(out.body.size() <= limits.max_body);
  }
  // The decision and the body do not depend on how the bytes were split.
  // (keep_alive() may: it also says whether bytes beyond the reply had
  // arrived yet; the transport checks an idle connection again before reuse.)
  PieceSource whole(data + 2, size - 2, size);
  maas::detail::Http1ReplyReader reader2;
  maas::HttpResponse out2;
  std::optional<maas::detail::WireFailure> f2 = reader2.Read(whole, limits, &out2);
  MAAS_FUZZ_CHECK(f.has_value() == f2.has_value());
  if (!f.has_value()) {
    MAAS_FUZZ_CHECK(out.status == out2.status);
    MAAS_FUZZ_CHECK(out.body == out2.body);
  } else {
    MAAS_FUZZ_CHECK(f->kind == f2->kind);
  }
  return 0;
}
