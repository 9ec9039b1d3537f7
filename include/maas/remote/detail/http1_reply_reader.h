// Internal: the HTTP/1.1 reply reader of the plain http:// engine, kept free
// of sockets so that it can be fuzzed and compared with a reference parser
// (tests/fuzz/). Not part of the public API.
//
// `Http1ReplyReader::Read()` pulls bytes from a `ByteSource` and returns one
// complete reply. It follows RFC 9112 and accepts what h11 (the reference
// parser of the differential test) accepts, with one stricter rule: the
// version must be HTTP/1.0 or HTTP/1.1.
//  * head: status line "HTTP/1.x NNN[ reason]", header fields "name:value"
//    (name a token, no space before ':', value without NUL/CR/LF/VT/FF,
//    obsolete line folding joined with a space), lines ending in CRLF or LF,
//    at most `max_head` bytes; interim 1xx replies are skipped (101 is an
//    error: maas never asks to switch protocols);
//  * framing: Transfer-Encoding exactly "chunked" (then any Content-Length
//    is ignored and the connection is not reused), else Content-Length
//    (repeated values must agree; at most 20 digits), else until the server
//    closes; 204 and 304 have no body;
//  * chunked: 1-20 hex digits, optional ";extension", optional trailing
//    blanks, CRLF; each chunk ends in CRLF; trailer fields as header lines;
//  * limits: a declared or received body larger than `max_body` fails with
//    kResponseTooLarge before it is stored, without overflow for any
//    declared size; body memory grows with the bytes received, never with the
//    declared length alone.
// A reply cut short is kConnectionClosed (never a partial body); bytes that
// are not HTTP are kMalformedReply.

#ifndef MAAS_REMOTE_DETAIL_HTTP1_REPLY_READER_H_
#define MAAS_REMOTE_DETAIL_HTTP1_REPLY_READER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "maas/remote/http.h"
#include "maas/remote/http_status.h"

namespace maas {
namespace detail {

// WireFailure
//
// Why an exchange failed, and whether it failed before any reply byte
// arrived (a reused connection that fails so may be retried once).
struct WireFailure {
  TransportFailure kind = TransportFailure::kConnectionClosed;
  std::string detail;
  bool before_reply = false;
};

// ByteSource
//
// Where `Http1ReplyReader` gets its bytes (a socket, or a test buffer).
class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // ByteSource::Read()
  //
  // Reads between 1 and `cap` bytes into `dst` and sets `*n`, or sets `*n`
  // to 0 at the end of the stream. Returns a failure (timeout, reset) instead;
  // `any_reply` tells whether reply bytes have been seen (for
  // `WireFailure::before_reply`).
  virtual std::optional<WireFailure> Read(char* dst, std::size_t cap, std::size_t* n,
                                          bool any_reply) = 0;
};

// Http1ReplyReader
//
// See the file comment. Keeps its read buffer between replies (so a
// connection reads into warm memory). Not thread-safe.
class Http1ReplyReader {
 public:
  struct Limits {
    std::size_t max_head = std::size_t{64} << 10;
    std::size_t max_body = std::size_t{256} << 20;
  };

  // Http1ReplyReader::Read()
  //
  // Reads one reply into `*out` (status, headers, whole body). Returns
  // nullopt on success; then `keep_alive()` tells whether the connection
  // may carry another request.
  std::optional<WireFailure> Read(ByteSource& src, const Limits& limits, HttpResponse* out) {
    begin_ = end_ = 0;
    keep_alive_ = false;
    out->status = 0;
    out->headers = HttpHeaders();
    out->body.clear();
    while (true) {  // interim 1xx replies
      std::size_t head_end = 0;  // one past the blank line
      if (auto f = ReadHead(src, limits, &head_end)) return f;
      Framing framing;
      if (auto f = ParseHead(absl::string_view(buf_.data() + begin_, head_end - begin_),
                             out, &framing)) {
        return f;
      }
      begin_ = head_end;
      if (out->status >= 200) return ReadBody(src, limits, framing, out);
      out->headers = HttpHeaders();
    }
  }

