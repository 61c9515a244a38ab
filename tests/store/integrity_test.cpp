// The store's defences against a second server and against edits made to the SQLite file behind
// the server's back: the database lock, the keyed rows, the valid_to checks and the chain head.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/bootstrap.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;

namespace {

// A fresh database path (with no lock, key, WAL or head files left from an earlier run).
std::string FreshDb(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cmdb_integrity_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  for (const char* suffix : {"", "-wal", "-shm", ".lock", ".key", ".head"}) {
    std::filesystem::remove(path + suffix);
  }
  return path;
}

}  // namespace

TEST_CASE("one server per database: a second opener fails at once, naming the file and pid") {
  std::string path = FreshDb("lock.sqlite");
  std::string expected = "database '" + path + "' is in use by another cmdbd (pid " +
                         std::to_string(::getpid()) + "; lock file '" + path + ".lock')";
  {
    auto first = SqliteStore::Open(path, SqliteOptions{.lock = DbLock::kAtOpen});
    REQUIRE(first.ok());
    auto second = SqliteStore::Open(path, SqliteOptions{.lock = DbLock::kAtOpen});
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == StatusCode::kConflict);
    CHECK(second.status().message() == expected);
    // A tool that works beside the server (the token command) opens the file; serving it fails.
    auto tool = SqliteStore::Open(path);
    REQUIRE(tool.ok());
    CHECK((*tool)->Info().ok());
    Status load = (*tool)->LoadCurrent([](CiRecord&&) {}, [](RelRecord&&) {});
    CHECK(load.message() == expected);
  }
  // The lock goes with the store that held it; the lock file stays behind, harmlessly.
  CHECK(std::filesystem::exists(path + ".lock"));
  auto again = SqliteStore::Open(path, SqliteOptions{.lock = DbLock::kAtOpen});
  REQUIRE(again.ok());
  CHECK((*again)->Lock().ok());  // held already: a no-op
}

