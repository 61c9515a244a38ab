// The store's defences against a second server and against edits made to the SQLite file behind
// the server's back: the database lock, the keyed rows, the valid_to checks and the chain head.
#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
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
