// The change feed against the real cmdbd: GET /v1/feed pages, resumes and filters; the event
// stream read by a client on a real socket.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "integration/server_process.hpp"

using cmdb::testing::ServerProcess;
using cmdb::testing::TempDir;
using Json = nlohmann::json;

namespace {

Json Call(httplib::Client& c, const std::string& method, const std::string& path,
          const std::string& body, int expect) {
  httplib::Result r = method == "GET"     ? c.Get(path.c_str())
                      : method == "POST"  ? c.Post(path.c_str(), body, "application/json")
                      : method == "PATCH" ? c.Patch(path.c_str(), body, "application/json")
                                          : c.Delete(path.c_str());
  REQUIRE(r);
  INFO(method << " " << path << " -> " << r->body);
  CHECK(r->status == expect);
  return Json::parse(r->body);
}

}  // namespace

TEST_CASE("GET /v1/feed: every write in order, resumable, filtered", "[feed]") {
  std::string dir = TempDir("feed");
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
  auto c = server.Client();
  int64_t start = Call(c, "GET", "/v1/feed?limit=1000", "", 200)["next"];
  int64_t vm = Call(c, "POST", "/v1/cis",
                    R"({"class": "VirtualMachine", "attributes": {"name": "f1", "cpu_count": 1}})",
                    201)["id"];
  int64_t app = Call(c, "POST", "/v1/cis",
                     R"({"class": "Application", "attributes": {"name": "shop"}})", 201)["id"];
  Call(c, "PATCH", "/v1/cis/" + std::to_string(vm), R"({"cpu_count": 2})", 200);
  Call(c, "POST", "/v1/relationships",
       R"({"type": "DEPENDS_ON", "from": )" + std::to_string(app) + R"(, "to": )" +
           std::to_string(vm) + "}",
       201);
  Call(c, "DELETE", "/v1/cis/" + std::to_string(app), "", 200);

  Json all = Call(c, "GET", "/v1/feed?since=" + std::to_string(start), "", 200);
  REQUIRE(all["items"].size() >= 4);
  std::vector<std::string> ops;
  for (const Json& tx : all["items"]) {
    for (const Json& e : tx["entries"]) {
      ops.push_back(e["op"].get<std::string>() + " " + e["kind"].get<std::string>() + " " +
                    std::to_string(e["id"].get<int64_t>()));
    }
  }
  std::string v = std::to_string(vm), a = std::to_string(app);
  REQUIRE(ops.size() >= 5);
  CHECK(ops[0] == "created ci " + v);
  CHECK(ops[1] == "created ci " + a);
  CHECK(ops[2] == "updated ci " + v);
  CHECK(ops[3].rfind("created relationship ", 0) == 0);
  CHECK(all["items"][2]["entries"][0]["changes"] ==
        Json::parse(R"({"cpu_count": {"before": 1, "after": 2}})"));
  CHECK(all["items"][0]["hash"].is_string());
  CHECK(all["more"] == false);
  CHECK(all["next"] == all["head"]);

  // One at a time from the start gives the same transactions.
  int64_t since = start;
  std::vector<int64_t> seen;
  for (int i = 0; i < 20; ++i) {
    Json page = Call(c, "GET", "/v1/feed?limit=1&since=" + std::to_string(since), "", 200);
    for (const Json& tx : page["items"]) seen.push_back(tx["tx"]);
    since = page["next"];
    if (!page["more"].get<bool>()) break;
  }
  std::vector<int64_t> expected;
  for (const Json& tx : all["items"]) expected.push_back(tx["tx"]);
  CHECK(seen == expected);

  // A filter: Application only; the cursor still reaches the head.
  Json apps = Call(c, "GET", "/v1/feed?class=Application&since=" + std::to_string(start), "", 200);
  REQUIRE(apps["items"].size() == 2);
  CHECK(apps["items"][0]["entries"][0]["class"] == "Application");
  CHECK(apps["items"][1]["entries"][0]["op"] == "retired");
  CHECK(apps["next"] == all["head"]);
  Json none = Call(c, "GET", "/v1/feed?source=bulk&since=" + std::to_string(start), "", 200);
  CHECK(none["items"].empty());
  CHECK(none["next"] == all["head"]);

  // Refusals name what is wrong.
  CHECK(Call(c, "GET", "/v1/feed?class=Aplication", "", 400)["error"]["message"] ==
        "unknown class 'Aplication' (did you mean 'Application'?) in filter 'class'");
  CHECK(Call(c, "GET", "/v1/feed?since=-1", "", 400)["error"]["message"] ==
        "invalid since '-1': expected a non-negative integer");
  int64_t head = all["head"];
  CHECK(Call(c, "GET", "/v1/feed?since=" + std::to_string(head + 100), "", 400)["error"]["message"] ==
        "since " + std::to_string(head + 100) + " is past the last transaction " +
            std::to_string(head));
}