TEST_CASE("one server per database: a symbolic or a hard link to the file finds the lock") {
  std::string path = FreshDb("linked.sqlite");
  std::string sym = FreshDb("symlink.sqlite"), hard = FreshDb("hardlink.sqlite");
  // The server is another process (a child holding the lock until told to stop).
  int ready[2], done[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(done) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // keeps only its ends of the pipes: a parent that fails and exits ends it
    ::close(ready[0]);
    ::close(done[1]);
    auto held = SqliteStore::Open(path, SqliteOptions{.lock = DbLock::kAtOpen});
    char c = held.ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1 || ::read(done[0], &c, 1) < 0) ::_exit(1);
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  std::filesystem::create_symlink(path, sym);
  std::filesystem::create_hard_link(path, hard);
  // The symbolic link resolves to the same lock file, which names the holder.
  auto via_symlink = SqliteStore::Open(sym, SqliteOptions{.lock = DbLock::kAtOpen});
  REQUIRE_FALSE(via_symlink.ok());
  CHECK(via_symlink.status().message() == "database '" + sym + "' is in use by another cmdbd (pid " +
                                              std::to_string(child) + "; lock file '" + path + ".lock')");
  // The hard link has a lock file of its own; the lock on the file itself stops it.
  auto via_hard_link = SqliteStore::Open(hard, SqliteOptions{.lock = DbLock::kAtOpen});
  REQUIRE_FALSE(via_hard_link.ok());
  CHECK(via_hard_link.status().code() == StatusCode::kConflict);
  CHECK(via_hard_link.status().message() ==
        "database '" + hard + "' is in use by another cmdbd that opened the same file under another name (a hard"
        " link): the file itself is locked, not only '" + hard + ".lock'");
  // A tool beside the server still opens the file under either name and reads it.
  {
    auto tool = SqliteStore::Open(hard);
    REQUIRE(tool.ok());
    CHECK((*tool)->Info().ok());
  }
  REQUIRE(::write(done[1], &c, 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(status == 0);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
  // The server gone, the file can be served under its other name, once in this process too.
  auto second = SqliteStore::Open(hard, SqliteOptions{.lock = DbLock::kAtOpen});
  REQUIRE(second.ok());
  auto third = SqliteStore::Open(path, SqliteOptions{.lock = DbLock::kAtOpen});
  REQUIRE_FALSE(third.ok());
  CHECK(third.status().message() ==
        "database '" + path + "' is in use by another cmdbd (pid " + std::to_string(::getpid()) +
            ") that opened the same file under another name (a hard link): the file itself is locked, not only '" +
            path + ".lock'");
}

namespace {

// Runs SQL on the database file as an outsider with the sqlite3 CLI would.
void Tamper(const std::string& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &error);
  INFO(sql << ": " << (error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(raw);
  REQUIRE(rc == SQLITE_OK);
}

// A database with the default schema (tx 1) and three transactions: two CIs created (tx 2),
// one of them updated (tx 3), a relationship between them (tx 4). Returns the CI ids.
std::pair<CiId, CiId> MakeHistory(const std::string& path) {
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  std::ostringstream log;
  auto db = api::OpenDatabase(store->get(), opts, log);
  REQUIRE(db.ok());
  CiId a = 0, b = 0;
  REQUIRE((*db)->Write(TxMeta{"alice", "api"}, [&](Txn& t) -> Status {
    a = *t.CreateCi("VirtualMachine", Attrs({{"name", "vm-a"}}));
    b = *t.CreateCi("VirtualMachine", Attrs({{"name", "vm-b"}}));
    return Status::Ok();
  }).ok());
  REQUIRE((*db)->Write(TxMeta{"alice", "api"}, [&](Txn& t) {
    return t.UpdateCi(a, {{"cpu_count", Value(int64_t{4})}}, std::nullopt);
  }).ok());
  REQUIRE((*db)->Write(TxMeta{"alice", "api"}, [&](Txn& t) {
    return t.CreateRel("DEPENDS_ON", a, b, {}).status();
  }).ok());
  return {a, b};
}

ChainReport Verify(const std::string& path, VerifyOptions options = {}) {
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto report = (*store)->VerifyChain(options);
  REQUIRE(report.ok());
  return *report;
}

ChainHead HeadOf(const std::string& path) {
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto head = (*store)->Head();
  REQUIRE(head.ok());
  return *head;
}

}  // namespace

TEST_CASE("verify names a current version closed by hand (valid_to set outside the log)") {
  std::string path = FreshDb("valid-to.sqlite");
  auto [a, b] = MakeHistory(path);
  REQUIRE(Verify(path).ok);
  // The outside tester's edit: CI b disappears at the next start, and the chain still holds.
  Tamper(path, "UPDATE ci_versions SET valid_to = 3 WHERE id = " + std::to_string(b) + " AND valid_to IS NULL");
  ChainReport report = Verify(path);
  CHECK_FALSE(report.ok);
  CHECK(report.first_broken == 0);  // the chain itself is intact
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].table == "ci_versions");
  CHECK(report.problems[0].row == "id=" + std::to_string(b) + " version=1 valid_from=2");
  CHECK(report.problems[0].reason ==
        "valid_to is 3, but no later version of CI " + std::to_string(b) +
            " exists (transaction 3 wrote none): the current version was closed outside the log");
  // Reopening an old version: two versions of CI a are open at once.
  Tamper(path, "UPDATE ci_versions SET valid_to = NULL WHERE id = " + std::to_string(b) +
                   "; UPDATE ci_versions SET valid_to = NULL WHERE id = " + std::to_string(a) + " AND version = 1");
  report = Verify(path);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].row == "id=" + std::to_string(a) + " version=1 valid_from=2");
  CHECK(report.problems[0].reason == "valid_to is NULL, but the next version of CI " + std::to_string(a) +
                                         " (version 2) was written by transaction 3");
}

