// -----------------------------------------------------------------------------
// File: remote/http_client_transport.h
// -----------------------------------------------------------------------------
//
// `maas::HttpClientTransport`: the shipped `maas::HttpTransport`, and
// `maas::ConnectRemoteModel()`. The only maas header doing socket I/O; link
// the CMake target `maas::http` (which links libcurl) to use it.
//
// Two engines behind one class, chosen per transport from the URL and
// `HttpTransportOptions::engine` (see `HttpEngine`):
//  * a built-in HTTP/1.1 engine (detail/plain_http_engine.h) for http:// to
//    an IP address or localhost without a proxy: the lowest client CPU per
//    call (docs/PERFORMANCE.md "Remote client"); its reply parser is fuzzed
//    and checked against a reference parser (tests/fuzz/);
//  * libcurl (detail/curl_engine.h) for https://, proxies, client
//    certificates, HTTP/2 over TLS and host names (DNS bounded by the
//    connect timeout), or for every URL with `HttpEngine::kCurl`.
// Both behave the same way (one test suite runs against both):
//  * keep-alive connections are reused (a small pool: calls from many threads
//    run in parallel, each on its own connection); an idle connection with
//    unexpected bytes waiting, or closed by the server, is never reused;
//  * TCP_NODELAY on every connection;
//  * connect, each read/write, and the whole call are bounded by the
//    timeouts in `HttpTransportOptions`, by `HttpRequest::timeout` and by the
//    absolute `HttpRequest::deadline`, whichever ends first; a server
//    dripping header or body bytes is cut off at the deadline;
//  * TLS certificates and host names are verified by default;
//  * `Authorization: Bearer <token>`, the API-key header and custom headers
//    are added; options and requests carrying CR, LF or other control bytes
//    into a header or the request line are refused with `kInvalidArgument`
//    (no header injection); credentials never appear in a status message
//    and nothing is logged;
//  * replies larger than `max_response_bytes`, or with more than 64 KiB of
//    header lines, are abandoned, with memory growing only with the bytes
//    received;
//  * redirects are never followed (they would carry credentials to another
//    host); a 3xx reply is returned as is;
//  * a reply the server sends before it has read the whole request (e.g.
//    413 during a large upload) is returned, not lost as a connection error;
//  * a reused keep-alive connection that the server closed before any reply
//    byte arrived is retried once, transparently, on a fresh connection;
//  * nothing throws out of `Send()`: an allocation failure is
//    `kResourceExhausted`, any other exception `kInternal`.
// Failures map through the table in remote/http_status.h.
//
// Thread safety: `Send()` may be called from any number of threads at once.
// At most `max_idle_connections` idle connections are kept; a burst of more
// concurrent calls opens extra connections that are closed afterwards.
//
// Example:
//
//   maas::HttpTransportOptions opts;
//   opts.total_timeout = absl::Seconds(5);
//   auto transport = maas::HttpClientTransport::Create("http://127.0.0.1:8080", opts);
//   if (!transport.ok()) return transport.status();
//   maas::HttpRequest req;
//   req.path = "/v2/health/ready";
//   absl::StatusOr<maas::HttpResponse> resp = (*transport)->Send(req);

#ifndef MAAS_REMOTE_HTTP_CLIENT_TRANSPORT_H_
#define MAAS_REMOTE_HTTP_CLIENT_TRANSPORT_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "maas/core/detail/exception.h"
#include "maas/core/detail/mutex.h"
#include "maas/remote/detail/curl_engine.h"
#include "maas/remote/detail/http_wire.h"
#include "maas/remote/detail/plain_http_engine.h"
#include "maas/remote/http.h"
#include "maas/remote/http_status.h"
#include "maas/remote/remote_model.h"

namespace maas {

// HttpClientTransport
//
// See the file comment. Create with `HttpClientTransport::Create()`.
class HttpClientTransport final : public HttpTransport {
 public:
  // HttpClientTransport::Create()
  //
  // A transport for the server at `base_url` ("http[s]://host[:port][/prefix]";
  // the prefix is put before every request path). Does not connect yet.
  // Fails with `kInvalidArgument` for a malformed URL (user-info is refused,
  // and never echoed), a non-positive timeout, or option values that would
  // reach a header with CR/LF or other control bytes; `kUnimplemented` when
  // https:// is asked of a libcurl without TLS; `kInternal` when libcurl
  // cannot initialise.
  static absl::StatusOr<std::unique_ptr<HttpClientTransport>> Create(
      absl::string_view base_url, HttpTransportOptions options = {}) {
    try {
      absl::StatusOr<detail::ParsedBaseUrl> url = detail::ParseBaseUrl(base_url);
      if (!url.ok()) return url.status();
      if (absl::Status s = detail::CheckTransportOptions(options); !s.ok()) return s;
      const bool proxy = detail::ProxyMayApply(*url, options);
      bool curl = url->scheme == "https" || proxy || options.engine == HttpEngine::kCurl ||
                  (options.engine == HttpEngine::kAuto && !detail::IsNumericOrLocalHost(url->host));
      if (curl) {
        if (!detail::CurlGlobalInit()) {
          return absl::InternalError("libcurl could not be initialised (curl_global_init)");
        }
        if (url->scheme == "https" && (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_SSL) == 0) {
          return TransportErrorStatus(TransportFailure::kTlsUnsupported, url->canonical);
        }
      }
      return std::unique_ptr<HttpClientTransport>(
          new HttpClientTransport(*std::move(url), std::move(options), curl));
    } catch (...) {
      return detail::CurrentExceptionStatus("HttpClientTransport::Create");
    }
  }

