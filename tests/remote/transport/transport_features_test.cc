// What the libcurl engine brings beyond the built-in one, each against a real
// peer on loopback: a forward proxy from the options (credentials never
// printed) and from the environment (with no_proxy), mutual TLS with a client
// certificate, and IPv6 on both engines.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "doctest/doctest.h"
#include "httplib.h"
#include "maas/remote/http_client_transport.h"
#include "remote/transport/scripted_server.h"
#include "testing/status_doctest.h"

using maas::HttpClientTransport;
using maas::HttpRequest;
using maas::HttpTransportOptions;
using maas_test::ScriptedServer;

namespace {

HttpRequest Get(std::string path) {
  HttpRequest r;
  r.path = std::move(path);
  return r;
}

// A forward proxy: answers every absolute-form request itself, echoing the
// request target and the Proxy-Authorization it got.
ScriptedServer::Script Proxy() {
  return [](int fd, int) {
    while (true) {
      const std::string req = ScriptedServer::ReadRequest(fd);
      if (req.empty()) return;
      const std::string target = ScriptedServer::PathOf(req);
      std::string auth;
      const std::size_t a = req.find("Proxy-Authorization: ");
      if (a != std::string::npos) auth = req.substr(a + 21, req.find("\r\n", a) - a - 21);
      const std::string body = absl::StrCat("via proxy ", target, " auth=", auth);
      ScriptedServer::WriteAll(fd, absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                                                "\r\n\r\n", body));
    }
  };
}

// A server that answers "direct".
ScriptedServer::Script Direct() {
  return [](int fd, int) {
    while (!ScriptedServer::ReadRequest(fd).empty()) {
      ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ndirect");
    }
  };
}

// Sets an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST_SUITE("HttpClientTransport proxies") {

TEST_CASE("a proxy in the options carries the request (absolute form, credentials) and is never printed") {
  ScriptedServer proxy(Proxy());
  ScriptedServer target(Direct());
  HttpTransportOptions o;
  o.proxy = absl::StrCat("http://user:pr0xy-s3cret@127.0.0.1:",
                         proxy.url().substr(proxy.url().rfind(':') + 1));
  auto t = HttpClientTransport::Create(target.url(), o);
  REQUIRE(t.ok());
  CHECK((*t)->uses_curl());
  auto r = (*t)->Send(Get("/v2/health/ready"));
  REQUIRE(r.ok());
  CHECK(absl::StartsWith(r->body, absl::StrCat("via proxy ", target.url(), "/v2/health/ready")));
  CHECK(absl::StrContains(r->body, "auth=Basic "));  // user:password, base64
  // A proxy that is down: kUnavailable, and no password in the message.
  o.proxy = "http://user:pr0xy-s3cret@127.0.0.1:1";
  auto down = HttpClientTransport::Create(target.url(), o);
  REQUIRE(down.ok());
  auto fail = (*down)->Send(Get("/x"));
  REQUIRE_FALSE(fail.ok());
  CHECK(fail.status().code() == absl::StatusCode::kUnavailable);
  CHECK_FALSE(absl::StrContains(fail.status().ToString(), "pr0xy-s3cret"));
}

TEST_CASE("http_proxy from the environment applies, no_proxy exempts, ignore_env_proxy opts out") {
  ScriptedServer proxy(Proxy());
  ScriptedServer target(Direct());
  ScopedEnv p("http_proxy", proxy.url());
  {
    auto t = HttpClientTransport::Create(target.url());
    REQUIRE(t.ok());
    CHECK((*t)->uses_curl());
    auto r = (*t)->Send(Get("/x"));
    REQUIRE(r.ok());
    CHECK(absl::StartsWith(r->body, "via proxy "));
  }
  {
    HttpTransportOptions o;
    o.ignore_env_proxy = true;
    auto t = HttpClientTransport::Create(target.url(), o);
    REQUIRE(t.ok());
    CHECK_FALSE((*t)->uses_curl());
    auto r = (*t)->Send(Get("/x"));
    REQUIRE(r.ok());
    CHECK(r->body == "direct");
  }
  {
    ScopedEnv np("no_proxy", "localhost,127.0.0.1");
    auto t = HttpClientTransport::Create(target.url());
    REQUIRE(t.ok());
    CHECK_FALSE((*t)->uses_curl());
    auto r = (*t)->Send(Get("/x"));
    REQUIRE(r.ok());
    CHECK(r->body == "direct");
  }
}

