#include "store/migrate.hpp"

#include <sqlite3.h>

#include <memory>

#include "store/pg_store.hpp"
#include "store/pg_util.hpp"
#include "store/sqlite_store.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb {
namespace {

using pg::Conn;
using pg::Params;
using sqlite::Stmt;

// One table to copy: its name, its columns (those both stores have; SQLite's `mac` stays
// behind), which of them are bytes (bytea), an order, and rows to leave out.
struct Table {
  const char* name;
  std::vector<const char*> columns;
  std::vector<const char*> bytes;
  const char* order;
  const char* where = "";
};

// In dependency-free order: the log first, the outbox's webhooks before it.
const std::vector<Table>& Tables() {
  static const std::vector<Table> kTables = {
      {"transactions",
       {"id", "time", "actor", "source", "change_ref", "message", "cis_written", "rels_written",
        "schema_version", "prev_hash", "hash", "unauthorized"},
       {},
       "id"},
      {"schema_versions", {"version", "tx", "ddl"}, {}, "version"},
      {"ci_versions",
       {"id", "version", "class", "attrs", "created_at", "updated_at", "valid_from", "valid_to",
        "retired"},
       {"attrs"},
       "id, version"},
      {"rel_versions",
       {"id", "version", "type", "from_id", "to_id", "attrs", "created_at", "updated_at",
        "valid_from", "valid_to", "retired"},
       {"attrs"},
       "id, version"},
      {"doc_versions",
       {"kind", "id", "version", "body", "updated_at", "valid_from", "valid_to", "retired"},
       {"body"},
       "kind, id, version"},
      {"provenance", {"rel", "id", "source", "last_seen", "stale", "owned"}, {"owned"},
       "rel, id, source"},
      {"tokens", {"id", "name", "role", "hash", "created_at", "revoked_at"}, {}, "id"},
      // The key check and the keyed-row counts are SQLite's keyed rows: not copied.
      {"meta", {"key", "value"}, {}, "key", " WHERE key NOT IN ('key_check', 'keyed_rows')"},
      {"webhooks",
       {"id", "url", "secret", "filter", "enabled", "exclude_actors", "exclude_sources",
        "created_at", "updated_at"},
       {},
       "id"},
      {"webhook_outbox",
       {"seq", "webhook_id", "tx", "body", "attempts", "next_at", "dead", "last_error"},
       {"body"},
       "seq"},
      {"webhook_deliveries",
       {"id", "webhook_id", "seq", "tx", "time", "status", "latency_us", "error"},
       {},
       "id"},
  };
  return kTables;
}

std::string Join(const std::vector<const char*>& names) {
  std::string out;
  for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// Appends `text` escaped for COPY's text format (backslash, tab, newline, carriage return).
void AppendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

// Appends one SQLite column in COPY's text form: \N for NULL, bytes as bytea hex (\\x...).
void AppendField(std::string& out, sqlite3_stmt* s, int col, bool bytes) {
  static const char* kHex = "0123456789abcdef";
  int type = sqlite3_column_type(s, col);
  if (type == SQLITE_NULL) {
    out += "\\N";
  } else if (bytes) {
    auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s, col));
    int n = sqlite3_column_bytes(s, col);
    out += "\\\\x";
    for (int i = 0; i < n; ++i) {
      out += kHex[p[i] >> 4];
      out += kHex[p[i] & 15];
    }
  } else if (type == SQLITE_INTEGER) {
    out += std::to_string(sqlite3_column_int64(s, col));
  } else {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    AppendEscaped(out, std::string_view(p ? p : "", sqlite3_column_bytes(s, col)));
  }
}

// Copies one table from the open SQLite read transaction into the open PostgreSQL one; returns
// the rows copied.
Result<int64_t> CopyTable(sqlite3* from, Conn& to, const Table& t) {
  std::string cols = Join(t.columns);
  std::string select = "SELECT " + cols + " FROM " + t.name + t.where + " ORDER BY " + t.order;
  Stmt s(from, select.c_str());
  if (!s.ok()) return s.Error();
  std::vector<bool> bytes;
  for (const char* c : t.columns) {
    bool b = false;
    for (const char* x : t.bytes) b = b || std::string(c) == x;
    bytes.push_back(b);
  }
  int64_t rows = 0;
  Status st = to.CopyIn(
      "COPY " + std::string(t.name) + "(" + cols + ") FROM STDIN",
      [&](std::string& chunk) -> Result<bool> {
        while (chunk.size() < (1 << 20)) {
          int rc = s.Step();
          if (rc == SQLITE_DONE) return false;
          if (rc != SQLITE_ROW) return sqlite::SqliteError(from, rc);
          for (size_t c = 0; c < t.columns.size(); ++c) {
            if (c > 0) chunk += '\t';
            AppendField(chunk, s.handle(), static_cast<int>(c), bytes[c]);
          }
          chunk += '\n';
          ++rows;
        }
        return true;
      });
  if (!st.ok()) return st;
  return rows;
}

Result<int64_t> CountSqlite(sqlite3* db, const Table& t) {
  std::string sql = std::string("SELECT COUNT(*) FROM ") + t.name + t.where;
  Stmt s(db, sql.c_str());
  if (!s.ok() || s.Step() != SQLITE_ROW) return s.Error();
  return s.Int(0);
}

