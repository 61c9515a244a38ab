// HttpClient over cpp-httplib (the only unit of the shell that includes httplib.h).
#include "shell/http_client.hpp"

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>

namespace cmdb::shell {

struct HttpClient::Impl {
  std::unique_ptr<httplib::Client> client;
};

HttpClient::HttpClient(const std::string& url, std::string token, bool insecure_tls)
    : impl_(std::make_unique<Impl>()), url_(url), token_(std::move(token)) {
  // http[s]://HOST[:PORT][/prefix], HOST a name, an IPv4 address or [an IPv6 address].
  std::string scheme = url.rfind("https://", 0) == 0  ? "https"
                       : url.rfind("http://", 0) == 0 ? "http"
                                                      : "";
  std::string rest = scheme.empty() ? "" : url.substr(scheme.size() + 3);
  size_t slash = rest.find('/');
  std::string host_port = rest.substr(0, slash);
  prefix_ = slash == std::string::npos ? "" : rest.substr(slash);
  std::string host = host_port, port;
  if (!host_port.empty() && host_port[0] == '[') {
    size_t close = host_port.find(']');
    host = close == std::string::npos ? "" : host_port.substr(0, close + 1);
    port = close == std::string::npos ? "" : host_port.substr(close + 1);
  } else if (size_t colon = host_port.find(':'); colon != std::string::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon);
  }
  bool port_ok = port.empty() || (port.size() >= 2 && port.size() <= 6 && port[0] == ':' &&
                                  port.find_first_not_of("0123456789", 1) == std::string::npos);
  if (scheme.empty() || host.empty() || host == "[]" || !port_ok ||
      host.find_first_of(" \t@?#") != std::string::npos) {
    invalid_ = "--url: '" + url + "' is not http://HOST[:PORT] or https://HOST[:PORT]";
    return;
  }
  if (!port.empty() && std::stoi(port.substr(1)) > 65535) {
    invalid_ = "--url: the port of '" + url + "' is past 65535";
    return;
  }
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  impl_->client = std::make_unique<httplib::Client>(scheme + "://" + host + port);
  if (!impl_->client->is_valid()) {
    invalid_ = "--url: cannot use '" + url + "'";
    return;
  }
  impl_->client->enable_server_certificate_verification(!insecure_tls);
  impl_->client->set_connection_timeout(10, 0);
  impl_->client->set_keep_alive(true);
}

HttpClient::~HttpClient() = default;

bool HttpClient::Call(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& content_type, HttpAnswer* out, std::string* error,
                      int timeout_s,
                      const std::vector<std::pair<std::string, std::string>>& extra) {
  if (!invalid_.empty()) {
    *error = invalid_;
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(call_mutex_);
    ++call_number_;
    in_call_ = true;
    interrupted_ = false;
  }
  httplib::Client& client = *impl_->client;
  client.set_read_timeout(timeout_s, 0);
  client.set_write_timeout(timeout_s, 0);
  httplib::Headers headers;
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  for (const auto& [k, v] : extra) headers.emplace(k, v);
  std::string path = prefix_ + target;
  httplib::Result r = method == "GET"
                          ? client.Get(path.c_str(), headers)
                          : client.Post(path.c_str(), headers, body, content_type.c_str());
  bool interrupted;
  {
    std::lock_guard<std::mutex> lock(call_mutex_);
    in_call_ = false;
    interrupted = interrupted_;
  }
  if (!r && interrupted) {
    *error = "interrupted: the shell stopped waiting; the server may still finish the request";
    return false;
  }
  if (!r) {
    std::string why;
    switch (r.error()) {
      case httplib::Error::Connection:
        why = "cannot connect";
        break;
      case httplib::Error::ConnectionTimeout:
        why = "the connection timed out";
        break;
      case httplib::Error::Read:
        why = "no complete answer (the connection broke or timed out)";
        break;
      case httplib::Error::Write:
        why = "the request could not be sent";
        break;
      case httplib::Error::SSLConnection:
        why = "the TLS handshake failed";
        break;
      case httplib::Error::SSLServerVerification:
        why = "the server's certificate is not trusted (--insecure-tls skips the check)";
        break;
      default:
        why = httplib::to_string(r.error());
        break;
    }
    *error = "cannot reach " + url_ + ": " + why;
    return false;
  }
  out->status = r->status;
  out->body = r->body;
  out->content_type = r->get_header_value("Content-Type");
  return true;
}

void HttpClient::Interrupt(uint64_t call) {
  std::lock_guard<std::mutex> lock(call_mutex_);
  if (!in_call_ || call != call_number_ || !impl_->client) return;
  interrupted_ = true;
  impl_->client->stop();  // httplib: shuts the socket of the request in flight down
}

std::string UrlEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace cmdb::shell
