// -----------------------------------------------------------------------------
// File: remote/httplib_transport.h
// -----------------------------------------------------------------------------
//
// `maas::HttpLibTransport`: the shipped `maas::HttpTransport`. This is the
// ONLY maas header that includes httplib.h and the only one doing socket I/O;
// link the CMake target `maas::http` to use it.
//
// Two engines behind one class: https:// URLs go through cpp-httplib (with
// OpenSSL); http:// URLs through a small HTTP/1.1 client of its own
// (`detail::PlainHttpConnection`), because cpp-httplib 0.11.4's client costs
// several times a raw socket's CPU per small request (docs/PERFORMANCE.md,
// "Remote client"). Both behave the same way:
//  * keep-alive connections are reused (a small mutex-guarded pool, so calls
//    from many threads run in parallel, each on its own connection);
//  * TCP_NODELAY is set on every connection (with Nagle's algorithm a request
//    written in two parts stalls ~40 ms); the http:// engine also sends the
//    header block and the body in one sendmsg, without copying the body;
//  * connect, each read/write, and the whole call are bounded by the timeouts
//    in `HttpTransportOptions`; the total timeout also caps every socket wait
//    and is checked between body chunks;
//  * TLS certificates and host names are verified for https:// by default;
//  * `Authorization: Bearer <token>` / the API-key header / custom headers are
//    added; credentials never appear in a status message and nothing is
//    logged; CR or LF in a header field or path is refused (no injection);
//  * replies larger than `max_response_bytes` are abandoned;
//  * redirects are never followed (a redirect would carry credentials to
//    another host); a 3xx reply is returned as is;
//  * a reused keep-alive connection that the server closed before any reply
//    byte arrived is retried once, transparently, on a fresh connection.
// The http:// engine reads Content-Length, chunked and until-close bodies,
// skips interim 1xx replies, and reports a reply that is not HTTP as
// kDataLoss and a body cut short as kUnavailable (never a partial body).
// Host names are resolved with getaddrinfo, which has no timeout of its own.
// Failures map through the table in remote/http_status.h.
//
// Build note (Debian): Debian's libcpp-httplib-dev is the split build, whose
// classes change layout with CPPHTTPLIB_OPENSSL_SUPPORT; the library was
// compiled with it (and zlib, brotli), so every translation unit must define
// it too. The `maas::http` target takes the definitions from pkg-config, so
// link the target rather than adding -lcpp-httplib by hand.
//
// Thread safety: `Send()` may be called from any number of threads at once.
// At most `max_idle_connections` idle connections are kept; a burst of more
// concurrent calls opens extra connections that are closed afterwards.
//
// Example:
//
//   maas::HttpTransportOptions opts;
//   opts.total_timeout = absl::Seconds(5);
//   auto transport = maas::HttpLibTransport::Create("http://127.0.0.1:8080", opts);
//   if (!transport.ok()) return transport.status();
//   maas::HttpRequest req;
//   req.path = "/v2/health/ready";
//   absl::StatusOr<maas::HttpResponse> resp = (*transport)->Send(req);

#ifndef MAAS_REMOTE_HTTPLIB_TRANSPORT_H_
#define MAAS_REMOTE_HTTPLIB_TRANSPORT_H_

#include <netdb.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "maas/remote/http.h"
#include "maas/remote/http_status.h"
#include "maas/remote/remote_model.h"

namespace maas {

namespace detail {

// The parts of a base URL "scheme://host[:port][/prefix]".
struct ParsedBaseUrl {
  std::string scheme;       // "http" or "https"
  std::string host;         // as written, IPv6 without brackets
  int port = 0;
  std::string prefix;       // "" or "/a/b" (no trailing '/')
  std::string canonical;    // scheme://host:port/prefix, for messages
};

// ParseBaseUrl()
//
// Accepts http:// and https:// URLs with an optional port and path prefix;
// no user-info (credentials belong in HttpTransportOptions), query or
// fragment. Fails with `kInvalidArgument`.
inline absl::StatusOr<ParsedBaseUrl> ParseBaseUrl(absl::string_view url) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid server URL '", url, "': ", why));
  };
  ParsedBaseUrl out;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "http://")) {
    out.scheme = "http";
  } else if (absl::ConsumePrefix(&rest, "https://")) {
    out.scheme = "https";
  } else {
    return bad("must start with http:// or https://");
  }
  const std::size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path =
      slash == absl::string_view::npos ? absl::string_view() : rest.substr(slash);
  if (authority.find('@') != absl::string_view::npos) {
    return bad("user-info is not supported; pass credentials in the options");
  }
  if (path.find_first_of("?#") != absl::string_view::npos) {
    return bad("a query or fragment is not supported");
  }
  absl::string_view port_text;
  if (absl::ConsumePrefix(&authority, "[")) {
    const std::size_t close = authority.find(']');
    if (close == absl::string_view::npos) return bad("unterminated '['");
    out.host = std::string(authority.substr(0, close));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!absl::ConsumePrefix(&after, ":")) return bad("junk after ']'");
      port_text = after;
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  if (out.host.find_first_of(" \t\r\n/") != std::string::npos) {
    return bad("host contains whitespace or '/'");
  }
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
      return bad(absl::StrCat("port '", port_text, "' is not in 1..65535"));
    }
    out.port = port;
  }
  while (absl::ConsumeSuffix(&path, "/")) {
  }
  out.prefix = std::string(path);
  const bool v6 = out.host.find(':') != std::string::npos;
  out.canonical = absl::StrCat(out.scheme, "://", v6 ? "[" : "", out.host,
                               v6 ? "]" : "", ":", out.port, out.prefix);
  return out;
}

