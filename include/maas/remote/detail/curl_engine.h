// Internal: the libcurl engine of `maas::HttpClientTransport` (https://,
// proxies, client certificates, HTTP/2 over TLS, host names with a bounded
// DNS wait, and any URL when `HttpEngine::kCurl` is chosen). Not part of the
// public API.
//
// One easy handle per pooled connection, reused so its connection stays
// alive: TCP_NODELAY, NOSIGNAL (no SIGALRM around DNS; Debian's libcurl uses
// the threaded resolver, so the connect timeout bounds name lookups too), no
// redirects, only http/https, TLS verification on unless switched off,
// `Expect: 100-continue` off. Per call: the connect and total timeouts come
// from the call's deadline; the transfer is driven through the multi
// interface so every wait ends exactly at the read/write timeout (no byte
// moved for that long) or the deadline; the write callback
// stops at `max_response_bytes` and the header callback at 64 KiB of header
// lines. A reply that arrived before a failed upload ended (a 413 and a
// close) is read from the socket as libcurl closes it and returned. An idle HTTP/1.x connection with bytes waiting (or closed) is not
// reused: the call closes it and opens a fresh one (libcurl itself would read those bytes
// as the next reply).
//
// CURLcode -> TransportFailure (and so -> absl::StatusCode, http_status.h):
//   5 COULDNT_RESOLVE_PROXY, 6 COULDNT_RESOLVE_HOST, 7 COULDNT_CONNECT,
//   97 PROXY                                         -> kConnectRefused
//   28 OPERATION_TIMEDOUT: before connecting -> kConnectTimeout, else
//     kDeadline (total) ; 42 ABORTED_BY_CALLBACK from the progress
//     callback -> kReadTimeout / kWriteTimeout / kDeadline
//   23 WRITE_ERROR from the size checks             -> kResponseTooLarge
//   16 HTTP2, 18 PARTIAL_FILE, 52 GOT_NOTHING, 55 SEND_ERROR, 56 RECV_ERROR,
//     92 HTTP2_STREAM, 35 SSL_CONNECT_ERROR         -> kConnectionClosed
//   56 RECV_ERROR about "chunked-encoding"          -> kMalformedReply
//   60 PEER_FAILED_VERIFICATION,
//     77 SSL_CACERT_BADFILE, 83 SSL_ISSUER_ERROR,
//     58 SSL_CERTPROBLEM, 59 SSL_CIPHER, 66 SSL_ENGINE_INITFAILED,
//     90 SSL_PINNEDPUBKEYNOTMATCH, 91 SSL_INVALIDCERTSTATUS
//                                                   -> kTlsVerification
//   1 UNSUPPORTED_PROTOCOL before connecting, 3 URL_MALFORMAT -> kInvalidUrl
//   1 UNSUPPORTED_PROTOCOL after connecting (not HTTP) -> kMalformedReply
//   8 WEIRD_SERVER_REPLY, 61 BAD_CONTENT_ENCODING, 47 TOO_MANY_REDIRECTS
//                                                   -> kMalformedReply
//   27 OUT_OF_MEMORY                                -> kOutOfMemory
//   anything else                                   -> kConnectionClosed

#ifndef MAAS_REMOTE_DETAIL_CURL_ENGINE_H_
#define MAAS_REMOTE_DETAIL_CURL_ENGINE_H_

#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
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

// CurlGlobalInit()
//
// curl_global_init once per process (thread-safe through the function-local
// static). False when libcurl cannot initialise.
inline bool CurlGlobalInit() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

// CurlConnection
//
// See the file comment. Not thread-safe: the transport's pool gives each
// call its own connection.
class CurlConnection {
 public:
  CurlConnection() : easy_(curl_easy_init()), multi_(NewMulti()) {}
  CurlConnection(const CurlConnection&) = delete;
  CurlConnection& operator=(const CurlConnection&) = delete;
  ~CurlConnection() {
    // The connection lives in the multi handle's cache: close it first.
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    if (headers_ != nullptr) curl_slist_free_all(headers_);
  }

