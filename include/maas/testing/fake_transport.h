// -----------------------------------------------------------------------------
// File: testing/fake_transport.h
// -----------------------------------------------------------------------------
//
// `maas::testing::FakeTransport`: a scripted, in-memory `maas::HttpTransport`
// for unit tests of remote models, codecs-in-context and error mapping. No
// sockets, no threads, fully deterministic.
//
// Replies are chosen per request, in this order:
//  1. the oldest queued one-shot reply for the request's method and path
//     (`Enqueue*`);
//  2. the standing reply for that method and path (`On*`);
//  3. the default reply (`SetDefault*`), which is initially a
//     `kUnimplemented` status naming the unscripted request.
// Every request is recorded (with a copy of its body) and can be inspected
// with `requests()`.
//
// Example:
//
//   maas::testing::FakeTransport fake;
//   fake.OnJson(maas::HttpMethod::kGet, "/v2/models/drag",
//               R"({"name":"drag","inputs":[...],"outputs":[...]})");
//   fake.EnqueueStatus(maas::HttpMethod::kPost, "/v2/models/drag/infer",
//                      absl::UnavailableError("connection refused"));
//   ... run the code under test with `fake` as its transport ...
//   CHECK(fake.CountRequests(maas::HttpMethod::kPost, "/v2/models/drag/infer") == 1);
//
// Thread safety: all members may be called concurrently.

#ifndef MAAS_TESTING_FAKE_TRANSPORT_H_
#define MAAS_TESTING_FAKE_TRANSPORT_H_

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "maas/core/detail/mutex.h"
#include "maas/remote/http.h"

namespace maas {
namespace testing {

// RecordedRequest
//
// A request as the fake saw it, with the body copied.
struct RecordedRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string path;
  HttpHeaders headers;
  std::string body;
  std::string content_type;
  absl::Duration timeout = absl::InfiniteDuration();
  absl::Time deadline = absl::InfiniteFuture();
};

// FakeTransport
//
// See the file comment.
class FakeTransport final : public HttpTransport {
 public:
  // FakeTransport(base_url)
  //
  // `base_url` is only reported by `base_url()` (for messages).
  explicit FakeTransport(std::string base_url = "http://fake:8080")
      : base_url_(std::move(base_url)) {}

  // FakeTransport::On() / OnJson() / OnStatus()
  //
  // Sets the standing reply for `method` + `path` (exact match, query
  // included): a response, a JSON body with HTTP `http_status`, or a
  // transport failure.
  void On(HttpMethod method, absl::string_view path, HttpResponse response) {
    SetStanding(method, path, std::move(response));
  }
  void OnJson(HttpMethod method, absl::string_view path, std::string json,
              int http_status = 200) {
    On(method, path, JsonResponse(std::move(json), http_status));
  }
  void OnStatus(HttpMethod method, absl::string_view path, absl::Status s) {
    SetStanding(method, path, std::move(s));
  }

  // FakeTransport::Enqueue() / EnqueueJson() / EnqueueStatus()
  //
  // Queues a one-shot reply for `method` + `path`; queued replies are used
  // first, oldest first.
  void Enqueue(HttpMethod method, absl::string_view path,
               absl::StatusOr<HttpResponse> reply) {
    detail::MutexLock lock(&mu_);
    queued_[Key(method, path)].push_back(std::move(reply));
  }
  void EnqueueJson(HttpMethod method, absl::string_view path, std::string json,
                   int http_status = 200) {
    Enqueue(method, path, JsonResponse(std::move(json), http_status));
  }
  void EnqueueStatus(HttpMethod method, absl::string_view path,
                     absl::Status s) {
    Enqueue(method, path, std::move(s));
  }

  // FakeTransport::SetDefault()
  //
  // The reply for requests nothing else matches.
  void SetDefault(absl::StatusOr<HttpResponse> reply) {
    detail::MutexLock lock(&mu_);
    default_ = std::move(reply);
    has_default_ = true;
  }

  // FakeTransport::Send()
  //
  // Records the request and returns the scripted reply.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    detail::MutexLock lock(&mu_);
    RecordedRequest rec;
    rec.method = request.method;
    rec.path = request.path;
    rec.headers = request.headers;
    rec.body = std::string(request.body);
    rec.content_type = request.content_type;
    rec.timeout = request.timeout;
    rec.deadline = request.deadline;
    requests_.push_back(std::move(rec));
    const std::string key = Key(request.method, request.path);
    auto q = queued_.find(key);
    if (q != queued_.end() && !q->second.empty()) {
      absl::StatusOr<HttpResponse> r = std::move(q->second.front());
      q->second.pop_front();
      return r;
    }
    auto s = standing_.find(key);
    if (s != standing_.end()) return s->second;
    if (has_default_) return default_;
    return absl::UnimplementedError(
        absl::StrCat("FakeTransport: no scripted reply for ", key));
  }

  std::string base_url() const override { return base_url_; }

  // FakeTransport::requests()
  //
  // Copies of every request received so far, oldest first.
  std::vector<RecordedRequest> requests() const {
    detail::MutexLock lock(&mu_);
    return requests_;
  }

  // FakeTransport::CountRequests()
  //
  // How many requests for `method` + `path` were received.
  std::size_t CountRequests(HttpMethod method, absl::string_view path) const {
    detail::MutexLock lock(&mu_);
    std::size_t n = 0;
    for (const RecordedRequest& r : requests_) {
      if (r.method == method && r.path == path) ++n;
    }
    return n;
  }

  // FakeTransport::ClearRequests()
  void ClearRequests() {
    detail::MutexLock lock(&mu_);
    requests_.clear();
  }

  // JsonResponse()
  //
  // A response with `Content-Type: application/json` and the given body.
  static HttpResponse JsonResponse(std::string json, int http_status = 200) {
    HttpResponse r;
    r.status = http_status;
    r.headers.Add("Content-Type", "application/json");
    r.body = std::move(json);
    return r;
  }

 private:
  void SetStanding(HttpMethod method, absl::string_view path,
                   absl::StatusOr<HttpResponse> reply) {
    detail::MutexLock lock(&mu_);
    standing_.insert_or_assign(Key(method, path), std::move(reply));
  }

  static std::string Key(HttpMethod method, absl::string_view path) {
    return absl::StrCat(HttpMethodName(method), " ", path);
  }

  const std::string base_url_;
  mutable detail::Mutex mu_;
  std::map<std::string, absl::StatusOr<HttpResponse>> standing_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::deque<absl::StatusOr<HttpResponse>>> queued_
      ABSL_GUARDED_BY(mu_);
  absl::StatusOr<HttpResponse> default_ ABSL_GUARDED_BY(mu_);
  bool has_default_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<RecordedRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace testing
}  // namespace maas

#endif  // MAAS_TESTING_FAKE_TRANSPORT_H_
