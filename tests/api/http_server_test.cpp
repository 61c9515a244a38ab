// The HTTP server on a socket pair, in-process: raw bytes in as a client sends them, raw answers
// out (request framing, incomplete bodies, pipelining, HEAD). The hostile suite
// (tests/hostile/) covers the same against a real cmdbd over TCP, with deadlines and caps.
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "api/api_client.hpp"
#include "api/http_server.hpp"
#include "socket_exchange.hpp"

using namespace cmdb;
using cmdb::testing::Client;

namespace {

std::string Exchange(api::HttpServer& server, const std::string& bytes) {
  return cmdb::testing::ExchangeOverSocketPair(server, bytes);
}

std::string Body(const std::string& answer) { return answer.substr(answer.find("\r\n\r\n") + 4); }
std::string StatusLine(const std::string& answer) { return answer.substr(0, answer.find("\r\n")); }

}  // namespace

TEST_CASE("a body shorter than its Content-Length is refused and nothing is applied") {
  Client c;
  api::HttpServer server(c.api, api::ServerOptions{});
  auto before = c.t.db->Read().tx();
  std::string body = R"({"class": "VirtualMachine", "attributes": {"name": "vm-half", "cpu_count": 2}})";
  std::string answer = Exchange(server, "POST /v1/cis HTTP/1.1\r\nAuthorization: Bearer " + c.tokens["admin"] +
                                            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                                            body.substr(0, 40));
  CHECK(StatusLine(answer) == "HTTP/1.1 400 Bad Request");
  CHECK(Body(answer) ==
        R"j({"error":{"code":"BadRequest","details":{"received":40},"message":"the request body ended after 40 of )j" +
            std::to_string(body.size()) +
            R"j( bytes (connection closed, too slow or malformed chunks); nothing was applied"}})j");
  CHECK(c.t.db->Read().tx() == before);
}

TEST_CASE("framing, token and body limit are checked before the body is read") {
  Client c;
  api::HttpServer server(c.api, api::ServerOptions{});
  std::string token = "Authorization: Bearer " + c.tokens["reader"] + "\r\n";
  CHECK(Body(Exchange(server, "POST /v1/query HTTP/1.1\r\n" + token + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n123456")) ==
        R"({"error":{"code":"BadRequest","details":{},"message":"conflicting Content-Length headers"}})");
  CHECK(Body(Exchange(server, "POST /v1/query HTTP/1.1\r\n" + token + "Content-Length: -1\r\n\r\n{}")) ==
        R"({"error":{"code":"BadRequest","details":{},"message":"invalid Content-Length '-1': expected a number of bytes"}})");
  CHECK(Body(Exchange(server, "POST /v1/query HTTP/1.1\r\n" + token + "Transfer-Encoding: gzip\r\n\r\n{}")) ==
        R"j({"error":{"code":"BadRequest","details":{},"message":"unsupported Transfer-Encoding 'gzip' (only chunked is accepted)"}})j");
  std::string big = Exchange(server, "POST /v1/query HTTP/1.1\r\n" + token + "Content-Length: 2000000\r\n\r\n{");
  CHECK(StatusLine(big) == "HTTP/1.1 413 Payload Too Large");
  CHECK(Body(big) ==
        R"({"error":{"code":"PayloadTooLarge","details":{"limit":1048576},"message":"request body of 2000000 bytes exceeds the limit of 1048576 bytes"}})");
  std::string anonymous = Exchange(server, "POST /v1/cis HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n{");
  CHECK(StatusLine(anonymous) == "HTTP/1.1 401 Unauthorized");
}

TEST_CASE("pipelined requests are answered in order; HEAD answers like GET without a body") {
  Client c;
  api::HttpServer server(c.api, api::ServerOptions{});
  std::string auth = "Authorization: Bearer " + c.tokens["reader"] + "\r\n";
  std::string get = Exchange(server, "GET /v1/cis/1 HTTP/1.1\r\n" + auth + "Connection: close\r\n\r\n");
  std::string answer = Exchange(server, "HEAD /v1/cis/1 HTTP/1.1\r\n" + auth + "\r\nGET /v1/cis/999999 HTTP/1.1\r\n" +
                                            auth + "\r\nGET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
  std::string length = "Content-Length: " + std::to_string(Body(get).size()) + "\r\n";
  size_t head_end = answer.find("\r\n\r\n") + 4;
  std::string head = answer.substr(0, head_end);
  CHECK(StatusLine(head) == "HTTP/1.1 200 OK");
  CHECK(head.find(length) != std::string::npos);
  std::string rest = answer.substr(head_end);  // no body after HEAD's headers
  CHECK(StatusLine(rest) == "HTTP/1.1 404 Not Found");
  CHECK(rest.find("HTTP/1.1 200 OK", 10) != std::string::npos);
}