  // Http1ReplyReader::keep_alive()
  //
  // After a successful Read(): the reply allows reusing the connection and
  // no byte beyond it has arrived.
  bool keep_alive() const { return keep_alive_; }

 private:
  struct Framing {
    bool chunked = false;
    bool has_length = false;
    std::uint64_t length = 0;
    bool close = false;
  };

  static WireFailure Malformed(absl::string_view what) {
    return WireFailure{TransportFailure::kMalformedReply, std::string(what), false};
  }
  static WireFailure TooLarge(const Limits& limits) {
    return WireFailure{TransportFailure::kResponseTooLarge,
                       absl::StrCat("limit ", limits.max_body, " bytes"), false};
  }
  static WireFailure Cut(absl::string_view what) {
    return WireFailure{TransportFailure::kConnectionClosed, std::string(what), false};
  }

  // Appends bytes from `src` to buf_; `*eof` at the end of the stream.
  std::optional<WireFailure> Fill(ByteSource& src, bool any_reply, bool* eof) {
    constexpr std::size_t kMinRead = std::size_t{16} << 10;
    if (begin_ > 0 && begin_ == end_) begin_ = end_ = 0;
    if (buf_.size() - end_ < kMinRead) {
      if (begin_ > 0) {
        std::memmove(&buf_[0], &buf_[begin_], end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - end_ < kMinRead) buf_.resize(std::max(2 * buf_.size(), end_ + kMinRead));
    }
    std::size_t n = 0;
    if (auto f = src.Read(&buf_[end_], buf_.size() - end_, &n, any_reply)) return f;
    *eof = n == 0;
    end_ += n;
    return std::nullopt;
  }

  // Looks for the blank line ending a head or trailer section in
  // buf_[begin_ + *scanned, end_): "\n\n" or "\n\r\n" (a section may also
  // be just the blank line when `allow_empty`). Sets *end one past it.
  bool FindBlankLine(std::size_t* scanned, bool allow_empty, std::size_t* end) const {
    if (allow_empty && *scanned == 0) {
      if (end_ > begin_ && buf_[begin_] == '\n') {
        *end = begin_ + 1;
        return true;
      }
      if (end_ - begin_ >= 2 && buf_[begin_] == '\r' && buf_[begin_ + 1] == '\n') {
        *end = begin_ + 2;
        return true;
      }
    }
    for (std::size_t i = begin_ + *scanned; i < end_; ++i) {
      if (buf_[i] != '\n' || i == begin_) continue;
      if (i + 1 < end_ && buf_[i + 1] == '\n') {
        *end = i + 2;
        return true;
      }
      if (i + 2 < end_ && buf_[i + 1] == '\r' && buf_[i + 2] == '\n') {
        *end = i + 3;
        return true;
      }
    }
    // The pattern is at most 3 bytes: rescan the last two next time.
    *scanned = end_ - begin_ >= 2 ? end_ - begin_ - 2 : 0;
    return false;
  }

  // Reads until buf_[begin_, *head_end) holds a status line and header
  // fields ending in a blank line.
  std::optional<WireFailure> ReadHead(ByteSource& src, const Limits& limits,
                                      std::size_t* head_end) {
    std::size_t scanned = 0;  // relative to begin_, which Fill may move
    while (true) {
      // A blank line before the status line is not a reply.
      if ((end_ > begin_ && buf_[begin_] == '\n') ||
          (end_ - begin_ >= 2 && buf_[begin_] == '\r' && buf_[begin_ + 1] == '\n')) {
        return Malformed("blank line instead of a status line");
      }
      if (FindBlankLine(&scanned, false, head_end)) return std::nullopt;
      if (end_ - begin_ > limits.max_head) {
        return Malformed(absl::StrCat("header block over ", limits.max_head, " bytes"));
      }
      const bool any = end_ > begin_;
      bool eof = false;
      if (auto f = Fill(src, any, &eof)) return f;
      if (eof) {
        return WireFailure{TransportFailure::kConnectionClosed,
                           any ? "connection closed inside the reply headers"
                               : "connection closed before any reply",
                           !any};
      }
    }
  }

  static bool IsTokenChar(unsigned char c) {
    // (Not strchr: it would find NUL, the terminator of its own string.)
    return absl::ascii_isalnum(c) ||
           absl::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
               absl::string_view::npos;
  }
  // Python's bytes \s plus NUL: not allowed inside a field value or reason.
  static bool IsBadValueChar(unsigned char c) {
    return c == 0 || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }

  // Splits `head` into lines (LF, one optional CR before it removed),
  // without the final blank line.
  template <typename F>
  static void ForEachLine(absl::string_view head, F&& f) {
    while (!head.empty()) {
      const std::size_t nl = head.find('\n');
      absl::string_view line = head.substr(0, nl);
      head = nl == absl::string_view::npos ? absl::string_view() : head.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) break;  // the blank line ends the head
      f(line);
    }
  }

