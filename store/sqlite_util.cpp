#include "store/sqlite_util.hpp"

namespace cmdb::sqlite {

Status SqliteError(sqlite3* db, int rc) {
  std::string detail =
      std::string(" (sqlite: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) + ")";
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Status(
          StatusCode::kUnavailable,
          "the disk is full (or the database reached its size limit): the write was not applied;"
          " reads keep working" +
              detail);
    case SQLITE_READONLY:
      return Status(
          StatusCode::kUnavailable,
          "the database file is read-only: the write was not applied; reads keep working" + detail);
    case SQLITE_IOERR:
      return Status(StatusCode::kUnavailable,
                    "an I/O error hit the database: the write was not applied" + detail);
    default:
      return Status::Internal("sqlite error" + detail);
  }
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(db, rc);
}

}  // namespace cmdb::sqlite
