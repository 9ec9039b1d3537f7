// Tests for remote/http_client_transport.h against in-process cpp-httplib
// servers and raw sockets on 127.0.0.1: round trips, headers and credentials,
// keep-alive reuse, reconnects, timeouts, size limits, concurrency, TLS
// verification. Every test that can runs against both engines (the built-in
// HTTP/1.1 engine and libcurl), so they cannot drift apart.
#include "maas/remote/http_client_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "doctest/doctest.h"
#include "httplib.h"
#include "maas/remote/http.h"
#include "remote/transport/loopback_server.h"
#include "testing/status_doctest.h"

using maas::HttpClientTransport;
using maas::HttpMethod;
using maas::HttpRequest;
using maas::HttpTransportOptions;
using maas_test::LoopbackServer;

namespace {

// Engine tags for TEST_CASE_TEMPLATE.
struct PlainEngine {
  static constexpr maas::HttpEngine kEngine = maas::HttpEngine::kPlain;
};
struct CurlEngine {
  static constexpr maas::HttpEngine kEngine = maas::HttpEngine::kCurl;
};

template <typename E>
absl::StatusOr<std::unique_ptr<HttpClientTransport>> Create(const std::string& url,
                                                             HttpTransportOptions opts = {}) {
  opts.engine = E::kEngine;
  auto t = HttpClientTransport::Create(url, opts);
  if (t.ok() && url.rfind("http://", 0) == 0) {
    CHECK((*t)->uses_curl() == (E::kEngine == maas::HttpEngine::kCurl));
  }
  return t;
}

template <typename E>
constexpr bool IsPlain() {
  return E::kEngine == maas::HttpEngine::kPlain;
}

const std::string kSecret = "s3cr3t-token-value";

HttpRequest Get(std::string path) {
  HttpRequest r;
  r.path = std::move(path);
  return r;
}

// A server with the handlers the tests use. Records the client ports it saw,
// so tests can count TCP connections.
class TestServer {
 public:
  explicit TestServer(LoopbackServer* s) : s_(s) {
    auto& srv = s_->server();
    srv.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.set_header("X-Seen-Content-Type", req.get_header_value("Content-Type"));
      res.set_header("X-Seen-Auth", req.get_header_value("Authorization"));
      res.set_header("X-Seen-Key", req.get_header_value("X-API-Key"));
      res.set_header("X-Seen-Custom", req.get_header_value("X-Custom"));
      res.set_header("X-Seen-Per-Call", req.get_header_value("X-Per-Call"));
      res.set_content(req.body, "application/octet-stream");
    });
    srv.Get("/hello", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.set_content("hello", "text/plain");
    });
    srv.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content(R"({"error":"no such thing"})", "application/json");
    });
    srv.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      res.set_content("late", "text/plain");
    });
    srv.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(64 * 1024, 'x'), "text/plain");
    });
    srv.Get("/drip", [](const httplib::Request&, httplib::Response& res) {
      // 20 chunks 40 ms apart: each read is quick, the whole body is slow.
      res.set_chunked_content_provider(
          "text/plain", [](size_t offset, httplib::DataSink& sink) {
            if (offset >= 20) {
              sink.done();
              return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(40));
            sink.write("x", 1);
            return true;
          });
    });
    srv.Get("/close", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.set_header("Connection", "close");
      res.set_content("bye", "text/plain");
    });
  }

  std::size_t connections() {
    std::lock_guard<std::mutex> lock(mu_);
    return ports_.size();
  }

 private:
  void Record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    ports_.insert(req.remote_port);
  }

  LoopbackServer* s_;
  std::mutex mu_;
  std::set<int> ports_;
};

// A port on 127.0.0.1 where nothing listens (bound once, then released).
int ClosedPort() {
  LoopbackServer s;
  REQUIRE(s.Start());
  const int port = s.port();
  s.Stop();
  return port;
}

