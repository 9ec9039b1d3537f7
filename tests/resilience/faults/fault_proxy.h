// A fault-injecting HTTP/1.1 proxy for the fault suite (test-only): it sits
// on a loopback port in front of a real inference server and, per the fault
// set by the test, forwards each request and reply unchanged, changes the
// reply (a transform of its body), or misbehaves: resets the connection in
// the middle of the body, stalls, drips the reply one byte at a time,
// answers a given HTTP status itself, cuts the body short, sends garbage, or
// declares a 2 GiB body and streams it. Replies from the server are read
// with maas' own HTTP/1.1 reader and written again with a Content-Length.
#ifndef MAAS_TESTS_RESILIENCE_FAULTS_FAULT_PROXY_H_
#define MAAS_TESTS_RESILIENCE_FAULTS_FAULT_PROXY_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "maas/remote/detail/http1_reply_reader.h"
#include "remote/transport/scripted_server.h"

namespace maas_test {

enum class Fault {
  kPass,          // forward unchanged
  kTransform,     // forward, with the reply body passed through `transform`
  kResetMidBody,  // half the reply, then a TCP reset
  kTruncate,      // the head with the full length, half the body, then close
  kStall,         // read the request, never answer
  kDrip,          // the whole reply, one byte every 20 ms
  kStatus,        // answer `status` with `headers` and `body` itself
  kGarbage,       // 200 with a body that is not JSON
  kHuge,          // 200 declaring a 2 GiB body, streaming it
};

struct FaultSpec {
  Fault fault = Fault::kPass;
  int status = 200;
  std::string headers;  // extra header lines, each ending in \r\n
  std::string body;
  std::function<std::string(const std::string&)> transform;
};

class FaultProxy {
 public:
  FaultProxy(std::string upstream_host, int upstream_port)
      : host_(std::move(upstream_host)), port_(upstream_port) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), len);
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    my_port_ = ntohs(a.sin_port);
    ::listen(listen_, 64);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~FaultProxy() {
    stop_ = true;
    acceptor_.join();
    ::close(listen_);
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);  // wakes blocked reads
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }

  void Set(FaultSpec spec) {
    std::lock_guard<std::mutex> lock(mu_);
    spec_ = std::move(spec);
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", my_port_); }

 private:
  class SocketSource final : public maas::detail::ByteSource {
   public:
    explicit SocketSource(int fd) : fd_(fd) {}
    std::optional<maas::detail::WireFailure> Read(char* dst, std::size_t cap, std::size_t* n,
                                                  bool) override {
      const ssize_t r = ::recv(fd_, dst, cap, 0);
      if (r < 0) return maas::detail::WireFailure{maas::TransportFailure::kConnectionClosed, "recv", false};
      *n = static_cast<std::size_t>(r);
      return std::nullopt;
    }

   private:
    int fd_;
  };

  FaultSpec Current() {
    std::lock_guard<std::mutex> lock(mu_);
    return spec_;
  }

  void Accept() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> lock(mu_);
      clients_.push_back(c);
      workers_.emplace_back([this, c] {
        Serve(c);
        {
          std::lock_guard<std::mutex> done(mu_);
          clients_.erase(std::find(clients_.begin(), clients_.end(), c));
        }
        ::close(c);
      });
    }
  }

  int ConnectUpstream() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    ::inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd);
      return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
  }

  static std::string Serialize(const maas::HttpResponse& r, const std::string& body) {
    std::string out = absl::StrCat("HTTP/1.1 ", r.status, " Proxied\r\n");
    for (const auto& h : r.headers.fields()) {
      if (absl::EqualsIgnoreCase(h.first, "Content-Length") ||
          absl::EqualsIgnoreCase(h.first, "Transfer-Encoding") ||
          absl::EqualsIgnoreCase(h.first, "Connection")) {
        continue;
      }
      absl::StrAppend(&out, h.first, ": ", h.second, "\r\n");
    }
    absl::StrAppend(&out, "Content-Length: ", body.size(), "\r\n\r\n", body);
    return out;
  }

  bool Sleep(int ms) const {
    for (int i = 0; i < ms && !stop_; i += 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return !stop_;
  }

  void Serve(int client) {
    int up = -1;
    maas::detail::Http1ReplyReader reader;
    while (!stop_) {
      const std::string request = ScriptedServer::ReadRequest(client);
      if (request.empty()) break;
      const FaultSpec spec = Current();
      if (spec.fault == Fault::kStall) {
        while (Sleep(50)) {
        }
        break;
      }
      if (spec.fault == Fault::kStatus || spec.fault == Fault::kGarbage) {
        const std::string body = spec.fault == Fault::kGarbage
                                     ? std::string("<html><body>502 upstream exploded</body></html>")
                                     : spec.body;
        ScriptedServer::WriteAll(
            client, absl::StrCat("HTTP/1.1 ", spec.fault == Fault::kGarbage ? 200 : spec.status,
                                 " Injected\r\nContent-Type: application/json\r\n", spec.headers,
                                 "Content-Length: ", body.size(), "\r\n\r\n", body));
        continue;
      }
      if (spec.fault == Fault::kHuge) {
        ScriptedServer::WriteAll(client,
                                 "HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n");
        const std::string chunk(64 << 10, '7');
        for (std::int64_t sent = 0; sent < (std::int64_t{2} << 30) && !stop_; sent += chunk.size()) {
          if (!ScriptedServer::WriteAll(client, chunk)) break;
        }
        break;
      }
      // The faults below need the server's real reply.
      if (up < 0) up = ConnectUpstream();
      if (up < 0 || !ScriptedServer::WriteAll(up, request)) break;
      SocketSource src(up);
      maas::HttpResponse reply;
      if (reader.Read(src, {}, &reply).has_value()) break;
      if (!reader.keep_alive()) {
        ::close(up);
        up = -1;
      }
      std::string body = reply.body;
      if (spec.fault == Fault::kTransform && spec.transform) body = spec.transform(body);
      const std::string wire = Serialize(reply, body);
      const std::size_t head_len = wire.size() - body.size();
      switch (spec.fault) {
        case Fault::kResetMidBody: {
          ScriptedServer::WriteAll(client, absl::string_view(wire).substr(0, head_len + body.size() / 2));
          linger l{1, 0};
          ::setsockopt(client, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
          if (up >= 0) ::close(up);
          return;  // close() with linger 0: RST
        }
        case Fault::kTruncate:
          ScriptedServer::WriteAll(client, absl::string_view(wire).substr(0, head_len + body.size() / 2));
          if (up >= 0) ::close(up);
          return;
        case Fault::kDrip:
          for (char c : wire) {
            if (!ScriptedServer::WriteAll(client, absl::string_view(&c, 1)) || !Sleep(20)) break;
          }
          break;
        default:
          ScriptedServer::WriteAll(client, wire);
      }
    }
    if (up >= 0) ::close(up);
  }

  std::string host_;
  int port_;
  int listen_ = -1;
  int my_port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  FaultSpec spec_;
  std::vector<int> clients_;
  std::vector<std::thread> workers_;
};

}  // namespace maas_test

#endif  // MAAS_TESTS_RESILIENCE_FAULTS_FAULT_PROXY_H_