namespace {

// A Server-Sent Events client on a plain socket: sends the request, then decodes the chunked
// answer as it arrives.
class SseClient {
 public:
  SseClient(int port, const std::string& token, const std::string& target,
            const std::string& extra_headers = "") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                      "\r\nAccept: text/event-stream\r\n" + extra_headers + "\r\n";
    REQUIRE(::send(fd_, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  }
  ~SseClient() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Reads until the decoded body holds `text` (true) or `seconds` pass or the stream ends.
  bool WaitFor(const std::string& text, int seconds = 10) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (body_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > until || ended_) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        ended_ = true;
        continue;
      }
      raw_.append(buf, static_cast<size_t>(n));
      Decode();
    }
    return true;
  }
  const std::string& head() const { return head_; }
  const std::string& body() const { return body_; }
  // The ids of the events received, in order.
  std::vector<int64_t> Ids() const {
    std::vector<int64_t> ids;
    size_t at = 0;
    while ((at = body_.find("id: ", at)) != std::string::npos) {
      ids.push_back(std::stoll(body_.substr(at + 4)));
      at += 4;
    }
    return ids;
  }

 private:
  void Decode() {
    if (!in_body_) {
      size_t end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      head_ = raw_.substr(0, end);
      raw_.erase(0, end + 4);
      in_body_ = true;
      chunked_ = head_.find("Transfer-Encoding: chunked") != std::string::npos;
    }
    if (!chunked_) {
      body_ += raw_;
      raw_.clear();
      return;
    }
    for (;;) {
      size_t line = raw_.find("\r\n");
      if (line == std::string::npos) return;
      size_t size = std::stoul(raw_.substr(0, line), nullptr, 16);
      if (raw_.size() < line + 2 + size + 2) return;
      body_ += raw_.substr(line + 2, size);
      raw_.erase(0, line + 2 + size + 2);
      if (size == 0) ended_ = true;
    }
  }
  int fd_ = -1;
  std::string raw_, head_, body_;
  bool in_body_ = false;
  bool chunked_ = false;
  bool ended_ = false;
};

