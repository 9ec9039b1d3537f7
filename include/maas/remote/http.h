// -----------------------------------------------------------------------------
// File: remote/http.h
// -----------------------------------------------------------------------------
//
// The seam between maas' remote models and the network: plain HTTP request and
// response values, the options every HTTP transport honours, and the abstract
// `maas::HttpTransport` with its single `Send()` call.
//
// A remote model builds `HttpRequest`s with a codec (pure, no I/O) and hands
// them to a transport. The shipped transport is `maas::HttpClientTransport`
// (remote/http_client_transport.h, target `maas::http`); unit tests use
// `maas::testing::FakeTransport` (testing/fake_transport.h). Nothing in this
// header performs I/O or depends on an HTTP library.
//
// Example:
//
//   maas::HttpRequest req;
//   req.method = maas::HttpMethod::kGet;
//   req.path = "/v2/health/ready";
//   absl::StatusOr<maas::HttpResponse> resp = transport.Send(req);
//   if (resp.ok() && resp->status == 200) { /* ready */ }

#ifndef MAAS_REMOTE_HTTP_H_
#define MAAS_REMOTE_HTTP_H_

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace maas {

// HttpMethod
//
// The verbs the inference protocols use.
enum class HttpMethod { kGet, kPost };

// HttpMethodName()
//
// "GET" or "POST".
inline absl::string_view HttpMethodName(HttpMethod m) {
  return m == HttpMethod::kGet ? "GET" : "POST";
}

// HttpHeaders
//
// An ordered list of header fields with case-insensitive lookup (RFC 9110:
// field names are case-insensitive). A plain value; not thread-safe to mutate
// concurrently.
class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  HttpHeaders() = default;
  HttpHeaders(std::initializer_list<Field> fields) : fields_(fields) {}

  // HttpHeaders::Add()
  //
  // Appends a field (duplicates are kept, as HTTP allows).
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }

  // HttpHeaders::Set()
  //
  // Replaces every field named `name` (any case) by one field.
  void Set(absl::string_view name, std::string value) {
    Remove(name);
    fields_.emplace_back(std::string(name), std::move(value));
  }

  // HttpHeaders::Remove()
  //
  // Removes every field named `name` (any case).
  void Remove(absl::string_view name) {
    std::vector<Field> kept;
    kept.reserve(fields_.size());
    for (Field& f : fields_) {
      if (!absl::EqualsIgnoreCase(f.first, name)) kept.push_back(std::move(f));
    }
    fields_ = std::move(kept);
  }

  // HttpHeaders::Find()
  //
  // The value of the first field named `name` (any case), or nullopt. The
  // view is valid until the headers are modified or destroyed.
  std::optional<absl::string_view> Find(absl::string_view name) const {
    for (const Field& f : fields_) {
      if (absl::EqualsIgnoreCase(f.first, name)) return f.second;
    }
    return std::nullopt;
  }

  // HttpHeaders::Has()
  bool Has(absl::string_view name) const { return Find(name).has_value(); }

  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }
  std::size_t size() const { return fields_.size(); }

 private:
  std::vector<Field> fields_;
};

// HttpRequest
//
// One request to the transport's server. `path` starts with '/' and holds
// any query string (visible ASCII only). `body` is a view: the bytes must
// outlive `Send()` (the transport never keeps them afterwards), which lets a
// codec's buffer go out without a copy. `timeout` overrides the transport's
// total timeout for this call when finite; `deadline` (absolute) caps it
// further, so a caller's per-call deadline bounds every socket wait.
struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string path = "/";
  HttpHeaders headers;
  absl::string_view body;
  std::string content_type;
  absl::Duration timeout = absl::InfiniteDuration();
  absl::Time deadline = absl::InfiniteFuture();
};

// HttpResponse
//
// What the server answered: any status code (4xx/5xx are responses, not
// transport failures; remote/http_status.h maps them), the header fields and
// the whole body.
struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;

  // HttpResponse::Header()
  //
  // Case-insensitive header lookup; see `HttpHeaders::Find()`.
  std::optional<absl::string_view> Header(absl::string_view name) const {
    return headers.Find(name);
  }
};

