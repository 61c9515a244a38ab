// HttpServer: serves an Api over HTTP with cpp-httplib (the only file that includes httplib.h
// is http_server.cpp). Logs one line per request: time, method, path, status, duration.
// Thread safety: Serve() blocks the calling thread; Stop() may be called from any thread.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "api/api.hpp"

namespace cmdb::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Bind)
  int threads = 8;
  int read_timeout_s = 30;   // a slow client cannot hold a worker longer than this per read
  int write_timeout_s = 30;
  std::ostream* log = nullptr;  // request log; nullptr: none
  std::string tls_cert;  // PEM files; both set: serve HTTPS only
  std::string tls_key;
};

class HttpServer {
 public:
  // `api` must outlive the server.
  HttpServer(Api& api, ServerOptions options);
  ~HttpServer();

  // Fails when the TLS certificate or key cannot be loaded.
  Status Valid() const;
  // The same check before anything else starts (so a bad key changes nothing on disk).
  static Status CheckTls(const std::string& cert, const std::string& key);
  // Binds the listening socket; returns the bound port.
  Result<int> Bind();
  // Serves until Stop(). Call after Bind().
  void Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One HTTP(S) request from a command-line client (cmdbd import). `base` is "http://host:port" or
// "https://host:port" (the certificate is verified unless `insecure`). Returns the status and the
// body; transport failures are kUnavailable naming the address.
Result<std::pair<int, std::string>> HttpCall(const std::string& base, const std::string& method, const std::string& target,
                                             const std::vector<std::pair<std::string, std::string>>& headers,
                                             const std::string& body, bool insecure = false);

}  // namespace cmdb::api