TEST_CASE("no_proxy matching: exact hosts, domain suffixes, a leading dot, '*'") {
  CHECK(maas::detail::NoProxyMatches("a.example.org, b", "a.example.org"));
  CHECK(maas::detail::NoProxyMatches("example.org", "node7.example.org"));
  CHECK(maas::detail::NoProxyMatches(".example.org", "node7.example.org"));
  CHECK(maas::detail::NoProxyMatches("*", "anything"));
  CHECK_FALSE(maas::detail::NoProxyMatches("example.org", "badexample.org"));
  CHECK_FALSE(maas::detail::NoProxyMatches("", "host"));
}

}  // TEST_SUITE

TEST_SUITE("HttpClientTransport mutual TLS") {

TEST_CASE("a server that requires a client certificate: refused without one, served with one") {
  char tmpl[] = "/tmp/maas_mtls_XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string d = tmpl;
  const std::string cmd = absl::StrCat(
      "cd ", d, " && ",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem && ",
      "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr && ",
      "printf 'subjectAltName=IP:127.0.0.1' > san.ext && ",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 ",
      "-extfile san.ext -out server.pem && ",
      "openssl req -newkey rsa:2048 -nodes -subj /CN=simulation -keyout client.key -out client.csr && ",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out client.pem",
      " >/dev/null 2>&1");
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "the openssl tool is needed");
  httplib::SSLServer srv((d + "/server.pem").c_str(), (d + "/server.key").c_str(),
                         (d + "/ca.pem").c_str());
  REQUIRE(srv.is_valid());
  srv.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello over mTLS", "text/plain");
  });
  const int port = srv.bind_to_any_port("127.0.0.1");
  std::thread th([&] { srv.listen_after_bind(); });
  for (int i = 0; i < 500 && !srv.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string url = absl::StrCat("https://127.0.0.1:", port);
  HttpTransportOptions o;
  o.ca_file = d + "/ca.pem";
  {
    auto t = HttpClientTransport::Create(url, o);
    REQUIRE(t.ok());
    auto r = (*t)->Send(Get("/hello"));
    REQUIRE_FALSE(r.ok());  // the server refuses the handshake without a client certificate
    MESSAGE("without a client certificate: " << r.status());
    CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  }
  o.client_cert_file = d + "/client.pem";
  o.client_key_file = d + "/client.key";
  {
    auto t = HttpClientTransport::Create(url, o);
    REQUIRE(t.ok());
    auto r = (*t)->Send(Get("/hello"));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->body == "hello over mTLS");
  }
  o.client_key_file = d + "/missing.key";
  {
    auto t = HttpClientTransport::Create(url, o);
    REQUIRE(t.ok());
    auto r = (*t)->Send(Get("/hello"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);  // unusable client key
  }
  srv.stop();
  th.join();
  (void)std::system(absl::StrCat("rm -rf ", d).c_str());
}

}  // TEST_SUITE

TEST_SUITE("HttpClientTransport IPv6") {

TEST_CASE("both engines reach a server on [::1]") {
  httplib::Server srv;
  srv.Get("/v6", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("over IPv6", "text/plain");
  });
  const int port = srv.bind_to_any_port("::1");
  if (port <= 0) {
    MESSAGE("MAAS_SKIPPED: no IPv6 loopback on this machine");
    return;
  }
  std::thread th([&] { srv.listen_after_bind(); });
  for (int i = 0; i < 500 && !srv.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  for (maas::HttpEngine engine : {maas::HttpEngine::kPlain, maas::HttpEngine::kCurl}) {
    CAPTURE(static_cast<int>(engine));
    HttpTransportOptions o;
    o.engine = engine;
    auto t = HttpClientTransport::Create(absl::StrCat("http://[::1]:", port), o);
    REQUIRE(t.ok());
    CHECK((*t)->base_url() == absl::StrCat("http://[::1]:", port));
    auto r = (*t)->Send(Get("/v6"));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->body == "over IPv6");
  }
  srv.stop();
  th.join();
}

}  // TEST_SUITE
