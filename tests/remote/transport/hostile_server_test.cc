// Servers that misbehave on purpose, each one a defect found in review
// (issue 7 items 3-7), run against both engines of HttpClientTransport:
// chunk sizes and Content-Lengths near 2^64, a declared length never sent,
// an early error reply during an upload, header bytes dripping or piling up,
// header injection through options and requests, credentials in URLs, and
// unsolicited bytes on an idle keep-alive connection.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "doctest/doctest.h"
#include "maas/remote/http_client_transport.h"
#include "remote/transport/scripted_server.h"
#include "testing/status_doctest.h"

using maas::HttpClientTransport;
using maas::HttpMethod;
using maas::HttpRequest;
using maas::HttpTransportOptions;
using maas_test::ScriptedServer;

namespace {

struct PlainEngine {
  static constexpr maas::HttpEngine kEngine = maas::HttpEngine::kPlain;
};
struct CurlEngine {
  static constexpr maas::HttpEngine kEngine = maas::HttpEngine::kCurl;
};

template <typename E>
std::unique_ptr<HttpClientTransport> Make(const std::string& url, HttpTransportOptions opts = {}) {
  opts.engine = E::kEngine;
  auto t = HttpClientTransport::Create(url, opts);
  REQUIRE(t.ok());
  return *std::move(t);
}

HttpRequest Get(std::string path) {
  HttpRequest r;
  r.path = std::move(path);
  return r;
}

// A server that answers every request's head with `reply`, then keeps the
// connection open for `hold_ms` (so the client, not the close, decides).
ScriptedServer::Script Reply(std::string reply, int hold_ms = 3000) {
  return [reply, hold_ms](int fd, int) {
    if (ScriptedServer::ReadRequest(fd).empty()) return;
    ScriptedServer::WriteAll(fd, reply);
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
  };
}

}  // namespace

TEST_SUITE("HostileServer") {

TEST_CASE_TEMPLATE("a chunk size near 2^64 is kResourceExhausted at once, not a crash or a stall",
                   E, PlainEngine, CurlEngine) {
  for (std::string size : {"FFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFE", "10000000000000000",
                           "8000000000000000"}) {
    CAPTURE(size);
    ScriptedServer s(Reply(absl::StrCat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "1\r\na\r\n",
                                        size, "\r\nxxxx")));
    HttpTransportOptions opts;
    opts.total_timeout = absl::Seconds(5);
    const absl::Time t0 = absl::Now();
    auto r = Make<E>(s.url(), opts)->Send(Get("/x"));
    const absl::Duration took = absl::Now() - t0;
    REQUIRE_FALSE(r.ok());
    CAPTURE(r.status());
    // libcurl refuses a size it cannot represent as a malformed reply.
    CHECK((r.status().code() == absl::StatusCode::kResourceExhausted ||
           r.status().code() == absl::StatusCode::kDataLoss));
    CHECK(took < absl::Seconds(2));
  }
}

TEST_CASE_TEMPLATE("a Content-Length of 2^63 or more is refused, never read until close as a 200",
                   E, PlainEngine, CurlEngine) {
  for (std::string length : {"9223372036854775808", "18446744073709551615",
                             "99999999999999999999"}) {
    CAPTURE(length);
    ScriptedServer s(Reply(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", length,
                                        "\r\n\r\nshort"),
                           0));
    auto r = Make<E>(s.url())->Send(Get("/x"));
    REQUIRE_FALSE(r.ok());
    CHECK((r.status().code() == absl::StatusCode::kResourceExhausted ||
           r.status().code() == absl::StatusCode::kDataLoss));
  }
}

TEST_CASE_TEMPLATE("an early error reply during a large upload is returned, not kUnavailable",
                   E, PlainEngine, CurlEngine) {
  ScriptedServer s([](int fd, int) {
    // Read the head only, refuse the body, close without reading it.
    if (ScriptedServer::ReadRequest(fd, /*with_body=*/false).empty()) return;
    ScriptedServer::WriteAll(fd,
                             "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
                             "Content-Length: 22\r\n\r\n{\"error\":\"too large\"}\n");
  });
  const std::string body(32 << 20, 'x');
  HttpRequest r;
  r.method = HttpMethod::kPost;
  r.path = "/upload";
  r.body = body;
  auto resp = Make<E>(s.url())->Send(r);
  REQUIRE(resp.ok());
  CHECK(resp->status == 413);
  CHECK(absl::StrContains(resp->body, "too large"));
}