// Converts a (non-negative, finite) duration to the sec/usec pair httplib
// wants; at least 1 ms so that zero never means "no timeout".
inline std::pair<time_t, time_t> ToSecUsec(absl::Duration d) {
  const std::int64_t us =
      std::max<std::int64_t>(1000, absl::ToInt64Microseconds(d));
  return {static_cast<time_t>(us / 1000000), static_cast<time_t>(us % 1000000)};
}

// PlainHttpConnection
//
// The http:// engine of HttpLibTransport: one keep-alive HTTP/1.1
// connection on a TCP socket with TCP_NODELAY, written with one sendmsg
// (header block + caller's body, no copy) and read with large blocking recv
// calls into a reused buffer. Connect waits in poll(); reads and writes are
// bounded by SO_RCVTIMEO / SO_SNDTIMEO, set only when the bound changes, so
// a small request costs the same two system calls as a raw socket client. It exists
// because cpp-httplib's client costs several times a raw socket's CPU per
// small request (a poll before every read and write, 4 KiB reads, a regex
// on the status line, formatted header writes, a copy of the body); see
// docs/PERFORMANCE.md "Remote client". https:// stays on cpp-httplib.
// Not thread-safe: the transport's pool gives each call its own connection.
class PlainHttpConnection {
 public:
  // Why an exchange failed, and whether any reply byte had arrived.
  struct Failure {
    TransportFailure kind;
    std::string detail;
    bool before_reply = false;
  };

  PlainHttpConnection() = default;
  PlainHttpConnection(const PlainHttpConnection&) = delete;
  PlainHttpConnection& operator=(const PlainHttpConnection&) = delete;
  ~PlainHttpConnection() { Close(); }

  bool is_open() const { return fd_ >= 0; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    begin_ = end_ = 0;
  }

  // Exchange()
  //
  // Sends `head` + `body` and reads one response into `*out`, connecting
  // first if needed. Returns nullopt on success. The connection stays open
  // for reuse when the reply allows it.
  std::optional<Failure> Exchange(const ParsedBaseUrl& url, absl::string_view head,
                                  absl::string_view body, const HttpTransportOptions& opts,
                                  absl::Time deadline, HttpResponse* out) {
    if (fd_ < 0) {
      if (auto f = Connect(url, opts, deadline)) return f;
    }
    if (auto f = SendAll(head, body, opts, deadline)) {
      Close();
      return f;
    }
    std::optional<Failure> f = ReadResponse(opts, deadline, out);
    if (f.has_value() || !keep_alive_) Close();
    return f;
  }