// HttpEngine
//
// Which HTTP implementation a transport uses (see
// remote/http_client_transport.h):
//  * `kAuto`: the built-in HTTP/1.1 engine for http:// URLs whose host is
//    an IP address or "localhost" when no proxy applies (lowest CPU per
//    call); libcurl for everything else (https://, proxies, host names, whose
//    DNS lookup libcurl bounds by the connect timeout);
//  * `kPlain`: the built-in engine for every http:// URL (host names are
//    resolved with getaddrinfo, which has no timeout of its own); https://
//    and proxies still use libcurl;
//  * `kCurl`: libcurl for everything.
enum class HttpEngine { kAuto, kPlain, kCurl };

// HttpTransportOptions
//
// Settings every `HttpTransport` implementation honours. Defaults are chosen
// for a simulation calling a server on a local network:
//
//  * `connect_timeout` (2 s): a refused or unreachable server fails fast
//    (`kUnavailable` / `kDeadlineExceeded`), not after the OS' minutes.
//  * `read_timeout` / `write_timeout` (30 s): the longest wait for any one
//    socket read / write.
//  * `total_timeout` (60 s): the whole call, connect to last body byte;
//    `HttpRequest::timeout` overrides it per call.
//  * TLS (https:// URLs): the server certificate and host name are verified
//    unless `verify_tls` is false; `ca_file` / `ca_path` replace the system
//    trust store.
//  * Credentials: `bearer_token` becomes `Authorization: Bearer <token>`;
//    `api_key` goes in the header named `api_key_header`. Neither ever
//    appears in a status message or a log line.
//  * `headers`: extra header fields sent with every request.
//  * `max_response_bytes` (256 MiB): a larger reply is abandoned with
//    `kResourceExhausted`; header blocks are limited to 64 KiB.
//  * `max_idle_connections` (8): keep-alive connections kept for reuse.
//  * `engine`: see `HttpEngine`.
//  * Proxies: `proxy` ("http://proxy:3128", credentials in it are allowed
//    and never printed) with `no_proxy` (comma-separated hosts/domains);
//    when `proxy` is empty, the environment's http_proxy / https_proxy /
//    all_proxy / no_proxy apply as libcurl reads them, unless
//    `ignore_env_proxy`.
//  * Client certificates (mutual TLS, e.g. a service mesh in front of
//    KServe): `client_cert_file` and `client_key_file` (PEM),
//    `client_key_password` if the key is encrypted.
//  * `http2` (true): HTTP/2 over TLS when the server offers it (ALPN);
//    cleartext http:// always uses HTTP/1.1.
struct HttpTransportOptions {
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration write_timeout = absl::Seconds(30);
  absl::Duration total_timeout = absl::Seconds(60);
  bool verify_tls = true;
  std::string ca_file;
  std::string ca_path;
  std::string bearer_token;
  std::string api_key;
  std::string api_key_header = "X-API-Key";
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t max_response_bytes = std::size_t{256} << 20;
  std::size_t max_idle_connections = 8;
  HttpEngine engine = HttpEngine::kAuto;
  std::string proxy;
  std::string no_proxy;
  bool ignore_env_proxy = false;
  std::string client_cert_file;
  std::string client_key_file;
  std::string client_key_password;
  bool http2 = true;
};

// HttpTransport
//
// Moves one request to a fixed server (chosen at construction) and returns
// its response. Implementations:
//  * return any HTTP response, whatever its status code, as a value;
//  * map every failure to get a complete response to a status through the
//    table in remote/http_status.h (`kUnavailable` for refused/reset
//    connections, `kDeadlineExceeded` for timeouts, `kResourceExhausted` for
//    an oversized reply, ...), with a message naming the server and path but
//    never a credential;
//  * are safe to call from many threads at once.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // HttpTransport::Send()
  //
  // Sends `request` and waits for the whole response (bounded by the
  // transport's timeouts). See the class comment for failures.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;

  // HttpTransport::base_url()
  //
  // The server's base URL ("http://127.0.0.1:8080"), used in messages.
  virtual std::string base_url() const = 0;
};

}  // namespace maas

#endif  // MAAS_REMOTE_HTTP_H_