Result<int64_t> CountPg(Conn& db, const Table& t) {
  auto r = db.Query(std::string("SELECT COUNT(*) FROM ") + t.name);
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

}  // namespace

Result<MigrationReport> MigrateSqliteToPg(const MigrationOptions& options) {
  // The source: locked as a server locks it, and verified whole.
  SqliteOptions lite_options;
  lite_options.lock = DbLock::kAtOpen;
  lite_options.key_file = options.key_file;
  auto lite = SqliteStore::Open(options.sqlite_path, lite_options);
  if (!lite.ok()) return lite.status();
  auto checked = (*lite)->VerifyChain();
  if (!checked.ok()) return checked.status();
  if (!checked->ok) {
    std::string first = checked->first_broken != 0
                            ? "the chain breaks at transaction " +
                                  std::to_string(checked->first_broken) + ": " + checked->reason
                        : checked->problems.empty()
                            ? checked->reason
                            : checked->problems[0].table + " " + checked->problems[0].row + ": " +
                                  checked->problems[0].reason;
    return Status::Internal(options.sqlite_path + " fails verification (" + first +
                            "); nothing was copied (cmdbd verify lists every problem)");
  }
  auto head = (*lite)->Head();
  if (!head.ok()) return head.status();

  // The target: the tables made as the PostgreSQL store makes them, and nothing in them.
  auto made = PgStore::Open(options.pg_url);
  if (!made.ok()) return made.status();
  made->reset();
  auto to = Conn::Open(options.pg_url);
  if (!to.ok()) return to.status();
  Conn& pg = **to;

  sqlite3* from = nullptr;
  if (sqlite3_open_v2(options.sqlite_path.c_str(), &from, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    Status st = sqlite::SqliteError(from, sqlite3_errcode(from));
    sqlite3_close(from);
    return st;
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> from_owner(from, &sqlite3_close);
  CMDB_RETURN_IF_ERROR(sqlite::Exec(from, "BEGIN"));  // one snapshot of the source

  MigrationReport report;
  report.head = *head;
  CMDB_RETURN_IF_ERROR(pg.Exec("BEGIN"));
  Status st = [&]() -> Status {
    // The locks a cmdbd takes to write the log and to make tables: none writes meanwhile.
    CMDB_RETURN_IF_ERROR(pg.Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(0x636d6462'0003)));
    CMDB_RETURN_IF_ERROR(pg.Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(0x636d6462'0001)));
    for (const Table& t : Tables()) {
      auto n = CountPg(pg, t);
      if (!n.ok()) return n.status();
      if (*n > 0)
        return Status::Conflict("the PostgreSQL database already holds cmdb data (" +
                                std::to_string(*n) + " rows in " + t.name +
                                "); migrate into a new, empty database; nothing was copied");
    }
    for (const Table& t : Tables()) {
      auto n = CopyTable(from, pg, t);
      if (!n.ok()) return n.status();
      report.tables.emplace_back(t.name, *n);
    }
    // The serial columns continue after the copied ids.
    for (auto [table, col] : {std::pair{"webhooks", "id"}, {"webhook_outbox", "seq"},
                              {"webhook_deliveries", "id"}}) {
      CMDB_RETURN_IF_ERROR(pg.Exec(std::string("SELECT setval(pg_get_serial_sequence('") + table +
                                   "', '" + col + "'), COALESCE(MAX(" + col + "), 1), MAX(" + col +
                                   ") IS NOT NULL) FROM " + table));
    }
    return pg.Exec("COMMIT");
  }();
  if (!st.ok()) {
    pg.Rollback();
    return st;
  }
  sqlite::Exec(from, "COMMIT");

  // The copy, checked: row counts, head, and the PostgreSQL store's own verification.
  for (size_t i = 0; i < Tables().size(); ++i) {
    const Table& t = Tables()[i];
    auto source = CountSqlite(from, t);
    auto copied = CountPg(pg, t);
    if (!source.ok()) return source.status();
    if (!copied.ok()) return copied.status();
    if (*source != *copied || *copied != report.tables[i].second)
      return Status::Internal(std::string("table ") + t.name + " has " + std::to_string(*copied) +
                              " rows in PostgreSQL after the copy, " + std::to_string(*source) +
                              " in SQLite");
  }
  auto target = PgStore::Open(options.pg_url);
  if (!target.ok()) return target.status();
  auto target_head = (*target)->Head();
  if (!target_head.ok()) return target_head.status();
  if (target_head->tx != head->tx || target_head->hash != head->hash)
    return Status::Internal("the head in PostgreSQL is " + FormatChainHead(*target_head) +
                            ", not SQLite's " + FormatChainHead(*head));
  auto verified = (*target)->VerifyChain();
  if (!verified.ok()) return verified.status();
  if (!verified->ok)
    return Status::Internal("the copy fails verification in PostgreSQL: " +
                            (verified->problems.empty() ? verified->reason
                                                        : verified->problems[0].table + " " +
                                                              verified->problems[0].row + ": " +
                                                              verified->problems[0].reason));
  report.verified = verified->checked;
  return report;
}

}  // namespace cmdb