TEST_CASE("verify with a head kept outside the database finds a truncated tail") {
  std::string path = FreshDb("tail.sqlite");
  auto [a, b] = MakeHistory(path);
  ChainHead head = HeadOf(path);
  CHECK(head.tx == 4);
  CHECK(FormatChainHead(head) == "4:" + head.hash);
  CHECK(Verify(path, VerifyOptions{head}).ok);
  // Remove the newest transaction with its versions, cleanly: nothing was closed by it, so the
  // file is consistent and the chain verifies without the head.
  Tamper(path, "DELETE FROM rel_versions WHERE valid_from = 4; DELETE FROM transactions WHERE id = 4");
  CHECK(Verify(path).ok);
  ChainReport report = Verify(path, VerifyOptions{head});
  CHECK_FALSE(report.ok);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].table == "transactions");
  CHECK(report.problems[0].row == "id=4");
  CHECK(report.problems[0].reason == "the head " + FormatChainHead(head) +
                                         " is no longer in the log, which ends at transaction 3: transactions"
                                         " were removed from its tail");
  // Truncating further, where versions were closed: the reopened one must be reopened by hand,
  // or verify names it even without the head.
  Tamper(path, "DELETE FROM ci_versions WHERE valid_from = 3; DELETE FROM transactions WHERE id = 3");
  report = Verify(path);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].row == "id=" + std::to_string(a) + " version=1 valid_from=2");
  CHECK(report.problems[0].reason == "valid_to is 3, but no later version of CI " + std::to_string(a) +
                                         " exists and the log ends at transaction 2: the current version was"
                                         " closed outside the log");
}

TEST_CASE("verify with a head finds a log rewritten from an earlier transaction on") {
  std::string path = FreshDb("rewritten.sqlite");
  MakeHistory(path);
  ChainHead head = HeadOf(path);
  Tamper(path, "UPDATE transactions SET hash = '" + std::string(64, 'a') + "' WHERE id = 4");
  ChainReport report = Verify(path, VerifyOptions{head});
  CHECK(report.first_broken == 4);
  REQUIRE(report.problems.size() == 2);
  CHECK(report.problems[0].table == "transactions");
  CHECK(report.problems[0].reason == "its content does not match its hash");
  CHECK(report.problems[1].reason == "the log's hash " + std::string(64, 'a') + " differs from the head's " +
                                         head.hash + ": the log was rewritten from this transaction on or before it");
}

TEST_CASE("chain heads parse as <tx>:<hash>") {
  auto head = ParseChainHead("12:" + std::string(64, 'A'));
  REQUIRE(head.ok());
  CHECK(head->tx == 12);
  CHECK(head->hash == std::string(64, 'a'));
  for (std::string bad : std::vector<std::string>{"", "12", ":abc", "x:" + std::string(64, 'a'), "12:" + std::string(63, 'a'),
                          "12:" + std::string(64, 'g'), "-1:" + std::string(64, 'a')}) {
    auto r = ParseChainHead(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "a chain head is <transaction id>:<64 hex digits>, not '" + bad + "'");
  }
}

TEST_CASE("verify names a schema_versions row whose version no longer matches its log entry") {
  std::string path = FreshDb("schema-version.sqlite");
  MakeHistory(path);
  // A higher number makes Info() pick this DDL as the current schema.
  Tamper(path, "UPDATE schema_versions SET version = 9 WHERE tx = 1");
  ChainReport report = Verify(path);
  REQUIRE(report.problems.size() >= 1);
  CHECK(report.problems[0].table == "schema_versions");
  CHECK(report.problems[0].row == "version=9 tx=1");
  CHECK(report.problems[0].reason == "version is 9, but transaction 1 logged schema version 1");
}

namespace {

// Options that collect the store's log lines.
SqliteOptions Logged(std::vector<std::string>& lines) {
  SqliteOptions options;
  options.log = [&lines](const std::string& line) { lines.push_back(line); };
  return options;
}

}  // namespace