  // HttpClientTransport::Send()
  //
  // See `HttpTransport::Send()` and the file comment.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    try {
      return SendChecked(request);
    } catch (...) {
      return detail::CurrentExceptionStatus(url_.canonical);
    }
  }

  // HttpClientTransport::base_url()
  //
  // The canonical base URL, "scheme://host:port[/prefix]".
  std::string base_url() const override { return url_.canonical; }

  // HttpClientTransport::uses_curl()
  //
  // Whether this transport's requests go through libcurl (see `HttpEngine`).
  bool uses_curl() const { return curl_; }

 private:
  // One pooled connection of either engine.
  struct Connection {
    std::unique_ptr<detail::PlainHttpConnection> plain;
    std::unique_ptr<detail::CurlConnection> curl;
    std::string head;  // request header block, reused (plain engine)
    bool used = false;
  };

  HttpClientTransport(detail::ParsedBaseUrl url, HttpTransportOptions options, bool curl)
      : url_(std::move(url)),
        options_(std::move(options)),
        curl_(curl),
        fixed_headers_(detail::FixedHeaders(options_)) {}

  std::string Where(const HttpRequest& request) const {
    return absl::StrCat(url_.canonical, " ", HttpMethodName(request.method), " ",
                        request.path.substr(0, 256));
  }

  absl::StatusOr<HttpResponse> SendChecked(const HttpRequest& request) {
    if (absl::Status s = detail::CheckRequest(request, url_.canonical); !s.ok()) return s;
    const absl::Time start = absl::Now();
    const absl::Duration total =
        request.timeout < absl::InfiniteDuration() ? request.timeout : options_.total_timeout;
    const absl::Time deadline = std::min(start + total, request.deadline);
    if (start >= deadline) {
      return TransportErrorStatus(TransportFailure::kDeadline, Where(request),
                                  "the call's deadline had passed before sending");
    }
    std::unique_ptr<Connection> conn = Acquire();
    const bool reused = conn->used;
    HttpResponse response;
    std::optional<detail::WireFailure> f = Exchange(*conn, request, deadline, &response);
    if (f.has_value() && reused && f->before_reply &&
        f->kind == TransportFailure::kConnectionClosed && absl::Now() < deadline) {
      // The server closed an idle keep-alive connection; one fresh attempt.
      conn = NewConnection();
      response = HttpResponse();
      f = Exchange(*conn, request, deadline, &response);
    }
    if (f.has_value()) return TransportErrorStatus(f->kind, Where(request), f->detail);
    conn->used = true;
    Release(std::move(conn));
    return response;
  }

  std::optional<detail::WireFailure> Exchange(Connection& conn, const HttpRequest& request,
                                              absl::Time deadline, HttpResponse* out) {
    if (conn.curl != nullptr) {
      return conn.curl->Exchange(url_, fixed_headers_, request, options_, deadline, out);
    }
    if (conn.plain->is_open() && !conn.plain->IdleAndClean()) conn.plain->Close();
    conn.head.clear();
    detail::AppendRequestHead(url_, fixed_headers_, request, &conn.head);
    return conn.plain->Exchange(
        url_, conn.head, request.method == HttpMethod::kPost ? request.body : absl::string_view(),
        options_, deadline, out);
  }

  std::unique_ptr<Connection> NewConnection() const {
    auto conn = std::make_unique<Connection>();
    if (curl_) {
      conn->curl = std::make_unique<detail::CurlConnection>();
    } else {
      conn->plain = std::make_unique<detail::PlainHttpConnection>();
    }
    return conn;
  }

  std::unique_ptr<Connection> Acquire() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      detail::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return NewConnection();
  }

  void Release(std::unique_ptr<Connection> conn) ABSL_LOCKS_EXCLUDED(mu_) {
    if (conn->plain != nullptr && !conn->plain->is_open()) return;  // closed: not worth keeping
    detail::MutexLock lock(&mu_);
    if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
  }

  const detail::ParsedBaseUrl url_;
  const HttpTransportOptions options_;
  const bool curl_;
  const std::vector<std::pair<std::string, std::string>> fixed_headers_;
  detail::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

// ConnectRemoteModel()
//
// A `RemoteModel` (remote_model.h) for `options.model` on the server at
// `base_url`, over a new `HttpClientTransport` with `http` options. Does not
// contact the server. Fails as `HttpClientTransport::Create()` and
// `RemoteModel::Create()` do.
//
// Example:
//
//   maas::RemoteModelOptions opts;
//   opts.model = "drag";
//   auto model = maas::ConnectRemoteModel("http://127.0.0.1:8080", opts);
inline absl::StatusOr<std::unique_ptr<RemoteModel>> ConnectRemoteModel(
    absl::string_view base_url, RemoteModelOptions options, HttpTransportOptions http = {}) {
  absl::StatusOr<std::unique_ptr<HttpClientTransport>> transport =
      HttpClientTransport::Create(base_url, std::move(http));
  if (!transport.ok()) return transport.status();
  return RemoteModel::Create(std::move(options),
                             std::shared_ptr<HttpTransport>(*std::move(transport)));
}

}  // namespace maas

#endif  // MAAS_REMOTE_HTTP_CLIENT_TRANSPORT_H_
