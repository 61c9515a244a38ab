// Drives an HttpServer in-process over a socket pair: the bytes arrive as a client sent them
// (then the client closes its sending side) and everything the server answers is returned.
// Shared by the HTTP server tests and the `http` fuzz target. Empty answer when no socket pair
// can be made.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "api/http_server.hpp"

namespace cmdb::testing {

inline std::string ExchangeOverSocketPair(api::HttpServer& server, const std::string& bytes) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return "";
  std::string answer;
  std::thread client([&, fd = fds[0]] {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    char buf[16384];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<size_t>(n));
    ::close(fd);
  });
  server.ServeSocket(fds[1]);
  client.join();
  return answer;
}

}  // namespace cmdb::testing
