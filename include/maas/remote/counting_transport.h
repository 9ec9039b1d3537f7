// -----------------------------------------------------------------------------
// File: remote/counting_transport.h
// -----------------------------------------------------------------------------
//
// `maas::CountingTransport` wraps any `maas::HttpTransport` and counts what
// goes through it: requests, failed requests (no reply), request body bytes
// sent and reply body bytes received. The metrics layer exports these as
// `maas_remote_requests_total` and `maas_remote_{sent,received}_bytes_total`
// (see observed_model.h); the counters themselves depend on nothing but
// core.
//
// Bytes are HTTP *body* bytes (the encoded tensors: JSON or binary), not
// header or TCP overhead. Thread-safe: relaxed atomic counters, one add per
// request.
//
// Example:
//
//   auto http = maas::HttpClientTransport::Create(url);
//   auto counting = std::make_shared<maas::CountingTransport>(
//       std::shared_ptr<maas::HttpTransport>(*std::move(http)));
//   auto model = maas::RemoteModel::Create(opts, counting);
//   ... counting->counters().bytes_sent ...

#ifndef MAAS_REMOTE_COUNTING_TRANSPORT_H_
#define MAAS_REMOTE_COUNTING_TRANSPORT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "maas/remote/http.h"

namespace maas {

// TransportCounters
//
// Totals since the transport was made.
struct TransportCounters {
  std::int64_t requests = 0;        // Send() calls
  std::int64_t failed = 0;          // of which no reply came (transport error)
  std::int64_t bytes_sent = 0;      // request bodies
  std::int64_t bytes_received = 0;  // reply bodies (any HTTP status)
};

// CountingTransport
//
// See the file comment. Owns a reference to the wrapped transport.
class CountingTransport final : public HttpTransport {
 public:
  explicit CountingTransport(std::shared_ptr<HttpTransport> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    requests_.fetch_add(1, std::memory_order_relaxed);
    sent_.fetch_add(static_cast<std::int64_t>(request.body.size()), std::memory_order_relaxed);
    absl::StatusOr<HttpResponse> r = inner_->Send(request);
    if (r.ok()) {
      received_.fetch_add(static_cast<std::int64_t>(r->body.size()), std::memory_order_relaxed);
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
    return r;
  }

  std::string base_url() const override { return inner_->base_url(); }

  // CountingTransport::counters()
  TransportCounters counters() const {
    TransportCounters c;
    c.requests = requests_.load(std::memory_order_relaxed);
    c.failed = failed_.load(std::memory_order_relaxed);
    c.bytes_sent = sent_.load(std::memory_order_relaxed);
    c.bytes_received = received_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  const std::shared_ptr<HttpTransport> inner_;
  std::atomic<std::int64_t> requests_{0}, failed_{0}, sent_{0}, received_{0};
};

}  // namespace maas

#endif  // MAAS_REMOTE_COUNTING_TRANSPORT_H_