  std::optional<WireFailure> ParseField(absl::string_view field, HttpResponse* out,
                                        Framing* framing, bool* saw_te) {
    std::size_t colon = 0;
    while (colon < field.size() && IsTokenChar(static_cast<unsigned char>(field[colon]))) ++colon;
    if (colon == 0 || colon == field.size() || field[colon] != ':') {
      return Malformed(absl::StrCat("bad header line '", field.substr(0, 64), "'"));
    }
    absl::string_view name = field.substr(0, colon);
    absl::string_view value = field.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (char c : value) {
      if (IsBadValueChar(static_cast<unsigned char>(c))) {
        return Malformed(absl::StrCat("bad character in header '", name, "'"));
      }
    }
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      // "n" or "n, n, ...": every listed value the same.
      absl::string_view rest = value, first;
      bool have_first = false;
      while (true) {
        const std::size_t comma = rest.find(',');
        absl::string_view v = absl::StripAsciiWhitespace(rest.substr(0, comma));
        if (!have_first) {
          first = v;
          have_first = true;
        } else if (v != first) {
          return Malformed("conflicting Content-Length values");
        }
        if (comma == absl::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
      if (first.empty() || first.size() > 20 ||
          !std::all_of(first.begin(), first.end(),
                       [](char c) { return c >= '0' && c <= '9'; })) {
        return Malformed("bad Content-Length");
      }
      // Up to 20 digits: saturate instead of overflowing (any value this
      // large is over every limit anyway).
      std::uint64_t n = 0;
      for (char c : first) {
        const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
      }
      if (framing->has_length && framing->length != n) {
        return Malformed("conflicting Content-Length headers");
      }
      framing->has_length = true;
      framing->length = n;
    } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (*saw_te) return Malformed("repeated Transfer-Encoding");
      *saw_te = true;
      if (!absl::EqualsIgnoreCase(value, "chunked")) {
        return Malformed(absl::StrCat("unsupported Transfer-Encoding '", value.substr(0, 32), "'"));
      }
      framing->chunked = true;
    } else if (absl::EqualsIgnoreCase(name, "Connection")) {
      absl::string_view rest = value;
      while (true) {
        const std::size_t comma = rest.find(',');
        if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(rest.substr(0, comma)), "close")) {
          framing->close = true;
        }
        if (comma == absl::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
    }
    out->headers.Add(std::string(name), std::string(value));
    return std::nullopt;
  }

  // Parses header (or trailer) field lines, joining obsolete folded lines.
  std::optional<WireFailure> ParseFields(absl::string_view lines, HttpResponse* out,
                                         Framing* framing) {
    std::optional<WireFailure> failure;
    bool saw_te = false, have_field = false;
    std::string field;  // the current field, with folded continuation lines
    ForEachLine(lines, [&](absl::string_view line) {
      if (failure.has_value()) return;
      if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
        if (!have_field) {
          failure = Malformed("continuation line at start of fields");
          return;
        }
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        field.push_back(' ');
        field.append(line.data(), line.size());
        return;
      }
      if (have_field) failure = ParseField(field, out, framing, &saw_te);
      field.assign(line.data(), line.size());
      have_field = true;
    });
    if (!failure.has_value() && have_field) failure = ParseField(field, out, framing, &saw_te);
    return failure;
  }