// A one-connection raw TCP server on 127.0.0.1: reads the request headers
// (and a body of Content-Length bytes), writes `reply` verbatim, then closes
// (or keeps the connection open for `linger_ms`).
class RawServer {
 public:
  explicit RawServer(std::string reply, int linger_ms = 0)
      : reply_(std::move(reply)), linger_ms_(linger_ms) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 4);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawServer() {
    thread_.join();
    close(fd_);
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  void Serve() {
    const int c = accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    (void)!write(c, reply_.data(), reply_.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(linger_ms_));
    close(c);
  }

  std::string reply_;
  int linger_ms_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

template <typename E>
absl::StatusOr<maas::HttpResponse> SendTo(const std::string& url,
                                          HttpTransportOptions opts = {}) {
  auto t = Create<E>(url, opts);
  REQUIRE(t.ok());
  return (*t)->Send(Get("/x"));
}

}  // namespace

TEST_SUITE("HttpClientTransport framing") {
  TEST_CASE_TEMPLATE("a chunked body with extensions and trailers is reassembled", E, PlainEngine, CurlEngine) {
    RawServer s(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
        "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n");
    auto r = SendTo<E>(s.url());
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body == "hello 0123456789");
    CHECK(r->Header("x-a") == "1");
  }

  TEST_CASE_TEMPLATE("a body without length runs until the server closes", E, PlainEngine, CurlEngine) {
    RawServer s("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close");
    auto r = SendTo<E>(s.url());
    REQUIRE(r.ok());
    CHECK(r->body == "until close");
  }

  TEST_CASE_TEMPLATE("interim 100 Continue replies are skipped and 204 has no body", E, PlainEngine, CurlEngine) {
    RawServer s("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-B: 2\r\n\r\n");
    auto r = SendTo<E>(s.url());
    REQUIRE(r.ok());
    CHECK(r->status == 204);
    CHECK(r->body.empty());
    CHECK(r->Header("X-B") == "2");
  }

  TEST_CASE_TEMPLATE("a reply that is not HTTP is kDataLoss", E, PlainEngine, CurlEngine) {
    RawServer s("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    auto r = SendTo<E>(s.url());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kDataLoss);
    if (IsPlain<E>()) CHECK(r.status().message().find("bad status line") != absl::string_view::npos);
  }

  TEST_CASE_TEMPLATE("a body cut short of its Content-Length is kUnavailable, never a partial body", E, PlainEngine, CurlEngine) {
    RawServer s("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
    auto r = SendTo<E>(s.url());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kUnavailable);
    if (IsPlain<E>()) CHECK(r.status().message().find("9 of 100") != absl::string_view::npos);
  }

  TEST_CASE_TEMPLATE("a connection closed before any reply byte is kUnavailable", E, PlainEngine, CurlEngine) {
    RawServer s("");
    auto r = SendTo<E>(s.url());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  }

  TEST_CASE_TEMPLATE("a declared Content-Length above the limit fails before reading the body", E, PlainEngine, CurlEngine) {
    RawServer s("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n", 200);
    HttpTransportOptions opts;
    opts.max_response_bytes = 1000;
    auto r = SendTo<E>(s.url(), opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kResourceExhausted);
  }

  TEST_CASE_TEMPLATE("CR or LF in a header field is rejected before sending", E, PlainEngine, CurlEngine) {
    auto t = Create<E>("http://127.0.0.1:1");
    REQUIRE(t.ok());
    HttpRequest r = Get("/x");
    r.headers.Add("X-Evil", "a\r\nInjected: yes");
    auto resp = (*t)->Send(r);
    REQUIRE_FALSE(resp.ok());
    CHECK(resp.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_SUITE("HttpClientTransport") {
  TEST_CASE("base URLs are parsed and malformed ones rejected with kInvalidArgument") {
    auto ok = maas::detail::ParseBaseUrl("http://127.0.0.1:8080/serving/");
    REQUIRE(ok.ok());
    CHECK(ok->host == "127.0.0.1");
    CHECK(ok->port == 8080);
    CHECK(ok->prefix == "/serving");
    CHECK(ok->canonical == "http://127.0.0.1:8080/serving");
    auto https = maas::detail::ParseBaseUrl("https://example.org");
    REQUIRE(https.ok());
    CHECK(https->port == 443);
    auto v6 = maas::detail::ParseBaseUrl("http://[::1]:9000");
    REQUIRE(v6.ok());
    CHECK(v6->host == "::1");
    CHECK(v6->canonical == "http://[::1]:9000");
    for (const char* bad : {"127.0.0.1:8080", "ftp://h", "http://", "http://h:0",
                            "http://h:70000", "http://h:port", "http://u:p@h",
                            "http://h/x?y=1", "http://[::1"}) {
      CAPTURE(bad);
      auto r = HttpClientTransport::Create(bad);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    }
    HttpTransportOptions opts;
    opts.read_timeout = absl::ZeroDuration();
    CHECK(HttpClientTransport::Create("http://h:1", opts).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE_TEMPLATE("POST round trip carries body, content type, credentials and custom headers", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    REQUIRE(s.Start());
    HttpTransportOptions opts;
    opts.bearer_token = kSecret;
    opts.api_key = "key-1";
    opts.headers.emplace_back("X-Custom", "c");
    auto t = Create<E>(s.url(), opts);
    REQUIRE(t.ok());
    std::string body = std::string("{\"a\":1}") + std::string(3, '\0') + "tail";
    HttpRequest r;
    r.method = HttpMethod::kPost;
    r.path = "/echo";
    r.body = body;
    r.content_type = "application/octet-stream";
    r.headers.Add("X-Per-Call", "p");
    auto resp = (*t)->Send(r);
    REQUIRE(resp.ok());
    CHECK(resp->status == 200);
    CHECK(resp->body == body);
    CHECK(resp->Header("x-seen-content-type") == "application/octet-stream");
    CHECK(resp->Header("X-SEEN-AUTH") == absl::StrCat("Bearer ", kSecret));
    CHECK(resp->Header("x-seen-key") == "key-1");
    CHECK(resp->Header("x-seen-custom") == "c");
    CHECK(resp->Header("x-seen-per-call") == "p");
    CHECK((*t)->base_url() == s.url());
  }

  TEST_CASE_TEMPLATE("a path prefix in the base URL is put before every request path", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    s.server().Get("/serving/v2", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("prefixed", "text/plain");
    });
    REQUIRE(s.Start());
    auto t = Create<E>(s.url() + "/serving/");
    REQUIRE(t.ok());
    auto resp = (*t)->Send(Get("/v2"));
    REQUIRE(resp.ok());
    CHECK(resp->body == "prefixed");
  }

  TEST_CASE_TEMPLATE("HTTP error replies are returned as responses, not statuses", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    REQUIRE(s.Start());
    auto t = Create<E>(s.url());
    REQUIRE(t.ok());
    auto resp = (*t)->Send(Get("/missing"));
    REQUIRE(resp.ok());
    CHECK(resp->status == 404);
    CHECK(resp->body == R"({"error":"no such thing"})");
  }

  TEST_CASE_TEMPLATE("sequential requests reuse one keep-alive connection", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    REQUIRE(s.Start());
    auto t = Create<E>(s.url());
    REQUIRE(t.ok());
    for (int i = 0; i < 20; ++i) {
      auto resp = (*t)->Send(Get("/hello"));
      REQUIRE(resp.ok());
      CHECK(resp->body == "hello");
    }
    CHECK(ts.connections() == 1);
  }

  TEST_CASE_TEMPLATE("a server that closes connections is reconnected to transparently", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    s.server().set_keep_alive_max_count(2);
    REQUIRE(s.Start());
    auto t = Create<E>(s.url());
    REQUIRE(t.ok());
    for (int i = 0; i < 10; ++i) {
      auto resp = (*t)->Send(Get(i % 3 == 0 ? "/close" : "/hello"));
      REQUIRE(resp.ok());
    }
    CHECK(ts.connections() > 1);
  }

  TEST_CASE_TEMPLATE("a restarted server is reached again after its old connection died", E, PlainEngine, CurlEngine) {
    int port = 0;
    std::unique_ptr<HttpClientTransport> t;
    {
      LoopbackServer s;
      TestServer ts(&s);
      REQUIRE(s.Start());
      port = s.port();
      auto made = Create<E>(s.url());
      REQUIRE(made.ok());
      t = *std::move(made);
      REQUIRE(t->Send(Get("/hello")).ok());
    }
    LoopbackServer s2;
    TestServer ts2(&s2);
    s2.server().bind_to_port("127.0.0.1", port);
    // Not every kernel lets us rebind at once; only check when it did.
    std::thread th([&] { s2.server().listen_after_bind(); });
    for (int i = 0; i < 500 && !s2.server().is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (s2.server().is_running()) {
      auto resp = t->Send(Get("/hello"));
      CHECK(resp.ok());
    }
    s2.server().stop();
    th.join();
  }

  TEST_CASE_TEMPLATE("nothing listening is kUnavailable, without the token in the message", E, PlainEngine, CurlEngine) {
    HttpTransportOptions opts;
    opts.bearer_token = kSecret;
    opts.api_key = kSecret;
    auto t = Create<E>(absl::StrCat("http://127.0.0.1:", ClosedPort()), opts);
    REQUIRE(t.ok());
    auto resp = (*t)->Send(Get("/v2/health/ready"));
    REQUIRE_FALSE(resp.ok());
    CHECK(resp.status().code() == absl::StatusCode::kUnavailable);
    CHECK(resp.status().message().find("/v2/health/ready") != absl::string_view::npos);
    CHECK(resp.status().message().find("cannot connect") != absl::string_view::npos);
    CHECK(resp.status().ToString().find(kSecret) == std::string::npos);
  }

  TEST_CASE_TEMPLATE("a slow reply past the read timeout is kDeadlineExceeded", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    REQUIRE(s.Start());
    HttpTransportOptions opts;
    opts.read_timeout = absl::Milliseconds(150);
    opts.bearer_token = kSecret;
    auto t = Create<E>(s.url(), opts);
    REQUIRE(t.ok());
    auto resp = (*t)->Send(Get("/slow"));
    REQUIRE_FALSE(resp.ok());
    CHECK(resp.status().code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(resp.status().ToString().find(kSecret) == std::string::npos);
    // The transport stays usable afterwards.
    auto again = (*t)->Send(Get("/hello"));
    CHECK(again.ok());
  }

  TEST_CASE_TEMPLATE("the total timeout bounds the call, per transport and per request", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    REQUIRE(s.Start());
    SUBCASE("transport option") {
      HttpTransportOptions opts;
      opts.total_timeout = absl::Milliseconds(150);
      auto t = Create<E>(s.url(), opts);
      REQUIRE(t.ok());
      auto resp = (*t)->Send(Get("/slow"));
      REQUIRE_FALSE(resp.ok());
      CHECK(resp.status().code() == absl::StatusCode::kDeadlineExceeded);
    }
    SUBCASE("per-request override") {
      auto t = Create<E>(s.url());
      REQUIRE(t.ok());
      HttpRequest r = Get("/slow");
      r.timeout = absl::Milliseconds(150);
      auto resp = (*t)->Send(r);
      REQUIRE_FALSE(resp.ok());
      CHECK(resp.status().code() == absl::StatusCode::kDeadlineExceeded);
    }
    SUBCASE("a dripping body is cut off by the total timeout, not only per read") {
      HttpTransportOptions opts;
      opts.read_timeout = absl::Seconds(5);
      opts.total_timeout = absl::Milliseconds(300);
      auto t = Create<E>(s.url(), opts);
      REQUIRE(t.ok());
      auto resp = (*t)->Send(Get("/drip"));
      REQUIRE_FALSE(resp.ok());
      CHECK(resp.status().code() == absl::StatusCode::kDeadlineExceeded);
    }
  }

  TEST_CASE_TEMPLATE("a reply above max_response_bytes is kResourceExhausted", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    REQUIRE(s.Start());
    HttpTransportOptions opts;
    opts.max_response_bytes = 1024;
    auto t = Create<E>(s.url(), opts);
    REQUIRE(t.ok());
    auto resp = (*t)->Send(Get("/big"));
    REQUIRE_FALSE(resp.ok());
    CHECK(resp.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_FALSE(maas::HttpStatusOf(resp.status()).has_value());
    opts.max_response_bytes = 64 * 1024;
    auto t2 = Create<E>(s.url(), opts);
    REQUIRE(t2.ok());
    auto ok = (*t2)->Send(Get("/big"));
    REQUIRE(ok.ok());
    CHECK(ok->body.size() == 64 * 1024);
  }

  TEST_CASE_TEMPLATE("concurrent callers each get their own reply", E, PlainEngine, CurlEngine) {
    LoopbackServer s;
    TestServer ts(&s);
    REQUIRE(s.Start());
    auto t = Create<E>(s.url());
    REQUIRE(t.ok());
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
      threads.emplace_back([&, k] {
        for (int i = 0; i < 50; ++i) {
          std::string body = absl::StrCat("thread ", k, " request ", i);
          HttpRequest r;
          r.method = HttpMethod::kPost;
          r.path = "/echo";
          r.body = body;
          auto resp = (*t)->Send(r);
          if (resp.ok() && resp->body == body) good.fetch_add(1);
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(good.load() == 200);
    CHECK(ts.connections() <= 4);
  }
}

TEST_SUITE("HttpClientTransport TLS") {
  // Makes a self-signed certificate for 127.0.0.1 with the openssl tool.
  struct Cert {
    std::string dir, cert, key;
    bool ok = false;
    Cert() {
      char tmpl[] = "/tmp/maas_tls_XXXXXX";
      if (mkdtemp(tmpl) == nullptr) return;
      dir = tmpl;
      cert = dir + "/cert.pem";
      key = dir + "/key.pem";
      const std::string cmd = absl::StrCat(
          "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
          "-addext subjectAltName=IP:127.0.0.1 -keyout ", key, " -out ", cert,
          " >/dev/null 2>&1");
      ok = std::system(cmd.c_str()) == 0;
    }
    ~Cert() {
      std::remove(cert.c_str());
      std::remove(key.c_str());
      std::remove(dir.c_str());
    }
  };

  TEST_CASE("https verifies the server certificate by default and trusts a given CA file") {
    Cert c;
    REQUIRE_MESSAGE(c.ok, "the openssl tool is needed to make a test certificate");
    LoopbackServer s(c.cert, c.key);
    TestServer ts(&s);
    REQUIRE(s.Start());
    HttpTransportOptions opts;
    opts.bearer_token = kSecret;
    {
      auto t = HttpClientTransport::Create(s.url(), opts);
      REQUIRE(t.ok());
      auto resp = (*t)->Send(Get("/hello"));
      REQUIRE_FALSE(resp.ok());
      CHECK(resp.status().code() == absl::StatusCode::kFailedPrecondition);
      CHECK(resp.status().ToString().find(kSecret) == std::string::npos);
    }
    {
      opts.ca_file = c.cert;
      auto t = HttpClientTransport::Create(s.url(), opts);
      REQUIRE(t.ok());
      auto resp = (*t)->Send(Get("/hello"));
      REQUIRE(resp.ok());
      CHECK(resp->body == "hello");
    }
    {
      HttpTransportOptions insecure;
      insecure.verify_tls = false;
      auto t = HttpClientTransport::Create(s.url(), insecure);
      REQUIRE(t.ok());
      auto resp = (*t)->Send(Get("/hello"));
      REQUIRE(resp.ok());
    }
  }
}
