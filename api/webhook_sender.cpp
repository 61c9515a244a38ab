// libcurl and getaddrinfo for webhooks (see webhook_sender.hpp).
#include "api/webhook_sender.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

namespace cmdb::api {
namespace {

Status Refused(const std::string& why) {
  return Status::Invalid("webhook destination refused: " + why)
      .WithType("WebhookDestinationRefused");
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Splits "host", "host:port", "[v6]" or "[v6]:port"; port 0 when absent.
bool SplitHostPort(const std::string& entry, std::string& host, int& port) {
  std::string rest;
  if (!entry.empty() && entry[0] == '[') {
    size_t close = entry.find(']');
    if (close == std::string::npos) return false;
    host = entry.substr(1, close - 1);
    rest = entry.substr(close + 1);
  } else {
    size_t colon = entry.find(':');
    host = entry.substr(0, colon);
    rest = colon == std::string::npos ? "" : entry.substr(colon);
  }
  port = 0;
  if (!rest.empty()) {
    if (rest[0] != ':' || rest.size() < 2 || rest.size() > 6) return false;
    for (size_t i = 1; i < rest.size(); ++i)
      if (rest[i] < '0' || rest[i] > '9') return false;
    port = std::stoi(rest.substr(1));
    if (port < 1 || port > 65535) return false;
  }
  host = Lower(host);
  return !host.empty();
}

bool InternalV4(const unsigned char* a) {
  return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
         (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
         (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224;
}

bool InternalAddress(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    return InternalV4(reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a, kMapped, 12) == 0) return InternalV4(a + 12);
  bool zero_prefix = std::all_of(a, a + 15, [](unsigned char c) { return c == 0; });
  if (zero_prefix && (a[15] == 0 || a[15] == 1)) return true;  // :: and ::1
  return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
}

void InitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

Result<AllowList> AllowList::Parse(const std::string& text) {
  AllowList list;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string entry =
        Trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!entry.empty()) {
      std::string host;
      int port;
      if (entry != "*" && !SplitHostPort(entry, host, port))
        return Status::Invalid("--webhook-allow: bad entry '" + entry + "' (HOST, HOST:PORT or *)");
      list.entries.push_back(entry == "*" ? entry : Lower(entry));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return list;
}

Result<Destination> CheckDestination(const AllowList& allow, const std::string& url) {
  InitCurl();
  CURLU* u = curl_url();
  Destination d;
  char* part = nullptr;
  bool parsed = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
  if (parsed && curl_url_get(u, CURLUPART_SCHEME, &part, 0) == CURLUE_OK) {
    d.scheme = Lower(part);
    curl_free(part);
  }
  if (parsed && curl_url_get(u, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
    d.host = Lower(part);
    curl_free(part);
  }
  if (parsed && curl_url_get(u, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    d.port = std::atoi(part);
    curl_free(part);
  }
  bool has_user = parsed && curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK;
  if (has_user) curl_free(part);
  curl_url_cleanup(u);
  if (!parsed || (d.scheme != "http" && d.scheme != "https") || d.host.empty() || d.port == 0)
    return Refused("'" + url + "' is not an http:// or https:// URL");
  if (has_user) return Refused("'" + url + "' carries credentials; use the secret instead");
  if (d.host.size() > 2 && d.host.front() == '[') d.host = d.host.substr(1, d.host.size() - 2);
  bool any = false;
  for (const std::string& e : allow.entries) {
    if (e == "*") {
      any = true;
      continue;
    }
    std::string host;
    int port;
    if (SplitHostPort(e, host, port) && host == d.host && (port == 0 || port == d.port))
      d.listed = true;
  }
  if (!d.listed && !any)
    return Refused(d.host + ":" + std::to_string(d.port) + " is not in --webhook-allow");
  return d;
}

Status Resolve(Destination& dest) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(dest.host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return Status(StatusCode::kUnavailable,
                  "cannot resolve " + dest.host + ": " + gai_strerror(rc));
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* sa = res->ai_addr;
  bool internal = InternalAddress(sa);
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof text);
  bool v6 = sa->sa_family == AF_INET6;
  freeaddrinfo(res);
  if (internal && !dest.listed)
    return Refused(dest.host + " resolves to the internal address " + text +
                   " (name the host in --webhook-allow to allow it)");
  dest.pinned = v6 ? "[" + std::string(text) + "]" : std::string(text);
  return Status::Ok();
}

std::string RandomSecret() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string HmacSha256Hex(const std::string& secret, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

SendResult Send(const std::string& url, const Destination& dest,
                const std::vector<std::string>& headers, const std::string& body, int timeout_ms) {
  InitCurl();
  SendResult r;
  CURL* c = curl_easy_init();
  if (!c) {
    r.error = "cannot start libcurl";
    return r;
  }
  std::string pin = dest.host + ":" + std::to_string(dest.port) + ":" + dest.pinned;
  curl_slist* resolve = curl_slist_append(nullptr, pin.c_str());
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  auto start = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(c);
  r.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  r.status = status;
  if (rc != CURLE_OK) {
    r.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  } else if (status >= 300 && status < 400) {
    r.error = "HTTP " + std::to_string(status) + ": redirect not followed";
  } else if (status < 200 || status >= 300) {
    r.error = "HTTP " + std::to_string(status);
  }
  curl_slist_free_all(list);
  curl_slist_free_all(resolve);
  curl_easy_cleanup(c);
  return r;
}

}  // namespace cmdb::api
