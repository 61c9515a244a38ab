// The webhook outbox of every store (SQLite, PostgreSQL) and the sender's checks (no network beyond loopback
// name resolution).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "api/webhook_sender.hpp"
#include "store/sqlite_store.hpp"
#include "store/store_kinds.hpp"
#include "test_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;

namespace {

Result<std::unique_ptr<Database>> OpenDb(Store* store) {
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  std::ostringstream log;
  return api::OpenDatabase(store, opts, log);
}

}  // namespace

TEST_CASE("webhooks: the outbox is written in the commit's transaction, in commit order, on every store",
          "[webhook]") {
  FOR_EACH_STORE(kind) {
  auto owned = kind.Open(kind.Create("outbox"));
  REQUIRE(owned.ok());
  Store* st = owned->get();
  auto* hooks = dynamic_cast<WebhookStore*>(st);
  REQUIRE(hooks);
  auto db = OpenDb(st);
  REQUIRE(db.ok());
  WebhookDef def;
  def.url = "http://127.0.0.1:9/x";
  def.secret = "0123456789abcdef";
  def.filter = "{}";
  auto hook = hooks->CreateWebhook(def);
  REQUIRE(hook.ok());
  int64_t id = hook->id;
  std::vector<std::string> hashes;  // what the router saw
  hooks->SetOutboxRouter([&](const WriteSet& ws, const TxRecord& tx) {
    std::vector<std::pair<int64_t, std::string>> out;
    hashes.push_back(tx.hash);
    if (ws.tx.actor != "quiet") out.emplace_back(id, "tx " + std::to_string(ws.tx.id));
    return out;
  });
  auto write = [&](const std::string& actor, const std::string& name) {
    return (*db)->Write(TxMeta{actor, "api"}, [&](Txn& t) {
      return t.CreateCi("VirtualMachine", Attrs({{"name", name}})).status();
    });
  };
  auto t1 = write("alice", "wh1");
  auto t2 = write("quiet", "wh2");
  auto t3 = write("bob", "wh3");
  REQUIRE((t1.ok() && t2.ok() && t3.ok()));
  // A write that fails (a duplicate KEY) enqueues nothing.
  CHECK(!write("carol", "wh1").ok());
  // A commit that fails in the store after the router ran leaves no event either.
  WriteSet dup;
  dup.tx = *t3;  // the same transaction id again: its log row cannot be inserted
  CHECK(!st->Commit(dup).ok());
  CHECK(*hooks->Backlog() == 2);
  // The router saw each transaction's hash as the log keeps it (SQLite's dup commit called it
  // too; PostgreSQL's refuses the dup at the head check, before the router).
  auto logged = st->Transactions(t1->id - 1, 3);
  REQUIRE((logged.ok() && logged->size() == 3 && hashes.size() >= 3));
  for (size_t i = 0; i < 3; ++i) CHECK(hashes[i] == (*logged)[i].hash);
  CHECK(!hashes[0].empty());

  auto heads = hooks->OutboxHeads();
  REQUIRE(heads.ok());
  REQUIRE(heads->size() == 1);
  CHECK((*heads)[0].tx == t1->id);
  CHECK((*heads)[0].body == "tx " + std::to_string(t1->id));

  DeliveryAttempt a;
  a.webhook_id = id;
  a.seq = (*heads)[0].seq;
  a.tx = t1->id;
  a.status = 503;
  a.error = "HTTP 503";
  REQUIRE(hooks->RecordAttempt(a, AttemptOutcome::kRetry, 42).ok());
  heads = hooks->OutboxHeads();
  CHECK(((*heads)[0].attempts == 1 && (*heads)[0].next_at == 42 && (*heads)[0].tx == t1->id));
  REQUIRE(hooks->RecordAttempt(a, AttemptOutcome::kDead, 0).ok());
  // Parked: the next event is the head now.
  heads = hooks->OutboxHeads();
  CHECK((*heads)[0].tx == t3->id);
  auto dead = hooks->DeadLetters(id);
  REQUIRE(dead->size() == 1);
  CHECK(((*dead)[0].attempts == 2 && (*dead)[0].last_error == "HTTP 503"));
  CHECK(*hooks->Redeliver(id, 0) == 1);
  heads = hooks->OutboxHeads();
  CHECK(((*heads)[0].tx == t1->id && (*heads)[0].attempts == 0));
  a.status = 204;
  a.error = "";
  REQUIRE(hooks->RecordAttempt(a, AttemptOutcome::kDelivered, 0).ok());
  CHECK(*hooks->Backlog() == 1);
  auto log = hooks->Deliveries(id, 10);
  REQUIRE(log->size() == 3);
  CHECK((*log)[0].status == 204);
  CHECK((*log)[2].error == "HTTP 503");
  REQUIRE(hooks->DeleteWebhook(id).ok());
  CHECK(*hooks->Backlog() == 0);
  CHECK(hooks->DeleteWebhook(id).message() == "no webhook " + std::to_string(id));
  hooks->SetOutboxRouter(nullptr);
}
}

TEST_CASE("webhooks: allow list, destinations and signatures", "[webhook]") {
  using namespace cmdb::api;
  CHECK(AllowList::Parse("a.example, b.example:8443 ,*")->entries.size() == 3);
  CHECK(AllowList::Parse("a.example:http").status().message() ==
        "--webhook-allow: bad entry 'a.example:http' (HOST, HOST:PORT or *)");
  AllowList allow = *AllowList::Parse("hooks.example.com:8443,127.0.0.1");
  CHECK(CheckDestination(allow, "https://hooks.example.com:8443/x").ok());
  auto other_port = CheckDestination(allow, "https://hooks.example.com/x");
  CHECK(other_port.status().message() ==
        "webhook destination refused: hooks.example.com:443 is not in --webhook-allow");
  CHECK(other_port.status().type() == "WebhookDestinationRefused");
  CHECK(CheckDestination(allow, "file:///etc/passwd").status().message() ==
        "webhook destination refused: 'file:///etc/passwd' is not an http:// or https:// URL");
  auto listed = CheckDestination(allow, "http://127.0.0.1:8080/");
  REQUIRE(listed.ok());
  CHECK(Resolve(*listed).ok());
  CHECK(listed->pinned == "127.0.0.1");
  // Through "*" only, an internal address is refused at send time.
  auto any = CheckDestination(*AllowList::Parse("*"), "http://127.0.0.1:8080/");
  REQUIRE(any.ok());
  CHECK(Resolve(*any).message() ==
        "webhook destination refused: 127.0.0.1 resolves to the internal address 127.0.0.1 "
        "(name the host in --webhook-allow to allow it)");
  for (const char* url : {"http://10.1.2.3/", "http://169.254.169.254/", "http://[::1]/",
                          "http://192.168.0.1/", "http://[fe80::1]/", "http://0.0.0.0/"}) {
    auto d = CheckDestination(*AllowList::Parse("*"), url);
    REQUIRE(d.ok());
    INFO(url);
    CHECK(!Resolve(*d).ok());
  }
  // RFC 4231, test case 2.
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