 private:
  // Waits for `events` on the socket, at most `limit` and never past
  // `deadline`. Returns nullopt when ready.
  std::optional<Failure> Wait(short events, absl::Duration limit, absl::Time deadline,
                              TransportFailure on_timeout, bool any_reply) {
    const absl::Time now = absl::Now();
    const bool deadline_binds = deadline - now <= limit;
    const absl::Duration wait = std::min(limit, deadline - now);
    if (wait <= absl::ZeroDuration()) {
      return Failure{TransportFailure::kDeadline, "", !any_reply};
    }
    pollfd p{fd_, events, 0};
    const int ms = static_cast<int>(
        std::max<std::int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1)))));
    int r;
    do {
      r = ::poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    if (r > 0) return std::nullopt;
    if (r == 0) {
      return Failure{deadline_binds ? TransportFailure::kDeadline : on_timeout,
                     absl::StrCat("after ", absl::FormatDuration(wait)), !any_reply};
    }
    return Failure{TransportFailure::kConnectionClosed, std::strerror(errno), !any_reply};
  }

  // Sets SO_RCVTIMEO / SO_SNDTIMEO to min(limit, time left) when that
  // differs from what is set. `*deadline_binds` tells a timeout of this
  // wait from the total deadline.
  std::optional<Failure> Arm(int option, absl::Duration limit, absl::Time deadline,
                             absl::Duration* armed, bool* deadline_binds, bool any_reply) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return Failure{TransportFailure::kDeadline, "", !any_reply};
    }
    *deadline_binds = left < limit;
    const absl::Duration want =
        std::max(absl::Microseconds(1), absl::Trunc(std::min(limit, left), absl::Microseconds(1)));
    if (want != *armed) {
      const timeval tv = absl::ToTimeval(want);
      ::setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof(tv));
      *armed = want;
    }
    return std::nullopt;
  }

  Failure TimedOut(bool deadline_binds, TransportFailure wait_kind, absl::Duration armed,
                   bool any_reply) const {
    return Failure{deadline_binds ? TransportFailure::kDeadline : wait_kind,
                   absl::StrCat("after ", absl::FormatDuration(armed)), !any_reply};
  }

  std::optional<Failure> Connect(const ParsedBaseUrl& url, const HttpTransportOptions& opts,
                                 absl::Time deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = absl::StrCat(url.port);
    const int gai = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0 || res == nullptr) {
      return Failure{TransportFailure::kConnectRefused,
                     absl::StrCat("cannot resolve host: ", ::gai_strerror(gai)), true};
    }
    std::optional<Failure> last;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     ai->ai_protocol);
      if (fd_ < 0) {
        last = Failure{TransportFailure::kConnectRefused, std::strerror(errno), true};
        continue;
      }
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      int rc = ::connect(fd_, ai->ai_addr, ai->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        last = Wait(POLLOUT, opts.connect_timeout, deadline,
                    TransportFailure::kConnectTimeout, false);
        if (!last.has_value()) {
          int err = 0;
          socklen_t len = sizeof(err);
          ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
          rc = err == 0 ? 0 : -1;
          errno = err;
        }
      }
      if (rc == 0) {
        ::freeaddrinfo(res);
        // Blocking from here on; SO_RCVTIMEO / SO_SNDTIMEO bound the waits.
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
        armed_rcv_ = armed_snd_ = absl::ZeroDuration();
        begin_ = end_ = 0;
        return std::nullopt;
      }
      if (!last.has_value() || last->kind == TransportFailure::kConnectionClosed) {
        last = Failure{TransportFailure::kConnectRefused, std::strerror(errno), true};
      }
      Close();
      if (last->kind != TransportFailure::kConnectRefused) break;  // timed out
    }
    ::freeaddrinfo(res);
    return last;
  }

  std::optional<Failure> SendAll(absl::string_view head, absl::string_view body,
                                 const HttpTransportOptions& opts, absl::Time deadline) {
    iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
    std::size_t idx = 0;
    while (idx < 2) {
      if (iov[idx].iov_len == 0) {
        ++idx;
        continue;
      }
      bool deadline_binds = false;
      if (auto f = Arm(SO_SNDTIMEO, opts.write_timeout, deadline, &armed_snd_,
                       &deadline_binds, false)) {
        return f;
      }
      msghdr msg{};
      msg.msg_iov = iov + idx;
      msg.msg_iovlen = 2 - idx;
      const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return TimedOut(deadline_binds, TransportFailure::kWriteTimeout, armed_snd_, false);
        }
        return Failure{TransportFailure::kConnectionClosed,
                       absl::StrCat("write failed: ", std::strerror(errno)), true};
      }
      auto left = static_cast<std::size_t>(n);
      while (idx < 2 && left >= iov[idx].iov_len) {
        left -= iov[idx].iov_len;
        iov[idx].iov_len = 0;
        ++idx;
      }
      if (idx < 2) {
        iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
        iov[idx].iov_len -= left;
      }
    }
    return std::nullopt;
  }

  // Reads more bytes into buf_[end_, ...), growing it. nullopt on progress.
  std::optional<Failure> Fill(const HttpTransportOptions& opts, absl::Time deadline,
                              bool any_reply, bool* eof) {
    if (begin_ > 0 && begin_ == end_) begin_ = end_ = 0;
    if (buf_.size() - end_ < kMinRead) {
      if (begin_ > 0) {
        std::memmove(&buf_[0], &buf_[begin_], end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - end_ < kMinRead) buf_.resize(std::max(2 * buf_.size(), end_ + kMinRead));
    }
    while (true) {
      bool deadline_binds = false;
      if (auto f = Arm(SO_RCVTIMEO, opts.read_timeout, deadline, &armed_rcv_,
                       &deadline_binds, any_reply)) {
        return f;
      }
      const ssize_t n = ::recv(fd_, &buf_[end_], buf_.size() - end_, 0);
      if (n > 0) {
        end_ += static_cast<std::size_t>(n);
        return std::nullopt;
      }
      if (n == 0) {
        *eof = true;
        return std::nullopt;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return TimedOut(deadline_binds, TransportFailure::kReadTimeout, armed_rcv_, any_reply);
      }
      return Failure{TransportFailure::kConnectionClosed,
                     absl::StrCat("read failed: ", std::strerror(errno)), !any_reply};
    }
  }

  // Finds "\r\n" in the unread bytes from `from`; npos if absent.
  std::size_t FindCrlf(std::size_t from) const {
    const char* base = buf_.data();
    const void* p = ::memmem(base + from, end_ - from, "\r\n", 2);
    return p == nullptr ? std::string::npos
                        : static_cast<std::size_t>(static_cast<const char*>(p) - base);
  }

  static Failure Malformed(absl::string_view what) {
    return Failure{TransportFailure::kMalformedReply, std::string(what), false};
  }

  std::optional<Failure> ReadResponse(const HttpTransportOptions& opts, absl::Time deadline,
                                      HttpResponse* out) {
    bool eof = false;
    begin_ = end_ = 0;  // a reused connection has no unread bytes
    // Status line and headers; interim 1xx replies are skipped.
    while (true) {
      std::size_t scanned = 0;  // offset from begin_ already searched
      std::size_t head_end = std::string::npos;
      while (true) {
        const void* p = ::memmem(buf_.data() + begin_ + scanned, end_ - begin_ - scanned,
                                 "\r\n\r\n", 4);
        if (p != nullptr) {
          head_end = static_cast<std::size_t>(static_cast<const char*>(p) - buf_.data());
          break;
        }
        if (end_ - begin_ > kMaxHead) return Malformed("header block over 64 KiB");
        scanned = end_ - begin_ >= 3 ? end_ - begin_ - 3 : 0;
        const bool any = end_ > 0;
        if (auto f = Fill(opts, deadline, any, &eof)) return f;
        if (eof) {
          return Failure{TransportFailure::kConnectionClosed,
                         any ? "connection closed inside the reply headers"
                             : "connection closed before any reply",
                         !any};
        }
      }
      if (auto f = ParseHead(head_end, out)) return f;
      begin_ = head_end + 4;
      if (out->status >= 200) break;
      out->headers = HttpHeaders();
    }
    // Body.
    out->body.clear();
    const bool no_body = out->status == 204 || out->status == 304;
    if (no_body) return std::nullopt;
    if (chunked_) return ReadChunked(opts, deadline, out);
    if (content_length_ >= 0) {
      const auto n = static_cast<std::size_t>(content_length_);
      if (n > opts.max_response_bytes) return TooLarge(opts);
      out->body.resize(n);
      std::size_t have = std::min(n, end_ - begin_);
      std::memcpy(&out->body[0], buf_.data() + begin_, have);
      begin_ += have;
      while (have < n) {
        // Large bodies go straight into the reply string.
        bool deadline_binds = false;
        if (auto f = Arm(SO_RCVTIMEO, opts.read_timeout, deadline, &armed_rcv_,
                         &deadline_binds, true)) {
          return f;
        }
        const ssize_t r = ::recv(fd_, &out->body[have], n - have, 0);
        if (r > 0) {
          have += static_cast<std::size_t>(r);
          continue;
        }
        if (r == 0) {
          return Failure{TransportFailure::kConnectionClosed,
                         absl::StrCat("body ended after ", have, " of ", n, " bytes"), false};
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return TimedOut(deadline_binds, TransportFailure::kReadTimeout, armed_rcv_, true);
        }
        return Failure{TransportFailure::kConnectionClosed,
                       absl::StrCat("read failed: ", std::strerror(errno)), false};
      }
      if (begin_ != end_) keep_alive_ = false;  // unexpected extra bytes
      return std::nullopt;
    }
    // No length: the body runs until the server closes.
    keep_alive_ = false;
    while (true) {
      out->body.append(buf_.data() + begin_, end_ - begin_);
      begin_ = end_;
      if (out->body.size() > opts.max_response_bytes) return TooLarge(opts);
      if (eof) return std::nullopt;
      if (absl::Now() >= deadline) return Failure{TransportFailure::kDeadline, "", false};
      if (auto f = Fill(opts, deadline, true, &eof)) return f;
    }
  }

  Failure TooLarge(const HttpTransportOptions& opts) const {
    return Failure{TransportFailure::kResponseTooLarge,
                   absl::StrCat("limit ", opts.max_response_bytes, " bytes"), false};
  }

  // Parses "HTTP/1.x NNN reason" and the header fields in
  // buf_[begin_, head_end).
  std::optional<Failure> ParseHead(std::size_t head_end, HttpResponse* out) {
    absl::string_view head(buf_.data() + begin_, head_end - begin_);
    const std::size_t eol = head.find("\r\n");
    absl::string_view line = head.substr(0, eol);
    if (line.size() < 12 || !absl::StartsWith(line, "HTTP/1.") || line[8] != ' ' ||
        !absl::ascii_isdigit(static_cast<unsigned char>(line[9])) ||
        !absl::ascii_isdigit(static_cast<unsigned char>(line[10])) ||
        !absl::ascii_isdigit(static_cast<unsigned char>(line[11]))) {
      return Malformed(absl::StrCat("bad status line '", line.substr(0, 64), "'"));
    }
    out->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    const bool http10 = line[7] == '0';
    keep_alive_ = !http10;
    chunked_ = false;
    content_length_ = -1;
    absl::string_view rest = eol == absl::string_view::npos ? absl::string_view()
                                                            : head.substr(eol + 2);
    while (!rest.empty()) {
      std::size_t e = rest.find("\r\n");
      absl::string_view field = rest.substr(0, e);
      rest = e == absl::string_view::npos ? absl::string_view() : rest.substr(e + 2);
      const std::size_t colon = field.find(':');
      if (colon == absl::string_view::npos || colon == 0) {
        return Malformed(absl::StrCat("bad header line '", field.substr(0, 64), "'"));
      }
      absl::string_view name = field.substr(0, colon);
      absl::string_view value = absl::StripAsciiWhitespace(field.substr(colon + 1));
      if (absl::EqualsIgnoreCase(name, "Content-Length")) {
        std::uint64_t n = 0;
        if (!absl::SimpleAtoi(value, &n)) return Malformed("bad Content-Length");
        content_length_ = static_cast<std::int64_t>(n);
      } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
        chunked_ = absl::StrContains(absl::AsciiStrToLower(value), "chunked");
      } else if (absl::EqualsIgnoreCase(name, "Connection")) {
        const std::string v = absl::AsciiStrToLower(value);
        if (absl::StrContains(v, "close")) keep_alive_ = false;
        if (absl::StrContains(v, "keep-alive")) keep_alive_ = true;
      }
      out->headers.Add(std::string(name), std::string(value));
    }
    return std::nullopt;
  }

  std::optional<Failure> ReadChunked(const HttpTransportOptions& opts, absl::Time deadline,
                                     HttpResponse* out) {
    bool eof = false;
    auto need_line = [&](std::size_t* eol) -> std::optional<Failure> {
      while ((*eol = FindCrlf(begin_)) == std::string::npos) {
        if (end_ - begin_ > 4096) return Malformed("chunk size line too long");
        if (auto f = Fill(opts, deadline, true, &eof)) return f;
        if (eof) {
          return Failure{TransportFailure::kConnectionClosed,
                         "connection closed inside a chunked body", false};
        }
      }
      return std::nullopt;
    };
    while (true) {
      std::size_t eol = 0;
      if (auto f = need_line(&eol)) return f;
      absl::string_view size_text(buf_.data() + begin_, eol - begin_);
      size_text = size_text.substr(0, size_text.find(';'));
      std::uint64_t size = 0;
      if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(size_text), &size)) {
        return Malformed("bad chunk size");
      }
      begin_ = eol + 2;
      if (size == 0) break;
      if (out->body.size() + size > opts.max_response_bytes) return TooLarge(opts);
      while (end_ - begin_ < size + 2) {
        if (absl::Now() >= deadline) return Failure{TransportFailure::kDeadline, "", false};
        if (auto f = Fill(opts, deadline, true, &eof)) return f;
        if (eof) {
          return Failure{TransportFailure::kConnectionClosed,
                         "connection closed inside a chunk", false};
        }
      }
      out->body.append(buf_.data() + begin_, static_cast<std::size_t>(size));
      begin_ += static_cast<std::size_t>(size);
      if (buf_[begin_] != '\r' || buf_[begin_ + 1] != '\n') return Malformed("chunk without CRLF");
      begin_ += 2;
    }
    // Trailer fields, up to the empty line.
    while (true) {
      std::size_t eol = 0;
      if (auto f = need_line(&eol)) return f;
      const bool empty = eol == begin_;
      begin_ = eol + 2;
      if (empty) break;
    }
    if (begin_ != end_) keep_alive_ = false;
    return std::nullopt;
  }

  static constexpr std::size_t kMinRead = 16 * 1024;
  static constexpr std::size_t kMaxHead = 64 * 1024;

  int fd_ = -1;
  absl::Duration armed_rcv_, armed_snd_;  // current SO_RCVTIMEO / SO_SNDTIMEO
  std::string buf_ = std::string(64 * 1024, '\0');
  std::size_t begin_ = 0, end_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  std::int64_t content_length_ = -1;
};

}  // namespace detail

