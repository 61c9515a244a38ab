#include "store/sqlite_rows.hpp"

namespace cmdb::sqlite {

Result<sqlite3*> OpenConnection(const std::string& path, bool sync_full) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Status st = Status::Internal("cannot open database '" + path + "': " + sqlite3_errmsg(db));
    sqlite3_close(db);
    return st;
  }
  sqlite3_busy_timeout(db, 10000);
  Status st = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=OFF;");
  if (st.ok()) st = Exec(db, sync_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
  if (!st.ok()) {
    sqlite3_close(db);
    return Status::Internal("cannot use database '" + path + "': " + st.message());
  }
  return db;
}

Status CheckFilePath(const std::string& path) {
  if (path.rfind("file:", 0) == 0)
    return Status::Invalid("the database path '" + path + "' starts with 'file:', which SQLite reads as a URI; give a "
                           "file path (for a file of that name: ./" + path + ")");
  return Status::Ok();
}

}  // namespace cmdb::sqlite
