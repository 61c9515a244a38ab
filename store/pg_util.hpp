// Internal helpers of the PostgreSQL store (store/ only; the only header besides pg_*.cpp that
// includes libpq-fe.h): a connection, parameters, result rows and cursors.
// Every statement is sent with PQexecParams and bound parameters (binary, typed): no value is
// ever spliced into SQL text. Results come back as text (bytea in hex, decoded here).
// Thread safety: a Conn belongs to one thread at a time (the store guards each with a mutex).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/status.hpp"

namespace cmdb::pg {

// Bound parameters $1, $2, ... in order: int8, text (NULL with Nullable when empty) or bytea.
class Params {
 public:
  Params& Int(int64_t v);
  Params& Text(std::string v);
  Params& Nullable(std::string v);  // NULL when empty
  Params& Blob(std::string v);
  size_t size() const { return values_.size(); }

 private:
  friend class Conn;
  Params& Add(unsigned oid, std::string v, bool null);
  std::vector<std::string> values_;
  std::vector<unsigned> types_;
  std::vector<bool> nulls_;
};

// The rows of one statement (owns the PGresult).
class Rows {
 public:
  explicit Rows(PGresult* r = nullptr) : r_(r, &PQclear) {}
  int size() const { return r_ ? PQntuples(r_.get()) : 0; }
  // The number of rows an UPDATE/DELETE/INSERT touched.
  int64_t Affected() const;
  bool Null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // 0 for NULL.
  int64_t Int(int row, int col) const;
  std::string Text(int row, int col) const;
  // A bytea column, decoded from its hex text form.
  std::string Blob(int row, int col) const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

// One row of Rows: the accessor the record readers take.
struct Row {
  const Rows* rows;
  int row;
  bool Null(int c) const { return rows->Null(row, c); }
  int64_t Int(int c) const { return rows->Int(row, c); }
  std::string Text(int c) const { return rows->Text(row, c); }
  std::string Blob(int c) const { return rows->Blob(row, c); }
};

// A connection. Failed statements give a Status: a unique violation is kConflict, a lost or
// refused connection kUnavailable ("PostgreSQL database 'db' at host:port is unreachable: ..."),
// anything else kInternal naming the server and the statement's verb. A lost connection is reset
// before the next statement outside a transaction (or the next BEGIN), never inside one, so
// writes resume once the server is back.
class Conn {
 public:
  // Connects to `url` (a libpq connection URI or "key=value" string).
  static Result<std::unique_ptr<Conn>> Open(const std::string& url);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one statement with `params`.
  Result<Rows> Query(const std::string& sql, const Params& params = {});
  // Runs one statement (or, without params, several separated by ';'), ignoring its rows.
  Status Exec(const std::string& sql, const Params& params = {});
  // ROLLBACK, ignoring errors (after a failure inside a transaction).
  void Rollback();
  // Runs `copy_sql` ("COPY t(a, b) FROM STDIN", text format) and sends what `next` fills its
  // argument with (whole rows in COPY's text form) until it returns false, or an error: then the
  // COPY is aborted and that error returned. Inside a transaction the caller opened.
  Status CopyIn(const std::string& copy_sql, const std::function<Result<bool>(std::string&)>& next);

 private:
  explicit Conn(PGconn* c, std::string where) : conn_(c), where_(std::move(where)) {}
  // The Status of a failed statement (marks the connection broken when it was lost).
  Status Error(PGresult* r, const std::string& sql);
  // Resets a lost connection, unless a transaction is open on it.
  Status EnsureConnected();
  PGconn* conn_;
  bool in_tx_ = false;   // between a BEGIN that succeeded and COMMIT/ROLLBACK: never reset then
  bool broken_ = false;  // a statement failed for want of the server: reset before the next
  std::string where_;    // the server named in messages (host and port, never a password)
};

// Reads a query's rows in batches through a server-side cursor, inside the transaction that is
// open on `conn` (other statements may run on the connection between batches).
class Cursor {
 public:
  // `name` must be unique among the cursors open at once on the connection.
  Cursor(Conn& conn, std::string name, const std::string& sql, const Params& params = {});
  // Advances to the next row; false at the end or on an error (then status() says which).
  bool Next();
  Row row() const { return Row{&batch_, at_}; }
  const Status& status() const { return status_; }

 private:
  static constexpr int kBatch = 2000;
  Conn& conn_;
  std::string name_;
  Rows batch_;
  int at_ = -1;
  bool done_ = false;
  Status status_;
};

}  // namespace cmdb::pg