TEST_CASE("a token row edited by hand is refused for authentication, logged, and named by verify") {
  std::string path = FreshDb("tokens.sqlite");
  MakeHistory(path);
  std::string secret_hash = Sha256Hex("cmdb_reader-secret");
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    TokenRecord t;
    t.name = "reader-bot";
    t.role = Role::kReader;
    t.hash = secret_hash;
    t.created_at = 1;
    REQUIRE((*store)->CreateToken(t).ok());
    REQUIRE((*store)->FindToken(secret_hash)->has_value());
  }
  REQUIRE(Verify(path).ok);
  // The outside tester's edit: the reader becomes admin.
  Tamper(path, "UPDATE tokens SET role = 'admin' WHERE name = 'reader-bot'");
  std::string line = "store: token 'reader-bot' (tokens row id=1) fails its keyed check: the row was changed or added"
                     " outside cmdbd; it is not accepted for authentication";
  std::vector<std::string> lines;
  {
    auto store = SqliteStore::Open(path, Logged(lines));
    REQUIRE(store.ok());
    REQUIRE(lines == std::vector<std::string>{line});  // named at start-up
    auto found = (*store)->FindToken(secret_hash);
    REQUIRE(found.ok());
    CHECK_FALSE(found->has_value());
    CHECK(lines.size() == 1);  // once
  }
  ChainReport report = Verify(path);
  CHECK_FALSE(report.ok);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].table == "tokens");
  CHECK(report.problems[0].row == "id=1 name=reader-bot");
  CHECK(report.problems[0].reason == "its keyed check fails: the row was changed outside cmdbd");
  // A row added by hand has no keyed check at all; revoking re-signs a row, which stays refused.
  Tamper(path, "INSERT INTO tokens(id, name, role, hash, created_at) VALUES (7, 'mallory', 'admin', '" +
                   Sha256Hex("cmdb_mallory") + "', 1)");
  {
    auto store = SqliteStore::Open(path, Logged(lines));
    REQUIRE(store.ok());
    CHECK_FALSE((*store)->FindToken(Sha256Hex("cmdb_mallory"))->has_value());
    REQUIRE((*store)->RevokeToken("reader-bot", 2).ok());
    CHECK_FALSE((*store)->FindToken(secret_hash)->has_value());
  }
  report = Verify(path);
  REQUIRE(report.problems.size() == 2);
  CHECK(report.problems[0].row == "id=7 name=mallory");
  CHECK(report.problems[0].reason == "it has no keyed check (mac is NULL): the row was added outside cmdbd");
  CHECK(report.problems[1].table == "tokens");  // and the table's keyed count no longer adds up
  CHECK(report.problems[1].row == "all rows");
  CHECK(report.problems[1].reason ==
        "the keyed count of its rows (meta key=keyed_rows) is 1, but 2 are stored: rows were added outside cmdbd");
}

namespace {

// What DELETE/POST /v1/tokens write to the log besides the token row (api/handlers_misc.cpp):
// a process record of kind "token" with the token's id, name, role and the event.
void LogTokenEvent(Database& db, const TokenRecord& token, const std::string& event) {
  REQUIRE(db.Write(TxMeta{"admin", "token"}, [&](Txn& txn) -> Status {
    DocRecord d;
    d.kind = "token";
    d.id = token.id;
    d.body.Set("name", Value(token.name));
    d.body.Set("role", Value(RoleName(token.role)));
    d.body.Set("event", Value(event));
    return txn.PutDoc(std::move(d), std::nullopt).status();
  }).ok());
}

std::unique_ptr<Database> OpenDb(Store* store) {
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  std::ostringstream log;
  auto db = api::OpenDatabase(store, opts, log);
  REQUIRE(db.ok());
  return std::move(*db);
}

}  // namespace

