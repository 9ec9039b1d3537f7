// A raw TCP server on 127.0.0.1 for transport tests that need a server
// misbehaving on purpose: each accepted connection is handed to a script
// (a function of the socket and the connection's index) on its own thread.
// Test-only.
#ifndef MAAS_TESTS_REMOTE_TRANSPORT_SCRIPTED_SERVER_H_
#define MAAS_TESTS_REMOTE_TRANSPORT_SCRIPTED_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace maas_test {

class ScriptedServer {
 public:
  using Script = std::function<void(int fd, int connection)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~ScriptedServer() {
    stop_ = true;
    acceptor_.join();
    ::close(fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : workers_) t.join();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  int connections() const { return connections_.load(); }

  // ReadRequest()
  //
  // Reads one request (head, and a body of Content-Length bytes unless
  // `with_body` is false) from `fd`; "" when the peer closed first.
  static std::string ReadRequest(int fd, bool with_body = true) {
    std::string in;
    char buf[65536];
    std::size_t head_end = std::string::npos;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) return "";
      in.append(buf, static_cast<std::size_t>(n));
    }
    if (!with_body) return in.substr(0, head_end + 4);
    std::size_t length = 0;
    const std::string lower = absl::AsciiStrToLower(in.substr(0, head_end));
    const std::size_t cl = lower.find("content-length:");
    if (cl != std::string::npos) {
      const std::size_t eol = lower.find("\r\n", cl);
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(
                                 absl::string_view(lower).substr(cl + 15, eol - cl - 15)),
                             &length);
    }
    while (in.size() < head_end + 4 + length) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    return in;
  }

  // The request line's path ("/x") of a request read by ReadRequest().
  static std::string PathOf(const std::string& request) {
    const std::size_t a = request.find(' ');
    const std::size_t b = request.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos) return "";
    return request.substr(a + 1, b - a - 1);
  }

  static bool WriteAll(int fd, absl::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Sleeps in small steps; false when the server is stopping.
  bool Sleep(int ms) const {
    for (int i = 0; i < ms && !stop_; i += 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return !stop_;
  }
  bool stopping() const { return stop_; }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      const int index = connections_++;
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, c, index] {
        script_(c, index);
        ::close(c);
      });
    }
  }

  Script script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

}  // namespace maas_test

#endif  // MAAS_TESTS_REMOTE_TRANSPORT_SCRIPTED_SERVER_H_