  std::optional<WireFailure> ParseHead(absl::string_view head, HttpResponse* out,
                                       Framing* framing) {
    const std::size_t nl = head.find('\n');
    absl::string_view status = head.substr(0, nl);
    if (!status.empty() && status.back() == '\r') status.remove_suffix(1);
    if (auto f = ParseStatusLine(status, out, framing)) return f;
    return ParseFields(head.substr(nl + 1), out, framing);
  }

  static std::optional<WireFailure> ParseStatusLine(absl::string_view line, HttpResponse* out,
                                                    Framing* framing) {
    auto digit = [&](std::size_t i) { return line[i] >= '0' && line[i] <= '9'; };
    if (line.size() < 12 || !absl::StartsWith(line, "HTTP/1.") ||
        (line[7] != '0' && line[7] != '1') || line[8] != ' ' || !digit(9) || !digit(10) ||
        !digit(11) || (line.size() > 12 && line[12] != ' ')) {
      return Malformed(absl::StrCat("bad status line '",
                                    absl::CHexEscape(line.substr(0, 64)), "'"));
    }
    for (std::size_t i = 13; i < line.size(); ++i) {
      if (IsBadValueChar(static_cast<unsigned char>(line[i]))) {
        return Malformed("bad character in the reason phrase");
      }
    }
    out->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (out->status < 100) return Malformed(absl::StrCat("status ", out->status));
    if (out->status == 101) return Malformed("101 Switching Protocols was not asked for");
    *framing = Framing();
    framing->close = line[7] == '0';  // HTTP/1.0 closes after the reply
    return std::nullopt;
  }

  std::optional<WireFailure> ReadBody(ByteSource& src, const Limits& limits,
                                      const Framing& framing, HttpResponse* out) {
    if (out->status == 204 || out->status == 304) {
      keep_alive_ = !framing.close && begin_ == end_;
      return std::nullopt;
    }
    if (framing.chunked) {
      if (auto f = ReadChunked(src, limits, out)) return f;
      // Both framings declared: served, but the connection is not trusted.
      keep_alive_ = !framing.close && !framing.has_length && begin_ == end_;
      return std::nullopt;
    }
    if (framing.has_length) {
      if (auto f = ReadLength(src, limits, framing.length, out)) return f;
      keep_alive_ = !framing.close && begin_ == end_;
      return std::nullopt;
    }
    // No length: the body runs until the server closes.
    keep_alive_ = false;
    while (true) {
      const std::size_t have = end_ - begin_;
      if (have > limits.max_body - std::min(limits.max_body, out->body.size())) {
        return TooLarge(limits);
      }
      out->body.append(buf_.data() + begin_, have);
      begin_ = end_;
      bool eof = false;
      if (auto f = Fill(src, true, &eof)) return f;
      if (eof) return std::nullopt;
    }
  }

  std::optional<WireFailure> ReadLength(ByteSource& src, const Limits& limits,
                                        std::uint64_t length, HttpResponse* out) {
    if (length > limits.max_body) return TooLarge(limits);
    const auto n = static_cast<std::size_t>(length);
    std::size_t have = std::min(n, end_ - begin_);
    out->body.assign(buf_.data() + begin_, have);
    begin_ += have;
    while (have < n) {
      // Grow with what arrives (doubling), not to the declared length at
      // once: a server that declares 256 MiB and sends nothing costs nothing.
      if (out->body.size() == have) {
        out->body.resize(std::min(n, std::max(have * 2, have + (std::size_t{64} << 10))));
      }
      std::size_t got = 0;
      if (auto f = src.Read(&out->body[have], out->body.size() - have, &got, true)) return f;
      if (got == 0) {
        return Cut(absl::StrCat("body ended after ", have, " of ", n, " bytes"));
      }
      have += got;
    }
    out->body.resize(n);
    return std::nullopt;
  }

