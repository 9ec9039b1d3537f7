// Internal: the built-in http:// engine of `maas::HttpClientTransport`: one
// keep-alive HTTP/1.1 connection on a TCP socket. Not part of the public API.
//
// Why it exists: a small inference request is dominated by the client's own
// CPU on a fast network, and this engine costs close to a raw socket (one
// sendmsg of header block + caller's body without a copy, large blocking
// recv calls into a reused buffer; docs/PERFORMANCE.md "Remote client").
// libcurl (detail/curl_engine.h) handles everything else.
//
// Bounds: connect waits in poll(); reads and writes are bounded by
// SO_RCVTIMEO / SO_SNDTIMEO set to min(read/write timeout, time left), and
// the deadline is checked before every read, so a server dripping bytes is
// cut off at the deadline. The reply is parsed by detail/http1_reply_reader.h
// (fuzzed, and checked against h11 in tests/fuzz/).

#ifndef MAAS_REMOTE_DETAIL_PLAIN_HTTP_ENGINE_H_
#define MAAS_REMOTE_DETAIL_PLAIN_HTTP_ENGINE_H_

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "maas/remote/detail/http1_reply_reader.h"
#include "maas/remote/detail/http_wire.h"
#include "maas/remote/http.h"
#include "maas/remote/http_status.h"

namespace maas {
namespace detail {

// PlainHttpConnection
//
// See the file comment. Not thread-safe: the transport's pool gives each
// call its own connection.
class PlainHttpConnection final : private ByteSource {
 public:
  PlainHttpConnection() = default;
  PlainHttpConnection(const PlainHttpConnection&) = delete;
  PlainHttpConnection& operator=(const PlainHttpConnection&) = delete;
  ~PlainHttpConnection() override { Close(); }