TEST_CASE("a revoked token restored from a backup's row is refused and named by verify") {
  std::string path = FreshDb("revived.sqlite");
  std::string backup = FreshDb("revived-backup.sqlite");
  MakeHistory(path);
  std::string secret_hash = Sha256Hex("cmdb_victim-secret");
  TokenRecord victim;
  ChainHead stop_head;
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    auto db = OpenDb(store->get());
    TokenRecord t;
    t.name = "victim";
    t.role = Role::kAdmin;
    t.hash = secret_hash;
    t.created_at = 1;
    auto created = (*store)->CreateToken(t);
    REQUIRE(created.ok());
    victim = *created;
    LogTokenEvent(*db, victim, "created with role admin");
    REQUIRE(SqliteStore::Backup(path, backup).ok());
    REQUIRE((*store)->RevokeToken("victim", 2).ok());
    LogTokenEvent(*db, victim, "revoked");  // transaction 6
    stop_head = *(*store)->Head();
  }
  REQUIRE(Verify(path, VerifyOptions{stop_head}).ok);
  // The outside tester's edit: the row from before the revocation, with the mac it had then.
  Tamper(path, "ATTACH '" + backup + "' AS b; DELETE FROM tokens WHERE name = 'victim';"
               " INSERT INTO tokens SELECT * FROM b.tokens WHERE name = 'victim'");
  std::string why = "it is valid, but the log revoked it in transaction 6: the row was restored outside cmdbd"
                    " (a revocation cannot be undone)";
  std::vector<std::string> lines;
  {
    auto store = SqliteStore::Open(path, Logged(lines));
    REQUIRE(store.ok());
    REQUIRE(lines.size() == 2);  // named at start-up, with the table's digest
    CHECK(lines[0] == "store: token 'victim' (tokens row id=" + std::to_string(victim.id) +
                          ") does not match the transaction log: " + why + "; it is not accepted for authentication");
    CHECK(lines[1] == "store: the tokens table of database '" + path +
                          "': its rows do not match their keyed digest (meta key=keyed_rows): a row was replaced"
                          " outside cmdbd (e.g. by an earlier copy of itself)");
    auto found = (*store)->FindToken(secret_hash);
    REQUIRE(found.ok());
    CHECK_FALSE(found->has_value());
    CHECK(lines.size() == 2);  // once
  }
  ChainReport report = Verify(path, VerifyOptions{stop_head});
  CHECK_FALSE(report.ok);
  REQUIRE(report.problems.size() == 2);
  CHECK(report.problems[0].table == "tokens");
  CHECK(report.problems[0].row == "id=" + std::to_string(victim.id) + " name=victim");
  CHECK(report.problems[0].reason == why);
  CHECK(report.problems[1].table == "tokens");
  CHECK(report.problems[1].row == "all rows");
  CHECK(report.problems[1].reason == "its rows do not match their keyed digest (meta key=keyed_rows): a row was"
                                     " replaced outside cmdbd (e.g. by an earlier copy of itself)");
  // With the row gone for good, a new token does not take the id the log has records of.
  Tamper(path, "DELETE FROM tokens WHERE name = 'victim'");
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  TokenRecord next;
  next.name = "next";
  next.hash = Sha256Hex("cmdb_next");
  auto created = (*store)->CreateToken(next);
  REQUIRE(created.ok());
  CHECK(created->id == victim.id + 1);
  CHECK((*store)->FindToken(next.hash)->has_value());
}