  // Finds a line end "\r\n" at or after `from`; npos if absent.
  std::size_t FindCrlf(std::size_t from) const {
    for (std::size_t i = from; i + 1 < end_; ++i) {
      if (buf_[i] == '\r' && buf_[i + 1] == '\n') return i;
    }
    return std::string::npos;
  }

  // Needs a complete CRLF-terminated line at begin_; sets *eol to its CR.
  std::optional<WireFailure> NeedLine(ByteSource& src, const Limits& limits, std::size_t* eol,
                                      absl::string_view where) {
    std::size_t scanned = 0;  // relative to begin_, which Fill may move
    while ((*eol = FindCrlf(begin_ + scanned)) == std::string::npos) {
      if (end_ - begin_ > limits.max_head) {
        return Malformed(absl::StrCat(where, " line over ", limits.max_head, " bytes"));
      }
      scanned = end_ > begin_ ? end_ - begin_ - 1 : 0;
      bool eof = false;
      if (auto f = Fill(src, true, &eof)) return f;
      if (eof) return Cut(absl::StrCat("connection closed inside a chunked body (", where, ")"));
    }
    return std::nullopt;
  }

  std::optional<WireFailure> ReadChunked(ByteSource& src, const Limits& limits,
                                         HttpResponse* out) {
    while (true) {
      std::size_t eol = 0;
      if (auto f = NeedLine(src, limits, &eol, "chunk size")) return f;
      absl::string_view line(buf_.data() + begin_, eol - begin_);
      std::size_t digits = 0;
      std::uint64_t size = 0;
      bool overflow = false;
      while (digits < line.size() && absl::ascii_isxdigit(static_cast<unsigned char>(line[digits]))) {
        const char c = line[digits];
        const std::uint64_t d = static_cast<std::uint64_t>(
            c <= '9' ? c - '0' : (absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10));
        overflow = overflow || size > (UINT64_MAX >> 4);
        size = (size << 4) | d;
        ++digits;
      }
      absl::string_view rest = line.substr(digits);
      if (!rest.empty() && rest.front() == ';') {
        // A chunk extension runs to the end of the line; no line feed in it.
        if (rest.find('\n') != absl::string_view::npos) return Malformed("bad chunk extension");
        rest = absl::string_view();
      }
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
      if (digits == 0 || digits > 20 || !rest.empty()) return Malformed("bad chunk size line");
      begin_ = eol + 2;
      if (overflow || size > limits.max_body - out->body.size()) return TooLarge(limits);
      if (size == 0) break;
      auto left = static_cast<std::size_t>(size);
      while (left > 0) {
        if (begin_ == end_) {
          bool eof = false;
          if (auto f = Fill(src, true, &eof)) return f;
          if (eof) return Cut("connection closed inside a chunk");
        }
        const std::size_t take = std::min(left, end_ - begin_);
        out->body.append(buf_.data() + begin_, take);
        begin_ += take;
        left -= take;
      }
      while (end_ - begin_ < 2) {
        bool eof = false;
        if (auto f = Fill(src, true, &eof)) return f;
        if (eof) return Cut("connection closed inside a chunk");
      }
      if (buf_[begin_] != '\r' || buf_[begin_ + 1] != '\n') return Malformed("chunk without CRLF");
      begin_ += 2;
    }
    // Trailer fields up to a blank line: header lines, checked and dropped.
    std::size_t scanned = 0, trailer_end = 0;
    while (!FindBlankLine(&scanned, true, &trailer_end)) {
      if (end_ - begin_ > limits.max_head) return Malformed("trailer section too long");
      bool eof = false;
      if (auto f = Fill(src, true, &eof)) return f;
      if (eof) return Cut("connection closed inside the trailer");
    }
    HttpResponse ignored;
    Framing unused;
    if (auto f = ParseFields(absl::string_view(buf_.data() + begin_, trailer_end - begin_),
                             &ignored, &unused)) {
      return f;
    }
    begin_ = trailer_end;
    return std::nullopt;
  }

  std::string buf_ = std::string(std::size_t{64} << 10, '\0');
  std::size_t begin_ = 0, end_ = 0;
  bool keep_alive_ = false;
};

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_HTTP1_REPLY_READER_H_