  bool is_open() const { return fd_ >= 0; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // IdleAndClean()
  //
  // For an open idle connection: true when nothing is waiting on it. A
  // server that closed it (EOF) or sent bytes nobody asked for (which would
  // be read as the next call's reply) makes it unusable.
  bool IdleAndClean() const {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  // Exchange()
  //
  // Sends `head` + `body` and reads one response into `*out`, connecting
  // first if needed. Returns nullopt on success. The connection stays open
  // for reuse when the reply allows it.
  std::optional<WireFailure> Exchange(const ParsedBaseUrl& url, absl::string_view head,
                                      absl::string_view body, const HttpTransportOptions& opts,
                                      absl::Time deadline, HttpResponse* out) {
    opts_ = &opts;
    deadline_ = deadline;
    if (fd_ < 0) {
      if (auto f = Connect(url, opts, deadline)) return f;
    }
    const Http1ReplyReader::Limits limits{std::size_t{64} << 10, opts.max_response_bytes};
    if (auto f = SendAll(head, body, opts, deadline)) {
      // The server may have answered before reading the whole request (a
      // 413 during a large upload) and closed: that reply, if complete, is
      // the answer; the send failure otherwise.
      if (fd_ >= 0 && HasPendingBytes()) {
        HttpResponse early;
        if (!reader_.Read(*this, limits, &early).has_value()) {
          *out = std::move(early);
          Close();
          return std::nullopt;
        }
      }
      Close();
      return f;
    }
    std::optional<WireFailure> f = reader_.Read(*this, limits, out);
    if (f.has_value() || !reader_.keep_alive()) Close();
    return f;
  }

 private:
  bool HasPendingBytes() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
  }

  // ByteSource: a blocking recv bounded by SO_RCVTIMEO = min(read timeout,
  // time left); the deadline is checked before every read.
  std::optional<WireFailure> Read(char* dst, std::size_t cap, std::size_t* n,
                                  bool any_reply) override {
    while (true) {
      bool deadline_binds = false;
      if (auto f = Arm(SO_RCVTIMEO, opts_->read_timeout, deadline_, &armed_rcv_,
                       &deadline_binds, any_reply)) {
        return f;
      }
      const ssize_t r = ::recv(fd_, dst, cap, 0);
      if (r >= 0) {
        *n = static_cast<std::size_t>(r);
        return std::nullopt;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return TimedOut(deadline_binds, TransportFailure::kReadTimeout, armed_rcv_, any_reply);
      }
      return WireFailure{TransportFailure::kConnectionClosed,
                         absl::StrCat("read failed: ", std::strerror(errno)), !any_reply};
    }
  }

  // Waits for `events` on the socket, at most `limit` and never past
  // `deadline`. Returns nullopt when ready.
  std::optional<WireFailure> Wait(short events, absl::Duration limit, absl::Time deadline,
                                  TransportFailure on_timeout) {
    const absl::Time now = absl::Now();
    const bool deadline_binds = deadline - now <= limit;
    const absl::Duration wait = std::min(limit, deadline - now);
    if (wait <= absl::ZeroDuration()) return WireFailure{TransportFailure::kDeadline, "", true};
    pollfd p{fd_, events, 0};
    const int ms = static_cast<int>(std::min<std::int64_t>(
        INT32_MAX, std::max<std::int64_t>(1, absl::ToInt64Milliseconds(
                                                  absl::Ceil(wait, absl::Milliseconds(1))))));
    int r;
    do {
      r = ::poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    if (r > 0) return std::nullopt;
    if (r == 0) {
      return WireFailure{deadline_binds ? TransportFailure::kDeadline : on_timeout,
                         absl::StrCat("after ", absl::FormatDuration(wait)), true};
    }
    return WireFailure{TransportFailure::kConnectionClosed, std::strerror(errno), true};
  }

  // Sets SO_RCVTIMEO / SO_SNDTIMEO to min(limit, time left) when that
  // differs from what is set. `*deadline_binds` tells a timeout of this
  // wait from the total deadline.
  std::optional<WireFailure> Arm(int option, absl::Duration limit, absl::Time deadline,
                                 absl::Duration* armed, bool* deadline_binds, bool any_reply) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return WireFailure{TransportFailure::kDeadline, "", !any_reply};
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

  static WireFailure TimedOut(bool deadline_binds, TransportFailure wait_kind,
                              absl::Duration armed, bool any_reply) {
    return WireFailure{deadline_binds ? TransportFailure::kDeadline : wait_kind,
                       absl::StrCat("after ", absl::FormatDuration(armed)), !any_reply};
  }

  std::optional<WireFailure> Connect(const ParsedBaseUrl& url, const HttpTransportOptions& opts,
                                     absl::Time deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = absl::StrCat(url.port);
    const int gai = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0 || res == nullptr) {
      return WireFailure{TransportFailure::kConnectRefused,
                         absl::StrCat("cannot resolve host: ", ::gai_strerror(gai)), true};
    }
    std::optional<WireFailure> last;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     ai->ai_protocol);
      if (fd_ < 0) {
        last = WireFailure{TransportFailure::kConnectRefused, std::strerror(errno), true};
        continue;
      }
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      int rc = ::connect(fd_, ai->ai_addr, ai->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        last = Wait(POLLOUT, opts.connect_timeout, deadline, TransportFailure::kConnectTimeout);
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
        return std::nullopt;
      }
      if (!last.has_value() || last->kind == TransportFailure::kConnectionClosed) {
        last = WireFailure{TransportFailure::kConnectRefused, std::strerror(errno), true};
      }
      Close();
      if (last->kind != TransportFailure::kConnectRefused) break;  // timed out
    }
    ::freeaddrinfo(res);
    return last;
  }

  std::optional<WireFailure> SendAll(absl::string_view head, absl::string_view body,
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
      if (auto f = Arm(SO_SNDTIMEO, opts.write_timeout, deadline, &armed_snd_, &deadline_binds,
                       false)) {
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
        return WireFailure{TransportFailure::kConnectionClosed,
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

  int fd_ = -1;
  absl::Duration armed_rcv_, armed_snd_;  // current SO_RCVTIMEO / SO_SNDTIMEO
  Http1ReplyReader reader_;
  const HttpTransportOptions* opts_ = nullptr;  // of the current exchange
  absl::Time deadline_;
};

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_PLAIN_HTTP_ENGINE_H_