  // Exchange()
  //
  // Performs one request. Returns nullopt on success (any HTTP status).
  std::optional<WireFailure> Exchange(const ParsedBaseUrl& url,
                                      const std::vector<std::pair<std::string, std::string>>& fixed,
                                      const HttpRequest& request, const HttpTransportOptions& opts,
                                      absl::Time deadline, HttpResponse* out) {
    if (easy_ == nullptr) return WireFailure{TransportFailure::kOutOfMemory, "curl_easy_init", true};
    if (!configured_) {
      if (auto f = Configure(url, opts)) return f;
      configured_ = true;
    }
    CURL* e = easy_;
    const absl::Time start = absl::Now();
    if (start >= deadline) return WireFailure{TransportFailure::kDeadline, "", true};
    // Connect and total timeouts from the deadline (at least 1 ms: 0 means
    // "none" to libcurl).
    auto ms = [](absl::Duration d) {
      return std::max<long>(1, static_cast<long>(std::min<std::int64_t>(
                                   INT32_MAX, absl::ToInt64Milliseconds(
                                                  absl::Ceil(d, absl::Milliseconds(1))))));
    };
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(std::min(opts.connect_timeout, deadline - start)));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms(deadline - start));
    url_ = absl::StrCat(url.origin, url.prefix, request.path);
    curl_easy_setopt(e, CURLOPT_URL, url_.c_str());
    if (request.method == HttpMethod::kPost) {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    } else {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    headers_ = nullptr;
    bool ok = true;
    auto add = [&](absl::string_view name, absl::string_view value) {
      line_.clear();
      absl::StrAppend(&line_, name, value.empty() ? ";" : ": ", value);
      curl_slist* next = curl_slist_append(headers_, line_.c_str());
      if (next == nullptr) ok = false; else headers_ = next;
    };
    if (request.method == HttpMethod::kPost) {
      add("Content-Type", request.content_type.empty() ? absl::string_view("application/json")
                                                       : absl::string_view(request.content_type));
    }
    // "Expect:" with nothing after the colon removes libcurl's own
    // "Expect: 100-continue" (no extra round trip before large bodies).
    if (curl_slist* next = curl_slist_append(headers_, "Expect:")) {
      headers_ = next;
    } else {
      ok = false;
    }
    for (const auto& h : fixed) add(h.first, h.second);
    for (const auto& h : request.headers.fields()) add(h.first, h.second);
    if (!ok) return WireFailure{TransportFailure::kOutOfMemory, "curl_slist_append", true};
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
    // A reused HTTP/1.x connection with bytes waiting, or closed, is not
    // trusted: libcurl would read those bytes as this call's reply. The
    // connection lives in the multi handle's cache: a new multi handle
    // closes it.
    if (used_ && !IdleAndClean()) {
      curl_multi_cleanup(multi_);
      multi_ = NewMulti();
    }

    state_ = State();
    state_.out = out;
    state_.opts = &opts;
    state_.deadline = deadline;
    state_.last_progress = start;
    out->status = 0;
    out->headers = HttpHeaders();
    out->body.clear();
    errbuf_[0] = '\0';
    early_reply_.clear();
    const CURLcode rc = Perform(deadline);
    used_ = true;
    if (rc == CURLE_SEND_ERROR && !early_reply_.empty()) {
      // The server answered before reading the whole request and closed
      // (a 413 during a large upload): libcurl stopped at the failed send,
      // but the answer had arrived; CloseSocket() kept its bytes.
      if (ParseEarlyReply(opts, out)) return std::nullopt;
    }
    if (rc == CURLE_OK) {
      long code = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
      out->status = static_cast<int>(code);
      if (out->status < 100 || out->status > 999) {
        return WireFailure{TransportFailure::kMalformedReply,
                           absl::StrCat("status ", out->status), false};
      }
      return std::nullopt;
    }
    return Classify(rc, opts, start, deadline);
  }

 private:
  // A multi handle caching at most one connection (this handle's).
  static CURLM* NewMulti() {
    CURLM* m = curl_multi_init();
    if (m != nullptr) curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 1L);
    return m;
  }

  // Drives the transfer with the multi interface so that every wait is
  // bounded exactly by the read/write timeout and the deadline (libcurl's
  // own loop wakes the progress callback only about once a second).
  CURLcode Perform(absl::Time deadline) {
    if (multi_ == nullptr) return CURLE_OUT_OF_MEMORY;
    if (curl_multi_add_handle(multi_, easy_) != CURLM_OK) return CURLE_FAILED_INIT;
    CURLcode result = CURLE_OK;
    bool done = false;
    while (!done) {
      int running = 0;
      if (curl_multi_perform(multi_, &running) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
      int queued = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_, &queued)) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == easy_) {
          result = m->data.result;
          done = true;
        }
      }
      if (done || running == 0) {
        done = true;
        break;
      }
      const absl::Time now = absl::Now();
      const bool uploading = !state_.any_reply && state_.last_ul < state_.ul_total;
      const absl::Duration limit = uploading ? state_.opts->write_timeout : state_.opts->read_timeout;
      const absl::Time idle_end = state_.last_progress + limit;
      if (now >= deadline) {
        state_.deadline_hit = true;
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      if (now >= idle_end) {
        (uploading ? state_.write_timeout : state_.read_timeout) = true;
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      const absl::Duration wait = std::min(deadline, idle_end) - now;
      const int wait_ms = static_cast<int>(std::clamp<std::int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))), 1, 1000));
      curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    }
    curl_multi_remove_handle(multi_, easy_);
    return result;
  }

  struct State {
    HttpResponse* out = nullptr;
    const HttpTransportOptions* opts = nullptr;
    absl::Time deadline;
    absl::Time last_progress;
    curl_off_t last_dl = 0, last_ul = 0, ul_total = 0;
    std::size_t header_bytes = 0;
    bool any_reply = false;
    bool too_large = false;
    bool out_of_memory = false;
    bool head_too_large = false;
    bool read_timeout = false;
    bool write_timeout = false;
    bool deadline_hit = false;
  };

  std::optional<WireFailure> Configure(const ParsedBaseUrl& url, const HttpTransportOptions& o) {
    CURL* e = easy_;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_MAXCONNECTS, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &CurlConnection::OpenSocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &CurlConnection::CloseSocket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &CurlConnection::OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &state_);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &CurlConnection::OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &state_);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &CurlConnection::OnProgress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &state_);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     url.scheme == "https" && o.http2 ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                                      : static_cast<long>(CURL_HTTP_VERSION_1_1));
    if (url.scheme == "https") {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
      if (!o.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
      if (!o.ca_path.empty()) curl_easy_setopt(e, CURLOPT_CAPATH, o.ca_path.c_str());
      if (!o.client_cert_file.empty()) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, o.client_cert_file.c_str());
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
      }
      if (!o.client_key_file.empty()) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, o.client_key_file.c_str());
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
      }
      if (!o.client_key_password.empty()) {
        curl_easy_setopt(e, CURLOPT_KEYPASSWD, o.client_key_password.c_str());
      }
    }
    if (!o.proxy.empty()) {
      curl_easy_setopt(e, CURLOPT_PROXY, o.proxy.c_str());
      curl_easy_setopt(e, CURLOPT_NOPROXY, o.no_proxy.c_str());
    } else if (o.ignore_env_proxy) {
      curl_easy_setopt(e, CURLOPT_PROXY, "");  // "" = no proxy, environment ignored
    }
    return std::nullopt;
  }

  // An idle connection is safe to reuse when nothing waits on its socket
  // (HTTP/1.x only: an HTTP/2 server may send PING or SETTINGS frames). The
  // socket is the one libcurl opened through OpenSocket (at most one
  // connection per handle: CURLOPT_MAXCONNECTS 1).
  bool IdleAndClean() const {
    if (socket_ == CURL_SOCKET_BAD) return true;  // no live connection
    long version = 0;
    curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version);
    if (version == CURL_HTTP_VERSION_2_0) return true;
    pollfd p{socket_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  // Socket callbacks: libcurl's own behaviour (plain socket()/close()), plus
  // a record of the connection's socket for IdleAndClean().
  static curl_socket_t OpenSocket(void* user, curlsocktype, curl_sockaddr* addr) noexcept {
    auto* self = static_cast<CurlConnection*>(user);
    const curl_socket_t fd = ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd != CURL_SOCKET_BAD) self->socket_ = fd;
    return fd;
  }
  static int CloseSocket(void* user, curl_socket_t fd) noexcept {
    auto* self = static_cast<CurlConnection*>(user);
    if (self->socket_ == fd) self->socket_ = CURL_SOCKET_BAD;
    // Closing while the request body is still going out (a failed send):
    // keep whatever reply already arrived, for ParseEarlyReply().
    const State& st = self->state_;
    if (st.opts != nullptr && st.ul_total > 0 && st.last_ul < st.ul_total) {
      try {
        char buf[16384];
        const std::size_t cap = st.opts->max_response_bytes + (std::size_t{64} << 10);
        while (self->early_reply_.size() < cap) {
          const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
          if (n <= 0) break;
          self->early_reply_.append(buf, static_cast<std::size_t>(n));
        }
      } catch (...) {
        self->early_reply_.clear();
      }
    }
    return ::close(fd);
  }

  // Reads a complete HTTP/1.x reply from early_reply_ (true) or gives up.
  bool ParseEarlyReply(const HttpTransportOptions& opts, HttpResponse* out) {
    class StringSource final : public ByteSource {
     public:
      explicit StringSource(const std::string& s) : s_(s) {}
      std::optional<WireFailure> Read(char* dst, std::size_t cap, std::size_t* n,
                                      bool) override {
        *n = std::min(cap, s_.size() - pos_);
        std::memcpy(dst, s_.data() + pos_, *n);
        pos_ += *n;
        return std::nullopt;
      }

     private:
      const std::string& s_;
      std::size_t pos_ = 0;
    };
    StringSource src(early_reply_);
    Http1ReplyReader reader;
    HttpResponse reply;
    if (reader.Read(src, {std::size_t{64} << 10, opts.max_response_bytes}, &reply).has_value()) {
      return false;
    }
    *out = std::move(reply);
    return true;
  }

  // libcurl's callbacks are called from C: nothing may be thrown through
  // them. An allocation failure aborts the transfer and is reported as
  // kOutOfMemory.
  static std::size_t OnBody(char* data, std::size_t size, std::size_t nmemb,
                            void* user) noexcept {
    auto* st = static_cast<State*>(user);
    const std::size_t n = size * nmemb;
    st->any_reply = true;
    const std::size_t limit = st->opts->max_response_bytes;
    if (n > limit - std::min(limit, st->out->body.size())) {
      st->too_large = true;
      return 0;  // abort: CURLE_WRITE_ERROR
    }
    try {
      st->out->body.append(data, n);
    } catch (...) {
      st->out_of_memory = true;
      return 0;
    }
    st->last_progress = absl::Now();
    return n;
  }

  static std::size_t OnHeader(char* data, std::size_t size, std::size_t nmemb,
                              void* user) noexcept {
    try {
      return OnHeaderLine(data, size, nmemb, static_cast<State*>(user));
    } catch (...) {
      static_cast<State*>(user)->out_of_memory = true;
      return 0;
    }
  }

  static std::size_t OnHeaderLine(char* data, std::size_t size, std::size_t nmemb, State* st) {
    const std::size_t n = size * nmemb;
    st->any_reply = true;
    st->last_progress = absl::Now();
    st->header_bytes += n;
    if (st->header_bytes > (std::size_t{64} << 10)) {
      st->head_too_large = true;
      return 0;
    }
    absl::string_view line(data, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (absl::StartsWith(line, "HTTP/")) {
      // A new status line (interim 1xx replies come first): restart.
      st->out->headers = HttpHeaders();
      return n;
    }
    const std::size_t colon = line.find(':');
    if (line.empty() || colon == absl::string_view::npos || colon == 0) return n;
    absl::string_view name = line.substr(0, colon);
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      // Digits beyond uint64 are "too large" too: libcurl would otherwise
      // ignore the length and read until close.
      bool digits = !value.empty();
      std::uint64_t len = 0;
      for (char c : value) {
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        const auto d = static_cast<std::uint64_t>(c - '0');
        len = len > (UINT64_MAX - d) / 10 ? UINT64_MAX : len * 10 + d;
      }
      if (digits && len > st->opts->max_response_bytes) {
        st->too_large = true;
        return 0;
      }
    }
    st->out->headers.Add(std::string(name), std::string(value));
    return n;
  }

  // Tracks upload/download progress for the idle timeouts in Perform(),
  // and stops the transfer at the deadline from inside libcurl too.
  static int OnProgress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t ultotal,
                        curl_off_t ulnow) noexcept {
    auto* st = static_cast<State*>(user);
    const absl::Time now = absl::Now();
    st->ul_total = ultotal;
    if (dlnow != st->last_dl || ulnow != st->last_ul) {
      st->last_dl = dlnow;
      st->last_ul = ulnow;
      st->last_progress = now;
    }
    if (now >= st->deadline) {
      st->deadline_hit = true;
      return 1;
    }
    return 0;
  }

  std::optional<WireFailure> Classify(CURLcode rc, const HttpTransportOptions& opts,
                                      absl::Time start, absl::Time deadline) const {
    const bool before = !state_.any_reply;
    std::string detail = errbuf_[0] != '\0' ? std::string(errbuf_) : curl_easy_strerror(rc);
    if (!IsSafeFieldValue(detail)) detail = curl_easy_strerror(rc);
    const absl::Duration elapsed = absl::Now() - start;
    const std::string after =
        absl::StrCat("after ", absl::FormatDuration(absl::Trunc(elapsed, absl::Milliseconds(1))));
    if (state_.too_large) {
      return WireFailure{TransportFailure::kResponseTooLarge,
                         absl::StrCat("limit ", opts.max_response_bytes, " bytes"), false};
    }
    if (state_.out_of_memory) {
      return WireFailure{TransportFailure::kOutOfMemory, "while receiving the reply", false};
    }
    if (state_.head_too_large) {
      return WireFailure{TransportFailure::kMalformedReply, "header block over 65536 bytes", false};
    }
    switch (rc) {
      case CURLE_ABORTED_BY_CALLBACK:
        if (state_.read_timeout) return WireFailure{TransportFailure::kReadTimeout, after, before};
        if (state_.write_timeout) return WireFailure{TransportFailure::kWriteTimeout, after, before};
        return WireFailure{TransportFailure::kDeadline, after, before};
      case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connect_us = 0;
        curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (connect_us == 0 && opts.connect_timeout < deadline - start) {
          return WireFailure{TransportFailure::kConnectTimeout, after, true};
        }
        return WireFailure{TransportFailure::kDeadline, after, before};
      }
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_PROXY:
        return WireFailure{TransportFailure::kConnectRefused, detail, true};
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_ENGINE_INITFAILED:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      case CURLE_SSL_INVALIDCERTSTATUS:
        return WireFailure{TransportFailure::kTlsVerification, detail, true};
      case CURLE_UNSUPPORTED_PROTOCOL: {
        // After connecting this is a reply libcurl does not take for HTTP
        // (e.g. HTTP/0.9-looking bytes); before, a URL problem.
        curl_off_t connect_us = 0;
        curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (connect_us > 0) return WireFailure{TransportFailure::kMalformedReply, detail, false};
        return WireFailure{TransportFailure::kInvalidUrl, detail, true};
      }
      case CURLE_URL_MALFORMAT:
        return WireFailure{TransportFailure::kInvalidUrl, detail, true};
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_BAD_CONTENT_ENCODING:
      case CURLE_TOO_MANY_REDIRECTS:
        return WireFailure{TransportFailure::kMalformedReply, detail, false};
      case CURLE_OUT_OF_MEMORY:
        return WireFailure{TransportFailure::kOutOfMemory, detail, before};
      case CURLE_RECV_ERROR:
        // libcurl reports a broken chunked framing as a receive error; it
        // is a reply that is not valid HTTP, not a broken connection.
        if (absl::StrContains(detail, "chunked-encoding")) {
          return WireFailure{TransportFailure::kMalformedReply, detail, false};
        }
        return WireFailure{TransportFailure::kConnectionClosed, detail, before};
      default:
        return WireFailure{TransportFailure::kConnectionClosed, detail, before};
    }
  }

  CURL* easy_;
  CURLM* multi_;
  curl_slist* headers_ = nullptr;
  bool configured_ = false;
  bool used_ = false;
  curl_socket_t socket_ = CURL_SOCKET_BAD;
  std::string early_reply_;  // reply bytes found when a failed send closed the socket
  std::string url_;
  std::string line_;
  State state_;
  char errbuf_[CURL_ERROR_SIZE] = {};
};

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_CURL_ENGINE_H_
