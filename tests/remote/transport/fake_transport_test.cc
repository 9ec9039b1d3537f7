// Tests for testing/fake_transport.h: the scripted HttpTransport double.
#include "maas/testing/fake_transport.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "doctest/doctest.h"
#include "maas/remote/http.h"
#include "testing/status_doctest.h"

using maas::HttpMethod;
using maas::HttpRequest;
using maas::testing::FakeTransport;

namespace {

HttpRequest Req(HttpMethod m, std::string path, absl::string_view body = "") {
  HttpRequest r;
  r.method = m;
  r.path = std::move(path);
  r.body = body;
  return r;
}

}  // namespace

TEST_SUITE("FakeTransport") {
  TEST_CASE("unscripted requests fail with kUnimplemented naming the request") {
    FakeTransport fake;
    auto r = fake.Send(Req(HttpMethod::kGet, "/v2"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kUnimplemented);
    CHECK(r.status().message().find("GET /v2") != absl::string_view::npos);
  }

  TEST_CASE("queued replies come first, oldest first, then the standing reply") {
    FakeTransport fake;
    fake.OnJson(HttpMethod::kGet, "/x", R"({"n":0})");
    fake.EnqueueJson(HttpMethod::kGet, "/x", R"({"n":1})");
    fake.EnqueueStatus(HttpMethod::kGet, "/x", absl::UnavailableError("down"));
    auto a = fake.Send(Req(HttpMethod::kGet, "/x"));
    REQUIRE(a.ok());
    CHECK(a->body == R"({"n":1})");
    CHECK(a->Header("content-type") == "application/json");
    auto b = fake.Send(Req(HttpMethod::kGet, "/x"));
    CHECK(b.status().code() == absl::StatusCode::kUnavailable);
    for (int i = 0; i < 3; ++i) {
      auto c = fake.Send(Req(HttpMethod::kGet, "/x"));
      REQUIRE(c.ok());
      CHECK(c->body == R"({"n":0})");
    }
    // Same path, other method: not matched.
    CHECK_FALSE(fake.Send(Req(HttpMethod::kPost, "/x")).ok());
  }

  TEST_CASE("requests are recorded with a copy of the body") {
    FakeTransport fake;
    fake.SetDefault(FakeTransport::JsonResponse("{}", 204));
    {
      std::string body = "payload";
      HttpRequest r = Req(HttpMethod::kPost, "/p", body);
      r.headers.Add("X-Test", "1");
      r.content_type = "application/octet-stream";
      REQUIRE(fake.Send(r).ok());
      body.assign("overwritten");
    }
    auto recs = fake.requests();
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].body == "payload");
    CHECK(recs[0].headers.Find("x-test") == "1");
    CHECK(recs[0].content_type == "application/octet-stream");
    CHECK(fake.CountRequests(HttpMethod::kPost, "/p") == 1);
    fake.ClearRequests();
    CHECK(fake.requests().empty());
  }

  TEST_CASE("concurrent senders are all recorded") {
    FakeTransport fake;
    fake.OnJson(HttpMethod::kGet, "/c", "{}");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 100; ++i) {
          CHECK(fake.Send(Req(HttpMethod::kGet, "/c")).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(fake.CountRequests(HttpMethod::kGet, "/c") == 400);
  }
}

TEST_SUITE("HttpHeaders") {
  TEST_CASE("lookup is case-insensitive and Set replaces every spelling") {
    maas::HttpHeaders h;
    h.Add("Content-Type", "a");
    h.Add("content-type", "b");
    h.Add("X-Other", "c");
    CHECK(h.Find("CONTENT-TYPE") == "a");
    CHECK_FALSE(h.Find("missing").has_value());
    h.Set("Content-type", "z");
    CHECK(h.size() == 2);
    CHECK(h.Find("content-type") == "z");
    h.Remove("x-other");
    CHECK_FALSE(h.Has("X-Other"));
  }
}