// HttpLibTransport
//
// See the file comment. Create with `HttpLibTransport::Create()`.
class HttpLibTransport final : public HttpTransport {
 public:
  // HttpLibTransport::Create()
  //
  // A transport for the server at `base_url` ("http://host:port[/prefix]";
  // the prefix is put before every request path). Does not connect yet.
  // Fails with `kInvalidArgument` for a malformed URL or negative timeouts,
  // `kUnimplemented` for https:// when cpp-httplib was built without OpenSSL.
  static absl::StatusOr<std::unique_ptr<HttpLibTransport>> Create(
      absl::string_view base_url, HttpTransportOptions options = {}) {
    absl::StatusOr<detail::ParsedBaseUrl> url = detail::ParseBaseUrl(base_url);
    if (!url.ok()) return url.status();
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
    if (url->scheme == "https") {
      return TransportErrorStatus(TransportFailure::kTlsUnsupported,
                                  url->canonical);
    }
#endif
    for (absl::Duration d : {options.connect_timeout, options.read_timeout,
                             options.write_timeout, options.total_timeout}) {
      if (d <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError(
            "HttpTransportOptions: every timeout must be positive");
      }
    }
    return std::unique_ptr<HttpLibTransport>(
        new HttpLibTransport(*std::move(url), std::move(options)));
  }

