// -----------------------------------------------------------------------------
// File: remote/httplib_transport.h
// -----------------------------------------------------------------------------
//
// `maas::HttpLibTransport`: the shipped `maas::HttpTransport`, built on
// cpp-httplib. This is the ONLY maas header that includes httplib.h; link the
// CMake target `maas::http` to use it.
//
// What it does on every request:
//  * reuses keep-alive connections (a small mutex-guarded pool, so calls
//    from many threads run in parallel, each on its own connection);
//  * sets TCP_NODELAY on every connection (httplib writes headers and body
//    separately; with Nagle's algorithm each request would stall ~40 ms);
//  * bounds connect, each read/write, and the whole call by the timeouts in
//    `HttpTransportOptions`; the total timeout also caps every socket wait
//    and is checked between body chunks;
//  * verifies TLS certificates and host names for https:// by default;
//  * adds `Authorization: Bearer <token>` / the API-key header / custom
//    headers; credentials never appear in a status message and nothing is
//    logged;
//  * abandons replies larger than `max_response_bytes`;
//  * never follows redirects (a redirect would carry credentials to another
//    host); a 3xx reply is returned as is;
//  * retries once, transparently, when a reused keep-alive connection turns
//    out to be closed by the server before any reply byte arrived.
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

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
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
  struct Connection {
    std::unique_ptr<httplib::Client> client;
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
    origin_ = absl::StrCat(url_.scheme, "://",
                           url_.host.find(':') != std::string::npos
                               ? absl::StrCat("[", url_.host, "]")
                               : url_.host,
                           ":", url_.port);
  }

  std::unique_ptr<Connection> NewConnection() const {
    auto conn = std::make_unique<Connection>();
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

  Attempt RunAttempt(Connection& conn, const HttpRequest& request,
                     absl::Time start, absl::Time deadline) const {
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
