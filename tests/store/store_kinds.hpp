// The stores the store test suite runs against: SQLite (a file in a temporary directory) and
// PostgreSQL (a fresh database on the harness's server, tests/store/pg_harness.hpp). Use
//   FOR_EACH_STORE(kind) { ... kind.Create("name") ... kind.Open(where) ... }
// inside a TEST_CASE: one Catch2 section per store. Without PostgreSQL 15 installed the suite
// runs on SQLite only and says so (a warning with the reason).
// Thread safety: test thread only.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/pg_harness.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"

namespace cmdb::testing {

struct StoreKind {
  std::string name;  // "SQLite" or "PostgreSQL"
  // A new, empty database; returns where it is (a file path or a URL).
  std::function<std::string(const std::string& name)> Create;
  // Opens the database at `where` (again and again: a restart).
  std::function<Result<std::unique_ptr<Store>>(const std::string& where)> Open;
  // Runs SQL on it behind the store's back (tampering tests).
  std::function<void(const std::string& where, const std::string& sql)> Sql;
  bool postgres = false;
};

inline std::vector<StoreKind> StoreKinds() {
  std::vector<StoreKind> kinds;
  StoreKind lite;
  lite.name = "SQLite";
  lite.Create = [](const std::string& name) {
    auto dir =
        std::filesystem::temp_directory_path() / ("cmdb_store_kinds_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / (name + ".sqlite")).string();
    for (const char* suffix : {"", "-wal", "-shm", ".key", ".lock"})
      std::filesystem::remove(path + suffix);
    return path;
  };
  lite.Open = [](const std::string& where) -> Result<std::unique_ptr<Store>> {
    auto s = SqliteStore::Open(where, SqliteOptions{.lock = DbLock::kNone});
    if (!s.ok()) return s.status();
    return std::unique_ptr<Store>(std::move(*s));
  };
  lite.Sql = [](const std::string& where, const std::string& sql) {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(where.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  };
  kinds.push_back(std::move(lite));
  PgServer* server = PgServer::Get();
  if (!server) {
    WARN(PgServer::SkipReason());
    return kinds;
  }
  StoreKind pg;
  pg.name = "PostgreSQL";
  pg.postgres = true;
  pg.Create = [server](const std::string& name) { return server->NewDatabase(name); };
  pg.Open = [](const std::string& where) -> Result<std::unique_ptr<Store>> {
    auto s = PgStore::Open(where);
    if (!s.ok()) return s.status();
    return std::unique_ptr<Store>(std::move(*s));
  };
  pg.Sql = [](const std::string& where, const std::string& sql) { PgServer::Sql(where, sql); };
  kinds.push_back(std::move(pg));
  return kinds;
}

}  // namespace cmdb::testing

// One Catch2 section per store kind, `kind` naming it inside.
#define FOR_EACH_STORE(kind)                                                   \
  for (const ::cmdb::testing::StoreKind& kind : ::cmdb::testing::StoreKinds()) \
  DYNAMIC_SECTION(kind.name)