  // HttpLibTransport::Send()
  //
  // See `HttpTransport::Send()` and the file comment.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    const absl::Duration total = request.timeout < absl::InfiniteDuration()
                                     ? request.timeout
                                     : options_.total_timeout;
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + total;
    std::unique_ptr<Connection> conn = Acquire();
    const bool reused = conn->used;
    Attempt attempt = RunAttempt(*conn, request, start, deadline);
    if (!attempt.ok && reused && attempt.closed_before_reply &&
        absl::Now() < deadline) {
      // The server closed an idle keep-alive connection; one fresh attempt.
      conn = NewConnection();
      attempt = RunAttempt(*conn, request, absl::Now(), deadline);
    }
    if (!attempt.ok) return std::move(attempt.status);
    conn->used = true;
    Release(std::move(conn));
    return std::move(attempt.response);
  }

  // HttpLibTransport::base_url()
  //
  // The canonical base URL, "scheme://host:port[/prefix]".
  std::string base_url() const override { return url_.canonical; }

 private:
  // One pooled connection: the plain engine for http://, cpp-httplib for
  // https://.
  struct Connection {
    std::unique_ptr<detail::PlainHttpConnection> plain;
    std::unique_ptr<httplib::Client> client;
    std::string head;  // request header block, reused
    bool used = false;
  };

  // Outcome of one attempt on one connection.
  struct Attempt {
    bool ok = false;
    bool closed_before_reply = false;
    absl::Status status;
    HttpResponse response;
  };

  // Shared with the httplib callbacks of one attempt (one pointer, so the
  // std::function objects need no allocation).
  struct ReceiveState {
    std::string* body = nullptr;
    std::size_t limit = 0;
    absl::Time deadline;
    bool headers_seen = false;
    bool too_large = false;
    bool deadline_hit = false;
  };

  HttpLibTransport(detail::ParsedBaseUrl url, HttpTransportOptions options)
      : url_(std::move(url)), options_(std::move(options)) {
    fixed_headers_.reserve(options_.headers.size() + 2);
    for (const auto& h : options_.headers) fixed_headers_.push_back(h);
    if (!options_.bearer_token.empty()) {
      fixed_headers_.emplace_back("Authorization",
                                  "Bearer " + options_.bearer_token);
    }
    if (!options_.api_key.empty()) {
      fixed_headers_.emplace_back(options_.api_key_header, options_.api_key);
    }
    host_header_ = absl::StrCat(url_.host.find(':') != std::string::npos
                                    ? absl::StrCat("[", url_.host, "]")
                                    : url_.host,
                                ":", url_.port);
    origin_ = absl::StrCat(url_.scheme, "://",
                           url_.host.find(':') != std::string::npos
                               ? absl::StrCat("[", url_.host, "]")
                               : url_.host,
                           ":", url_.port);
  }

  std::unique_ptr<Connection> NewConnection() const {
    auto conn = std::make_unique<Connection>();
    if (url_.scheme == "http") {
      conn->plain = std::make_unique<detail::PlainHttpConnection>();
      return conn;
    }
    conn->client = std::make_unique<httplib::Client>(origin_);
    httplib::Client& c = *conn->client;
    c.set_tcp_nodelay(true);
    c.set_keep_alive(true);
    c.set_follow_location(false);
    c.set_url_encode(false);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    if (url_.scheme == "https") {
      c.enable_server_certificate_verification(options_.verify_tls);
      if (!options_.ca_file.empty() || !options_.ca_path.empty()) {
        c.set_ca_cert_path(options_.ca_file, options_.ca_path);
      }
    }
#endif
    return conn;
  }

  std::unique_ptr<Connection> Acquire() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return NewConnection();
  }

  void Release(std::unique_ptr<Connection> conn) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (idle_.size() < options_.max_idle_connections) {
      idle_.push_back(std::move(conn));
    }
  }

  std::string Where(const HttpRequest& request) const {
    return absl::StrCat(url_.canonical, " ", HttpMethodName(request.method),
                        " ", request.path);
  }

  static bool HasCrLf(absl::string_view text) {
    return text.find_first_of("\r\n") != absl::string_view::npos;
  }

  // http:// through the plain engine.
  Attempt RunPlain(Connection& conn, const HttpRequest& request, absl::Time deadline) const {
    Attempt out;
    bool bad = HasCrLf(request.path) || HasCrLf(request.content_type);
    for (const auto& h : request.headers.fields()) {
      bad = bad || HasCrLf(h.first) || HasCrLf(h.second);
    }
    if (bad) {
      out.status = absl::InvalidArgumentError(absl::StrCat(
          Where(request), ": a header field or the path contains CR or LF"));
      return out;
    }
    std::string& head = conn.head;
    head.clear();
    absl::StrAppend(&head, HttpMethodName(request.method), " ", url_.prefix, request.path,
                    " HTTP/1.1\r\nHost: ", host_header_, "\r\n");
    if (request.method == HttpMethod::kPost) {
      absl::StrAppend(&head, "Content-Type: ",
                      request.content_type.empty() ? absl::string_view("application/json")
                                                   : absl::string_view(request.content_type),
                      "\r\nContent-Length: ", request.body.size(), "\r\n");
    }
    for (const auto& h : fixed_headers_) absl::StrAppend(&head, h.first, ": ", h.second, "\r\n");
    for (const auto& h : request.headers.fields()) {
      absl::StrAppend(&head, h.first, ": ", h.second, "\r\n");
    }
    head += "\r\n";
    std::optional<detail::PlainHttpConnection::Failure> f = conn.plain->Exchange(
        url_, head,
        request.method == HttpMethod::kPost ? request.body : absl::string_view(),
        options_, deadline, &out.response);
    if (!f.has_value()) {
      out.ok = true;
      return out;
    }
    out.status = TransportErrorStatus(f->kind, Where(request), f->detail);
    out.closed_before_reply =
        f->before_reply && f->kind == TransportFailure::kConnectionClosed;
    return out;
  }

  Attempt RunAttempt(Connection& conn, const HttpRequest& request,
                     absl::Time start, absl::Time deadline) const {
    if (conn.plain != nullptr) return RunPlain(conn, request, deadline);
    Attempt out;
    httplib::Client& c = *conn.client;
    const absl::Duration remaining = deadline - start;
    auto [cs, cu] = detail::ToSecUsec(std::min(options_.connect_timeout, remaining));
    c.set_connection_timeout(cs, cu);
    auto [rs, ru] = detail::ToSecUsec(std::min(options_.read_timeout, remaining));
    c.set_read_timeout(rs, ru);
    auto [ws, wu] = detail::ToSecUsec(std::min(options_.write_timeout, remaining));
    c.set_write_timeout(ws, wu);

    httplib::Request req;
    req.method = std::string(HttpMethodName(request.method));
    req.path = url_.prefix.empty() ? request.path
                                   : absl::StrCat(url_.prefix, request.path);
    for (const auto& h : fixed_headers_) req.headers.emplace(h.first, h.second);
    for (const auto& h : request.headers.fields()) {
      req.headers.emplace(h.first, h.second);
    }
    if (request.method == HttpMethod::kPost) {
      req.set_header("Content-Type", request.content_type.empty()
                                         ? std::string("application/json")
                                         : request.content_type);
      req.body.assign(request.body.data(), request.body.size());
    }

    ReceiveState state;
    state.body = &out.response.body;
    state.limit = options_.max_response_bytes;
    state.deadline = deadline;
    ReceiveState* st = &state;
    req.response_handler = [st](const httplib::Response& r) {
      st->headers_seen = true;
      auto it = r.headers.find("Content-Length");
      if (it != r.headers.end()) {
        std::uint64_t n = 0;
        if (absl::SimpleAtoi(it->second, &n)) {
          if (n > st->limit) {
            st->too_large = true;
            return false;
          }
          st->body->reserve(static_cast<std::size_t>(n));
        }
      }
      return true;
    };
    req.content_receiver = [st](const char* data, std::size_t n,
                                std::uint64_t, std::uint64_t) {
      if (st->body->size() + n > st->limit) {
        st->too_large = true;
        return false;
      }
      st->body->append(data, n);
      if (absl::Now() > st->deadline) {
        st->deadline_hit = true;
        return false;
      }
      return true;
    };

    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool sent = c.send(req, res, err);
    if (sent && err == httplib::Error::Success) {
      out.ok = true;
      out.response.status = res.status;
      for (const auto& h : res.headers) {
        out.response.headers.Add(h.first, h.second);
      }
      return out;
    }
    out.status = ClassifyError(err, state, request, start, deadline);
    out.closed_before_reply =
        !state.headers_seen &&
        out.status.code() == absl::StatusCode::kUnavailable &&
        (err == httplib::Error::Read || err == httplib::Error::Write);
    return out;
  }

  absl::Status ClassifyError(httplib::Error err, const ReceiveState& state,
                             const HttpRequest& request, absl::Time start,
                             absl::Time deadline) const {
    const std::string where = Where(request);
    const absl::Time now = absl::Now();
    const absl::Duration elapsed = now - start;
    // httplib reports a timed-out socket wait as a plain read/write error;
    // the clock tells a timeout from a reset (1 ms slack for timer rounding).
    auto waited = [&](absl::Duration limit) {
      return elapsed + absl::Milliseconds(1) >= std::min(limit, deadline - start);
    };
    auto after = absl::StrCat("after ", absl::FormatDuration(
                                            absl::Trunc(elapsed, absl::Milliseconds(1))));
    if (state.too_large) {
      return TransportErrorStatus(
          TransportFailure::kResponseTooLarge, where,
          absl::StrCat("limit ", options_.max_response_bytes, " bytes"));
    }
    if (state.deadline_hit || now >= deadline) {
      return TransportErrorStatus(TransportFailure::kDeadline, where, after);
    }
    switch (err) {
      case httplib::Error::Connection:
      case httplib::Error::BindIPAddress:
        return TransportErrorStatus(TransportFailure::kConnectRefused, where,
                                    httplib::to_string(err));
      case httplib::Error::ConnectionTimeout:
        return TransportErrorStatus(TransportFailure::kConnectTimeout, where,
                                    after);
      case httplib::Error::Read:
        if (waited(options_.read_timeout)) {
          return TransportErrorStatus(TransportFailure::kReadTimeout, where,
                                      after);
        }
        return TransportErrorStatus(TransportFailure::kConnectionClosed, where,
                                    "read failed");
      case httplib::Error::Write:
        if (waited(options_.write_timeout)) {
          return TransportErrorStatus(TransportFailure::kWriteTimeout, where,
                                      after);
        }
        return TransportErrorStatus(TransportFailure::kConnectionClosed, where,
                                    "write failed");
      case httplib::Error::SSLServerVerification:
        return TransportErrorStatus(
            TransportFailure::kTlsVerification, where,
            "set HttpTransportOptions::ca_file to trust this server");
      case httplib::Error::SSLLoadingCerts:
        return TransportErrorStatus(TransportFailure::kTlsVerification, where,
                                    "cannot load the CA file or directory");
      case httplib::Error::SSLConnection:
        return TransportErrorStatus(TransportFailure::kConnectRefused, where,
                                    "TLS handshake failed");
      case httplib::Error::Compression:
        return TransportErrorStatus(TransportFailure::kMalformedReply, where,
                                    "cannot decompress the body");
      default:
        return TransportErrorStatus(TransportFailure::kMalformedReply, where,
                                    httplib::to_string(err));
    }
  }

  const detail::ParsedBaseUrl url_;
  const HttpTransportOptions options_;
  std::string origin_;
  std::string host_header_;
  std::vector<std::pair<std::string, std::string>> fixed_headers_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

// ConnectRemoteModel()
//
// A `RemoteModel` (remote_model.h) for `options.model` on the server at
// `base_url`, over a new `HttpLibTransport` with `http` options. Does not
// contact the server. Fails as `HttpLibTransport::Create()` and
// `RemoteModel::Create()` do.
//
// Example:
//
//   maas::RemoteModelOptions opts;
//   opts.model = "drag";
//   auto model = maas::ConnectRemoteModel("http://127.0.0.1:8080", opts);
inline absl::StatusOr<std::unique_ptr<RemoteModel>> ConnectRemoteModel(
    absl::string_view base_url, RemoteModelOptions options,
    HttpTransportOptions http = {}) {
  absl::StatusOr<std::unique_ptr<HttpLibTransport>> transport =
      HttpLibTransport::Create(base_url, std::move(http));
  if (!transport.ok()) return transport.status();
  return RemoteModel::Create(std::move(options),
                             std::shared_ptr<HttpTransport>(*std::move(transport)));
}

}  // namespace maas

#endif  // MAAS_REMOTE_HTTPLIB_TRANSPORT_H_
