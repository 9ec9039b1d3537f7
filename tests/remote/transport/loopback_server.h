// A cpp-httplib server on 127.0.0.1 (a free port it picks), run on its own
// thread for transport tests. Test-only: tests may use httplib directly.
#ifndef MAAS_TESTS_REMOTE_TRANSPORT_LOOPBACK_SERVER_H_
#define MAAS_TESTS_REMOTE_TRANSPORT_LOOPBACK_SERVER_H_

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace maas_test {

class LoopbackServer {
 public:
  // Plain HTTP server, keep-alive for up to 1000 requests per connection.
  LoopbackServer() : server_(std::make_unique<httplib::Server>()) { Configure(); }

  // TLS server with the given PEM certificate and key.
  LoopbackServer(const std::string& cert, const std::string& key)
      : server_(std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str())),
        scheme_("https") {
    Configure();
  }

  ~LoopbackServer() { Stop(); }

  httplib::Server& server() { return *server_; }

  // Binds to a free loopback port and serves on a thread; returns false if
  // the server could not start.
  bool Start() {
    if (!server_->is_valid()) return false;
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int i = 0; i < 500 && !server_->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return server_->is_running();
  }

  void Stop() {
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }

  int port() const { return port_; }
  std::string url() const { return absl::StrCat(scheme_, "://127.0.0.1:", port_); }

 private:
  void Configure() {
    server_->set_tcp_nodelay(true);
    server_->set_keep_alive_max_count(1000);
    // Idle connections close after 1 s, so Stop() never waits long.
    server_->set_keep_alive_timeout(1);
  }

  std::unique_ptr<httplib::Server> server_;
  std::string scheme_ = "http";
  int port_ = 0;
  std::thread thread_;
};

}  // namespace maas_test

#endif  // MAAS_TESTS_REMOTE_TRANSPORT_LOOPBACK_SERVER_H_