TEST_CASE("deleted keyed rows are found: provenance, the mode, the key check, the digest itself") {
  std::string path = FreshDb("deleted.sqlite");
  auto [a, b] = MakeHistory(path);
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    WriteSet ws;
    ws.tx.id = 5;
    ws.tx.time = 5;
    ws.tx.actor = "alice";
    ws.tx.source = "api";
    ws.provenance.push_back(Provenance{false, a, "manual", 5, false, Attrs({{"name", Value(int64_t{5})}})});
    ws.provenance.push_back(Provenance{false, a, "nmap", 5, false, Attrs({{"cpu_count", Value(int64_t{5})}})});
    ws.provenance.push_back(Provenance{false, b, "nmap", 5, false, Attrs({{"name", Value(int64_t{5})}})});
    REQUIRE((*store)->Commit(ws).ok());
    ws.tx.id = 6;  // a rewrite of one row: the digest follows
    ws.provenance.resize(1);
    ws.provenance[0].last_seen = 6;
    REQUIRE((*store)->Commit(ws).ok());
  }
  REQUIRE(Verify(path).ok);
  // The 'manual' ownership of CI a's name goes: a weaker source could overwrite it.
  Tamper(path, "DELETE FROM provenance WHERE id = " + std::to_string(a) + " AND source = 'manual'");
  ChainReport report = Verify(path);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].table == "provenance");
  CHECK(report.problems[0].row == "all rows");
  CHECK(report.problems[0].reason ==
        "the keyed count of its rows (meta key=keyed_rows) is 3, but 2 are stored: rows were deleted outside cmdbd");
  {
    std::vector<std::string> lines;
    auto store = SqliteStore::Open(path, Logged(lines));
    REQUIRE(store.ok());
    REQUIRE((*store)->LoadProvenance([](Provenance&&) {}).ok());
    CHECK(lines == std::vector<std::string>{
                       "store: the provenance table of database '" + path + "': " + report.problems[0].reason +
                       "; an attribute's owner may be missing, so a weaker source could overwrite it"});
  }
  // The mode: a restart would initialize it again, in whatever mode it is asked for.
  Tamper(path, "DELETE FROM meta WHERE key = 'mode'");
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    auto info = (*store)->Info();
    REQUIRE_FALSE(info.ok());
    CHECK(info.status().message() == "the meta row 'mode' of database '" + path +
                                         "' is missing, but its log holds 6 transactions: it was deleted outside"
                                         " cmdbd; not serving it (restore the database from a backup)");
  }
  report = Verify(path);
  REQUIRE(report.problems.size() == 3);  // and the provenance row, still
  CHECK(report.problems[0].table == "meta");
  CHECK(report.problems[0].row == "key=mode");
  CHECK(report.problems[0].reason == "it is missing, but the log holds 6 transactions: it was deleted outside cmdbd");
  CHECK(report.problems[1].table == "provenance");
  CHECK(report.problems[2].table == "meta");
  CHECK(report.problems[2].row == "all rows");
  CHECK(report.problems[2].reason ==
        "the keyed count of its rows (meta key=keyed_rows) is 1, but 0 are stored: rows were deleted outside cmdbd");
  // The digest itself.
  Tamper(path, "DELETE FROM meta WHERE key = 'keyed_rows'");
  {
    std::vector<std::string> lines;
    auto store = SqliteStore::Open(path, Logged(lines));
    REQUIRE(store.ok());
    CHECK(lines == std::vector<std::string>{"store: the meta row 'keyed_rows' of database '" + path +
                                            "' is missing (outside cmdbd): deleted token, provenance and meta rows"
                                            " cannot be detected; GET /v1/transactions/verify reports it"});
  }
  report = Verify(path);
  REQUIRE(report.problems.size() == 2);
  CHECK(report.problems[1].table == "meta");
  CHECK(report.problems[1].row == "key=keyed_rows");
  CHECK(report.problems[1].reason == "it is missing: it was deleted outside cmdbd (deleted token, provenance and"
                                     " meta rows can no longer be counted)");
  // The key check: without it the rows would be counted again as found.
  Tamper(path, "DELETE FROM meta WHERE key = 'key_check'");
  auto refused = SqliteStore::Open(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        "database '" + path + "' has a key file ('" + path + ".key') but no key check (the meta row 'key_check' is"
        " missing): it was deleted outside cmdbd; restore the database from a backup, or start with a new key to"
        " sign its tokens, provenance and meta rows as they are");
}

TEST_CASE("a provenance row edited by hand is named by verify and not loaded") {
  std::string path = FreshDb("provenance.sqlite");
  auto [a, b] = MakeHistory(path);
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    WriteSet ws;
    ws.tx.id = 5;
    ws.tx.time = 5;
    ws.tx.actor = "import:nmap";
    ws.tx.source = "import";
    ws.provenance.push_back(Provenance{false, a, "nmap", 123, false, Attrs({{"name", Value(int64_t{123})}})});
    ws.provenance.push_back(Provenance{false, b, "nmap", 123, false, Attrs({{"name", Value(int64_t{123})}})});
    REQUIRE((*store)->Commit(ws).ok());
  }
  REQUIRE(Verify(path).ok);
  Tamper(path, "UPDATE provenance SET stale = 1 WHERE id = " + std::to_string(b));
  ChainReport report = Verify(path);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].table == "provenance");
  CHECK(report.problems[0].row == "ci=" + std::to_string(b) + " source=nmap");
  CHECK(report.problems[0].reason == "its keyed check fails: the row was changed outside cmdbd");
  std::vector<std::string> lines;
  auto store = SqliteStore::Open(path, Logged(lines));
  REQUIRE(store.ok());
  std::vector<CiId> loaded;
  REQUIRE((*store)->LoadProvenance([&](Provenance&& p) { loaded.push_back(p.id); }).ok());
  CHECK(loaded == std::vector<CiId>{a});
  CHECK(lines == std::vector<std::string>{"store: 1 provenance rows fail their keyed check (changed outside cmdbd) and"
                                          " were not loaded; GET /v1/transactions/verify names them"});
}