TEST_CASE_TEMPLATE("header bytes dripping in are cut off by the total timeout", E, PlainEngine,
                   CurlEngine) {
  ScriptedServer s([&](int fd, int) {
    if (ScriptedServer::ReadRequest(fd).empty()) return;
    ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 400; ++i) {
      if (!ScriptedServer::WriteAll(fd, "X")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  HttpTransportOptions opts;
  opts.read_timeout = absl::Seconds(5);
  opts.total_timeout = absl::Milliseconds(400);
  const absl::Time t0 = absl::Now();
  auto r = Make<E>(s.url(), opts)->Send(Get("/x"));
  const absl::Duration took = absl::Now() - t0;
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(took < absl::Milliseconds(1000));
}

TEST_CASE_TEMPLATE("a header block over 64 KiB is refused while it arrives", E, PlainEngine,
                   CurlEngine) {
  ScriptedServer s([&](int fd, int) {
    if (ScriptedServer::ReadRequest(fd).empty()) return;
    ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\n");
    const std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
    for (int i = 0; i < 20000; ++i) {  // 20 MB of headers, never ending
      if (!ScriptedServer::WriteAll(fd, line)) return;
    }
  });
  HttpTransportOptions opts;
  opts.max_response_bytes = 1 << 20;
  auto r = Make<E>(s.url(), opts)->Send(Get("/x"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("CR or LF in credentials, header options or the URL prefix is refused at Create") {
  auto injected = [](HttpTransportOptions o, const std::string& url = "http://127.0.0.1:1") {
    auto t = HttpClientTransport::Create(url, o);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(t.status().message().find_first_of("\r\n") == absl::string_view::npos);
  };
  HttpTransportOptions o;
  o.bearer_token = "t\r\nInjected: 1";
  injected(o);
  o = HttpTransportOptions();
  o.api_key = "k\nInjected: 1";
  injected(o);
  o = HttpTransportOptions();
  o.api_key = "k";
  o.api_key_header = "X-Key\r\nInjected";
  injected(o);
  o = HttpTransportOptions();
  o.headers.emplace_back("X-A", "v\r\nInjected: 1");
  injected(o);
  o = HttpTransportOptions();
  o.headers.emplace_back("X-A\r\nInjected", "v");
  injected(o);
  injected(HttpTransportOptions(), "http://127.0.0.1:1/pre\r\nInjected: 1");
  injected(HttpTransportOptions(), "http://127.0.0.1:1/pre fix");
}

TEST_CASE_TEMPLATE("CR, LF or spaces in a request's path or headers never reach the wire", E,
                   PlainEngine, CurlEngine) {
  ScriptedServer s(Reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0));
  auto t = Make<E>(s.url());
  for (const char* path : {"/a\r\nInjected: 1", "/a b", "/a\nb", "noslash"}) {
    CAPTURE(path);
    auto r = t->Send(Get(path));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  }
  HttpRequest r = Get("/x");
  r.content_type = "text/plain\r\nInjected: 1";
  r.method = HttpMethod::kPost;
  CHECK(t->Send(r).status().code() == absl::StatusCode::kInvalidArgument);
  r = Get("/x");
  r.headers.Add("X-A", "v\rInjected: 1");
  CHECK(t->Send(r).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.connections() == 0);  // nothing was sent
}

TEST_CASE("a URL with user-info is refused without repeating the password") {
  for (const char* url : {"http://user:hunter2@127.0.0.1:8000", "https://user:hunter2@host/x",
                          "http://user:hunter2@[::1]:1/p", "http://user:hunter2@"}) {
    CAPTURE(url);
    auto t = HttpClientTransport::Create(url);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_FALSE(absl::StrContains(t.status().ToString(), "hunter2"));
    CHECK(absl::StrContains(t.status().message(), "user-info"));
  }
  // Other errors on a URL with user-info do not echo it either.
  auto t = HttpClientTransport::Create("ftp://user:hunter2@host");
  REQUIRE_FALSE(t.ok());
  CHECK_FALSE(absl::StrContains(t.status().ToString(), "hunter2"));
}

TEST_CASE_TEMPLATE("unsolicited bytes on an idle connection never become the next reply", E,
                   PlainEngine, CurlEngine) {
  ScriptedServer s([](int fd, int connection) {
    bool first = true;
    while (true) {
      const std::string req = ScriptedServer::ReadRequest(fd);
      if (req.empty()) return;
      const std::string body = "reply to " + ScriptedServer::PathOf(req);
      ScriptedServer::WriteAll(fd, absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ",
                                                body.size(), "\r\n\r\n", body));
      if (first && connection == 0) {
        first = false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        // A second "reply" nobody asked for, while the connection is idle.
        ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!");
      }
    }
  });
  auto t = Make<E>(s.url());
  auto one = t->Send(Get("/one"));
  REQUIRE(one.ok());
  CHECK(one->body == "reply to /one");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto two = t->Send(Get("/two"));
  REQUIRE(two.ok());
  CHECK(two->body == "reply to /two");
  auto three = t->Send(Get("/three"));
  REQUIRE(three.ok());
  CHECK(three->body == "reply to /three");
}

TEST_CASE_TEMPLATE("a per-request absolute deadline caps every wait", E, PlainEngine, CurlEngine) {
  ScriptedServer s([&](int fd, int) {
    if (ScriptedServer::ReadRequest(fd).empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // black hole
  });
  HttpRequest r = Get("/x");
  r.deadline = absl::Now() + absl::Milliseconds(200);
  const absl::Time t0 = absl::Now();
  auto resp = Make<E>(s.url())->Send(r);
  const absl::Duration took = absl::Now() - t0;
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(took < absl::Milliseconds(500));
  r.deadline = absl::Now() - absl::Milliseconds(1);
  CHECK(Make<E>(s.url())->Send(r).status().code() == absl::StatusCode::kDeadlineExceeded);
}

TEST_CASE_TEMPLATE("a redirect is returned as it is, never followed (credentials stay home)", E,
                   PlainEngine, CurlEngine) {
  ScriptedServer elsewhere([](int fd, int) {
    while (!ScriptedServer::ReadRequest(fd).empty()) {
      ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstolen");
    }
  });
  ScriptedServer s(Reply(absl::StrCat("HTTP/1.1 307 Temporary Redirect\r\nLocation: ", elsewhere.url(),
                                      "/grab\r\nContent-Length: 0\r\n\r\n"),
                         0));
  HttpTransportOptions opts;
  opts.bearer_token = "t0ken";
  auto r = Make<E>(s.url(), opts)->Send(Get("/x"));
  REQUIRE(r.ok());
  CHECK(r->status == 307);
  CHECK(r->Header("Location") == elsewhere.url() + "/grab");
  CHECK(elsewhere.connections() == 0);
}

TEST_CASE_TEMPLATE("many threads share one transport and each gets its own reply", E, PlainEngine,
                   CurlEngine) {
  ScriptedServer s([](int fd, int) {
    while (true) {
      const std::string req = ScriptedServer::ReadRequest(fd);
      if (req.empty()) return;
      const std::string body = req.substr(req.find("\r\n\r\n") + 4);
      ScriptedServer::WriteAll(fd, absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                                                "\r\n\r\n", body));
    }
  });
  HttpTransportOptions opts;
  opts.max_idle_connections = 4;
  auto t = Make<E>(s.url(), opts);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 50; ++i) {
        const std::string body = absl::StrCat("thread ", k, " request ", i);
        HttpRequest r;
        r.method = HttpMethod::kPost;
        r.path = "/echo";
        r.body = body;
        auto resp = t->Send(r);
        if (resp.ok() && resp->body == body) good.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(good.load() == 400);
  CHECK(s.connections() <= 16);
}

}  // TEST_SUITE
