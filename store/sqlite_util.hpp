// Internal helpers of the SQLite store (store/ only): errors, prepared statements, Exec.
// Thread safety: a Stmt belongs to its connection; use both from one thread at a time.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "cmdb/status.hpp"

namespace cmdb::sqlite {

// A Status for a failed SQLite call. A full disk, a read-only file and I/O errors are
// kUnavailable with a message that says what happened and that nothing was applied.
Status SqliteError(sqlite3* db, int rc);

// Runs `sql` (no parameters); OK or the SQLite error.
Status Exec(sqlite3* db, const char* sql);

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  // The statement itself, for reading columns by their SQLite type (the migration's copy).
  sqlite3_stmt* handle() const { return stmt_; }
  Status Error() const { return SqliteError(db_, sqlite3_extended_errcode(db_)); }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNullable(int i, const std::string& v) {
    if (v.empty())
      sqlite3_bind_null(stmt_, i);
    else
      Bind(i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  Status Run() {
    int rc = Step();
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return rc == SQLITE_DONE ? Status::Ok() : SqliteError(db_, rc);
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::string_view Blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

}  // namespace cmdb::sqlite