TEST_CASE("a meta row edited by hand stops the server from serving the database") {
  std::string path = FreshDb("meta.sqlite");
  MakeHistory(path);
  Tamper(path, "UPDATE meta SET value = 'open' WHERE key = 'mode'");
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto info = (*store)->Info();
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().message() == "the meta row 'mode' of database '" + path +
                                       "' fails its keyed check (it was changed outside cmdbd): not serving it;"
                                       " GET /v1/transactions/verify names every such row");
  ChainReport report = Verify(path);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].table == "meta");
  CHECK(report.problems[0].row == "key=mode");
}

TEST_CASE("a database from before keyed rows is signed once, as found; a lost key is refused") {
  std::string path = FreshDb("legacy.sqlite");
  MakeHistory(path);
  {
    auto store = SqliteStore::Open(path);
    TokenRecord t;
    t.name = "admin";
    t.role = Role::kAdmin;
    t.hash = Sha256Hex("cmdb_admin");
    REQUIRE((*store)->CreateToken(t).ok());
  }
  // What the previous version left: no mac columns, no key check, no key file.
  Tamper(path, "ALTER TABLE tokens DROP COLUMN mac; ALTER TABLE provenance DROP COLUMN mac;"
               " ALTER TABLE meta DROP COLUMN mac; DELETE FROM meta WHERE key = 'key_check'");
  std::filesystem::remove(path + ".key");
  std::vector<std::string> lines;
  {
    auto store = SqliteStore::Open(path, Logged(lines));
    REQUIRE(store.ok());
    CHECK((*store)->FindToken(Sha256Hex("cmdb_admin"))->has_value());
    CHECK((*store)->Info().ok());
  }
  CHECK(lines == std::vector<std::string>{"store: signed 2 token, provenance and meta rows of database '" + path +
                                          "' with its first key (" + path + ".key): they are trusted as they were"
                                          " found"});
  CHECK(Verify(path).ok);
  // Deleting the key file cannot get an edited row trusted again.
  std::filesystem::remove(path + ".key");
  auto refused = SqliteStore::Open(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        "database '" + path + "' is keyed, but its key file '" + path + ".key' is missing: restore it (backups keep a"
        " copy next to the backup), or start with a new key to sign its tokens, provenance and meta rows as they are");
  // ... unless the operator asks for a new key, which is logged.
  lines.clear();
  SqliteOptions renew = Logged(lines);
  renew.new_key = true;
  REQUIRE(SqliteStore::Open(path, renew).ok());
  CHECK(lines.size() == 1);
  CHECK(lines[0].find("with a new key") != std::string::npos);
  CHECK(Verify(path).ok);
}

TEST_CASE("a backup carries its chain head and the key next to it") {
  std::string path = FreshDb("backed-up.sqlite");
  MakeHistory(path);
  std::string dest = FreshDb("the-backup.sqlite");
  REQUIRE(SqliteStore::Backup(path, dest).ok());
  std::ifstream head_file(dest + ".head");
  std::string head;
  head_file >> head;
  CHECK(head == FormatChainHead(HeadOf(path)));
  CHECK(Verify(dest, VerifyOptions{*ParseChainHead(head)}).ok);  // opens with the copied key
  CHECK((std::filesystem::status(dest + ".key").permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
}
