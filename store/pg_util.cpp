#include "store/pg_util.hpp"

#include <endian.h>

#include <cstdlib>
#include <cstring>

namespace cmdb::pg {

namespace {

constexpr unsigned kInt8Oid = 20, kTextOid = 25, kByteaOid = 17;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// The first line of a libpq message (it may hold the same error twice, with hints).
std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// "host H port P" of a connection, for messages (never the password).
std::string Where(PGconn* c) {
  std::string host = PQhost(c) ? PQhost(c) : "", port = PQport(c) ? PQport(c) : "";
  std::string db = PQdb(c) ? PQdb(c) : "";
  return "PostgreSQL database '" + db + "' at " + host + (port.empty() ? "" : ":" + port);
}

}  // namespace

Params& Params::Add(unsigned oid, std::string v, bool null) {
  values_.push_back(std::move(v));
  types_.push_back(oid);
  nulls_.push_back(null);
  return *this;
}

Params& Params::Int(int64_t v) {
  uint64_t be = htobe64(static_cast<uint64_t>(v));
  std::string bytes(sizeof be, '\0');
  std::memcpy(bytes.data(), &be, sizeof be);
  return Add(kInt8Oid, std::move(bytes), false);
}

Params& Params::Text(std::string v) { return Add(kTextOid, std::move(v), false); }

Params& Params::Nullable(std::string v) {
  bool null = v.empty();
  return Add(kTextOid, std::move(v), null);
}

Params& Params::Blob(std::string v) { return Add(kByteaOid, std::move(v), false); }

int64_t Rows::Affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

int64_t Rows::Int(int row, int col) const {
  if (Null(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col), PQgetlength(r_.get(), row, col));
}

std::string Rows::Blob(int row, int col) const {
  const char* p = PQgetvalue(r_.get(), row, col);
  size_t n = static_cast<size_t>(PQgetlength(r_.get(), row, col));
  if (n < 2 || p[0] != '\\' || p[1] != 'x') return std::string();  // bytea_output is hex
  std::string out((n - 2) / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(HexDigit(p[2 + 2 * i]) << 4 | HexDigit(p[3 + 2 * i]));
  return out;
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (!c) return Status(StatusCode::kUnavailable, "cannot connect to PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = FirstLine(PQerrorMessage(c));
    PQfinish(c);
    return Status(StatusCode::kUnavailable, "cannot connect to PostgreSQL: " + why);
  }
  std::unique_ptr<Conn> conn(new Conn(c, Where(c)));
  // Quiet notices ("relation already exists, skipping") and a fixed bytea text form.
  CMDB_RETURN_IF_ERROR(conn->Exec("SET client_min_messages = warning; SET bytea_output = 'hex'"));
  return conn;
}

Conn::~Conn() { PQfinish(conn_); }

Status Conn::EnsureConnected() {
  // Outside a transaction, a connection the server closed meanwhile (a restart) is found before
  // a statement is sent on it, by an empty statement: one round trip (tens of microseconds on a
  // local socket) that makes the next statement's failure mean the server failed during it.
  if (!in_tx_ && PQstatus(conn_) == CONNECTION_OK && !broken_) {
    PGresult* ping = PQexec(conn_, "");
    if (!ping || PQresultStatus(ping) != PGRES_EMPTY_QUERY) broken_ = true;
    PQclear(ping);
  }
  if (PQstatus(conn_) == CONNECTION_OK && !broken_) return Status::Ok();
  // Never inside a transaction: the statements after a reset would run outside it, each on its
  // own. The transaction fails; the caller's ROLLBACK ends it and the next BEGIN reconnects.
  if (in_tx_) {
    return Status(StatusCode::kUnavailable,
                  where_ + " is unreachable: the connection was lost inside a transaction");
  }
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status(StatusCode::kUnavailable,
                  where_ + " is unreachable: " + FirstLine(PQerrorMessage(conn_)));
  }
  broken_ = false;
  return Exec("SET client_min_messages = warning; SET bytea_output = 'hex'");
}

Status Conn::Error(PGresult* r, const std::string& sql) {
  std::string why = FirstLine(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  if (code == "23505") return Status::Conflict(why);
  // No SQLSTATE: the client's own error (the server went away mid-statement); class 08 and
  // admin shutdown: the server's. The connection is reset before its next use.
  if (PQstatus(conn_) != CONNECTION_OK || code.empty() || code.rfind("08", 0) == 0 ||
      code.rfind("57P", 0) == 0) {
    broken_ = true;
    return Status(StatusCode::kUnavailable, where_ + " is unreachable: " + why);
  }
  size_t verb = sql.find_first_not_of(" \n");
  std::string head =
      verb == std::string::npos ? "" : sql.substr(verb, sql.find_first_of(" (\n", verb) - verb);
  return Status::Internal(where_ + ": " + head + " failed: " + why);
}

Result<Rows> Conn::Query(const std::string& sql, const Params& p) {
  bool begin = sql.rfind("BEGIN", 0) == 0;
  if (begin) in_tx_ = false;  // a new transaction: the last moment a reset is safe
  CMDB_RETURN_IF_ERROR(EnsureConnected());
  std::vector<const char*> values(p.size());
  std::vector<int> lengths(p.size()), formats(p.size(), 1);
  std::vector<Oid> types(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    values[i] = p.nulls_[i] ? nullptr : p.values_[i].data();
    lengths[i] = static_cast<int>(p.values_[i].size());
    types[i] = p.types_[i];
  }
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(p.size()), types.data(),
                             values.data(), lengths.data(), formats.data(), 0);
  Rows rows(r);
  if (sql == "COMMIT" || sql == "ROLLBACK") in_tx_ = false;
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Error(r, sql);
  if (begin) in_tx_ = true;
  return rows;
}

Status Conn::Exec(const std::string& sql, const Params& params) {
  if (params.size() > 0 || sql.find(';') == std::string::npos) return Query(sql, params).status();
  // Several statements: the simple protocol (constant DDL and settings only, never values;
  // never BEGIN or COMMIT).
  CMDB_RETURN_IF_ERROR(EnsureConnected());
  PGresult* r = PQexec(conn_, sql.c_str());
  Rows rows(r);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Error(r, sql);
  return Status::Ok();
}

void Conn::Rollback() {
  in_tx_ = false;
  if (PQstatus(conn_) != CONNECTION_OK) return;
  PQclear(PQexec(conn_, "ROLLBACK"));
}

Status Conn::CopyIn(const std::string& copy_sql,
                    const std::function<Result<bool>(std::string&)>& next) {
  CMDB_RETURN_IF_ERROR(EnsureConnected());
  {
    PGresult* r = PQexec(conn_, copy_sql.c_str());
    Rows started(r);
    if (!r || PQresultStatus(r) != PGRES_COPY_IN) return Error(r, copy_sql);
  }
  Status failed;
  std::string chunk;
  for (;;) {
    chunk.clear();
    Result<bool> more = next(chunk);
    if (!more.ok()) {
      failed = more.status();
      break;
    }
    if (!chunk.empty() &&
        PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) != 1) {
      failed = Error(nullptr, copy_sql);
      break;
    }
    if (!*more) break;
  }
  PQputCopyEnd(conn_, failed.ok() ? nullptr : "aborted by the sender");
  Status result;
  while (PGresult* r = PQgetResult(conn_)) {
    Rows done(r);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && result.ok()) result = Error(r, copy_sql);
  }
  return failed.ok() ? result : failed;
}

Cursor::Cursor(Conn& conn, std::string name, const std::string& sql, const Params& params)
    : conn_(conn), name_(std::move(name)) {
  status_ = conn_.Exec("DECLARE " + name_ + " NO SCROLL CURSOR FOR " + sql, params);
  if (!status_.ok()) done_ = true;
}

bool Cursor::Next() {
  if (++at_ < batch_.size()) return true;
  if (done_) return false;
  auto r = conn_.Query("FETCH " + std::to_string(kBatch) + " FROM " + name_);
  if (!r.ok()) {
    status_ = r.status();
    done_ = true;
    return false;
  }
  batch_ = std::move(*r);
  at_ = 0;
  if (batch_.size() < kBatch) done_ = true;
  return batch_.size() > 0;
}

}  // namespace cmdb::pg