// A stream once the server takes it: a stream the test closed holds its slot until the server's
// next write to it fails (a heartbeat), so a refusal (503) is retried for a while.
std::unique_ptr<SseClient> OpenStream(int port, const std::string& token, const std::string& target,
                                      const std::string& extra_headers = "") {
  for (int i = 0; i < 100; ++i) {
    auto s = std::make_unique<SseClient>(port, token, target, extra_headers);
    if (s->WaitFor("retry: 1000", 5)) return s;
    REQUIRE(s->head().find(" 503 ") != std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("the stream was never accepted");
  return nullptr;
}

int64_t CreateVm(httplib::Client& c, const std::string& name) {
  Call(c, "POST", "/v1/cis",
       R"({"class": "VirtualMachine", "attributes": {"name": ")" + name + R"("}})", 201);
  return Call(c, "GET", "/v1/feed?limit=1", "", 200)["head"];  // the transaction just written
}

}  // namespace

TEST_CASE("GET /v1/feed/stream: events as they commit, heartbeats, resume after a disconnect",
          "[feed]") {
  std::string dir = TempDir("feed_stream");
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
  auto c = server.Client();
  int64_t head = Call(c, "GET", "/v1/feed?limit=1000", "", 200)["head"];
  std::vector<int64_t> written;
  written.push_back(CreateVm(c, "s0"));  // before the stream opens: read from the store
  {
    SseClient s(server.port(), server.token(),
                "/v1/feed/stream?heartbeat=1&since=" + std::to_string(head));
    REQUIRE(s.WaitFor("id: " + std::to_string(written[0]) + "\n"));
    CHECK(s.head().find("Content-Type: text/event-stream") != std::string::npos);
    written.push_back(CreateVm(c, "s1"));  // while it is open: pushed
    REQUIRE(s.WaitFor("id: " + std::to_string(written[1]) + "\n"));
    CHECK(s.WaitFor(": heartbeat\n\n", 5));
    CHECK(s.body().find("\"name\":{\"after\":\"s1\",\"before\":null}") != std::string::npos);
    CHECK(s.Ids() == written);
  }
  // Disconnected: two more writes, then resume from the last event seen.
  written.push_back(CreateVm(c, "s2"));
  written.push_back(CreateVm(c, "s3"));
  auto again = OpenStream(server.port(), server.token(), "/v1/feed/stream?heartbeat=1",
                          "Last-Event-ID: " + std::to_string(written[1]) + "\r\n");
  REQUIRE(again->WaitFor("id: " + std::to_string(written[3]) + "\n"));
  CHECK(again->Ids() == std::vector<int64_t>{written[2], written[3]});

  // A filter that keeps nothing of these writes sends only heartbeats.
  auto apps = OpenStream(server.port(), server.token(),
                         "/v1/feed/stream?heartbeat=1&class=Application&since=" + std::to_string(head));
  CHECK(apps->WaitFor(": heartbeat\n\n", 5));
  CHECK(apps->Ids().empty());

  // Two streams are open, half the server's four workers: a third is refused.
  auto third = c.Get("/v1/feed/stream");
  REQUIRE(third);
  CHECK(third->status == 503);
  CHECK(Json::parse(third->body)["error"]["message"] ==
        "too many feed streams are open (at most 2); try again later or read GET /v1/feed");
  // A bad start is a 400 before the stream opens.
  auto bad = c.Get("/v1/feed/stream", {{"Last-Event-ID", "abc"}});
  REQUIRE(bad);
  CHECK(bad->status == 400);
  // The server stops with streams open: each is told to resume, then closed.
  CHECK(server.Stop() == 0);
  CHECK(again->WaitFor("event: resume\n"));
}

TEST_CASE("Exports: CSV and NDJSON of GET /v1/cis and POST /v1/query; NDJSON loads back unchanged",
          "[feed]") {
  std::string dir = TempDir("export");
  ServerProcess server(dir + "/cmdb.sqlite");  // the demo estate
  auto c = server.Client();
  httplib::Headers ndjson{{"Accept", "application/x-ndjson"}};
  auto exported = c.Get("/v1/cis?class=Location", ndjson);
  REQUIRE(exported);
  REQUIRE(exported->status == 200);
  CHECK(exported->get_header_value("Content-Type") == "application/x-ndjson");
  CHECK(exported->get_header_value("Transfer-Encoding") == "chunked");
  size_t lines = std::count(exported->body.begin(), exported->body.end(), '\n');
  int64_t listed = 0;
  for (std::string cursor;;) {
    Json page = Call(c, "GET", "/v1/cis?class=Location&limit=1000" + cursor, "", 200);
    listed += static_cast<int64_t>(page["items"].size());
    if (page["next_cursor"].is_null()) break;
    cursor = "&cursor=" + page["next_cursor"].get<std::string>();
  }
  CHECK(static_cast<int64_t>(lines) == listed);
  REQUIRE(lines > 0);
  // Into the same server: nothing changes; into a fresh one: the same CIs, exported alike.
  Json same = Call(c, "POST", "/v1/bulk?refs=false", exported->body, 200);
  CHECK(same["cis"]["unchanged"] == lines);
  std::string dir2 = TempDir("export2");
  ServerProcess fresh(dir2 + "/cmdb.sqlite", {"--no-demo"});
  auto f = fresh.Client();
  Json loaded = Call(f, "POST", "/v1/bulk?refs=false", exported->body, 200);
  CHECK(loaded["cis"]["created"] == lines);
  auto again = f.Get("/v1/cis?class=Location", ndjson);
  REQUIRE(again);
  CHECK(again->body == exported->body);

  // CSV: a header, then a row per CI.
  auto csv = c.Get("/v1/cis?class=Rack", {{"Accept", "text/csv"}});
  REQUIRE(csv);
  CHECK(csv->get_header_value("Content-Type") == "text/csv; charset=utf-8");
  CHECK(csv->body.rfind("id,class,version,created_at,updated_at,", 0) == 0);
  Json racks = Call(c, "GET", "/v1/cis?class=Rack&limit=1000", "", 200);
  CHECK(static_cast<size_t>(std::count(csv->body.begin(), csv->body.end(), '\n')) ==
        racks["items"].size() + 1);
  auto q = c.Post("/v1/query", {{"Accept", "text/csv"}},
                  R"({"query": "MATCH (r:Rack) RETURN r.name AS name, 'a,b' AS x ORDER BY name LIMIT 2"})",
                  "application/json");
  REQUIRE(q);
  CHECK(q->status == 200);
  CHECK(q->body.rfind("name,x\r\n", 0) == 0);
  CHECK(q->body.find(",\"a,b\"\r\n") != std::string::npos);
  auto qn = c.Post("/v1/query", ndjson, R"({"query": "RETURN 1 AS one, [1, 2] AS l"})",
                   "application/json");
  REQUIRE(qn);
  CHECK(qn->body == "{\"l\":[1,2],\"one\":1}\n");
}
