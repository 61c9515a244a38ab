// Verification of the SQLite store: the hash chain, the validity intervals of every version,
// the keyed rows, a head kept outside; and online backup and SQLite's integrity check.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "cmdb/attr_codec.hpp"
#include "store/sqlite_keyed.hpp"
#include "store/sqlite_rows.hpp"
#include "store/sqlite_store.hpp"
#include "store/version_writer.hpp"

namespace cmdb {

using sqlite::Exec;
using sqlite::SqliteError;
using sqlite::Stmt;
using namespace sqlite;  // rows and keyed-row helpers (store-internal)

namespace {

std::string CiRow(const CiRecord& c) {
  return "id=" + std::to_string(c.id) + " version=" + std::to_string(c.version) +
         " valid_from=" + std::to_string(c.valid_from);
}
std::string RelRow(const RelRecord& r) {
  return "id=" + std::to_string(r.id) + " version=" + std::to_string(r.version) +
         " valid_from=" + std::to_string(r.valid_from);
}
std::string DocRow(const DocRecord& d) {
  return "kind=" + d.kind + " id=" + std::to_string(d.id) + " version=" +
         std::to_string(d.version) + " valid_from=" + std::to_string(d.valid_from);
}
std::string TxText(int64_t tx) { return tx == 0 ? std::string("NULL") : std::to_string(tx); }

// Checks that the validity intervals of every item's versions follow from the log: ordered by
// valid_from, each version's valid_to is the valid_from of the next one (the transaction that
// superseded it), and the last one is open (NULL) — whether it is a live version or a tombstone.
// `sql` yields ([kind,] id, version, valid_from, valid_to or 0) ordered by key, valid_from, with
// the kind column when `doc_keys`; `what` names an item for messages ("CI", "relationship").
void CheckIntervals(sqlite3* db, const char* sql, const char* table, const char* what,
                    bool doc_keys, TxId last_tx, ChainReport& report) {
  Stmt s(db, sql);
  if (!s.ok()) {
    report.Add(table, "", "cannot be read: " + s.Error().message());
    return;
  }
  struct Row {
    std::string kind;
    int64_t id = 0, version = 0, from = 0, to = 0;
  };
  auto read = [&] {
    Row r;
    int c = 0;
    if (doc_keys) r.kind = s.Text(c++);
    r.id = s.Int(c);
    r.version = s.Int(c + 1);
    r.from = s.Int(c + 2);
    r.to = s.Int(c + 3);
    return r;
  };
  auto key = [&](const Row& r) {
    return (doc_keys ? "kind=" + r.kind + " " : std::string()) + "id=" + std::to_string(r.id) +
           " version=" + std::to_string(r.version) + " valid_from=" + std::to_string(r.from);
  };
  auto item = [&](const Row& r) {
    return std::string(what) + " " + (doc_keys ? r.kind + " " : std::string()) +
           std::to_string(r.id);
  };
  bool have = s.Step() == SQLITE_ROW;
  while (have) {
    Row cur = read();
    have = s.Step() == SQLITE_ROW;
    Row next;
    bool same = false;
    if (have) {
      next = read();
      same = next.id == cur.id && next.kind == cur.kind;
    }
    if (same) {
      if (cur.to != next.from) {
        report.Add(table, key(cur),
                   "valid_to is " + TxText(cur.to) + ", but the next version of " + item(cur) +
                       " (version " + std::to_string(next.version) + ") was written by transaction " +
                       std::to_string(next.from));
      }
    } else if (cur.to != 0) {
      report.Add(table, key(cur),
                 "valid_to is " + std::to_string(cur.to) + ", but no later version of " +
                     item(cur) + " exists" +
                     (cur.to > last_tx ? " and the log ends at transaction " + std::to_string(last_tx)
                                       : std::string(" (transaction " + std::to_string(cur.to) +
                                                     " wrote none)")) +
                     ": the current version was closed outside the log");
    }
  }
}

}  // namespace

Result<ChainHead> SqliteStore::Head() {
  std::lock_guard l(read_mu_);
  Stmt last(read_db_, "SELECT id, hash FROM transactions ORDER BY id DESC LIMIT 1");
  if (!last.ok()) return last.Error();
  int rc = last.Step();
  if (rc == SQLITE_DONE) return ChainHead{0, kGenesisHash};
  if (rc != SQLITE_ROW) return last.Error();
  return ChainHead{last.Int(0), last.Text(1)};
}

Result<ChainReport> SqliteStore::VerifyChain(const VerifyOptions& options) {
  std::lock_guard l(read_mu_);
  ChainReport report;
  CMDB_RETURN_IF_ERROR(Exec(read_db_, "BEGIN"));
  struct EndRead {
    sqlite3* db;
    ~EndRead() { Exec(db, "COMMIT"); }
  } end_read{read_db_};
  Stmt txs(read_db_, (std::string("SELECT ") + kTxCols + " FROM transactions ORDER BY id").c_str());
  // One ordered pass over each version table, merged with the log by transaction id.
  Stmt cis(read_db_, (std::string("SELECT ") + kCiCols + " FROM ci_versions ORDER BY valid_from, id").c_str());
  Stmt rels(read_db_, (std::string("SELECT ") + kRelCols + " FROM rel_versions ORDER BY valid_from, id").c_str());
  Stmt docs(read_db_, (std::string("SELECT ") + kDocCols + " FROM doc_versions ORDER BY valid_from, kind, id").c_str());
  Stmt ddl(read_db_, "SELECT tx, ddl, version FROM schema_versions ORDER BY tx, version");
  if (!txs.ok() || !cis.ok() || !rels.ok() || !docs.ok() || !ddl.ok()) return txs.Error();
  bool ci_row = cis.Step() == SQLITE_ROW, rel_row = rels.Step() == SQLITE_ROW, ddl_row = ddl.Step() == SQLITE_ROW;
  bool doc_row = docs.Step() == SQLITE_ROW;
  std::string prev = kGenesisHash;
  TxId last_tx = 0;
  bool broken = false;
  while (txs.Step() == SQLITE_ROW) {
    TxRecord t = ReadTx(txs);
    last_tx = t.id;
    if (broken) continue;  // past a break nothing can be recomputed; only the log's end counts
    std::string stored_prev = std::move(t.prev_hash), stored_hash = std::move(t.hash);
    t.prev_hash.clear();
    t.hash.clear();
    std::vector<CiRecord> ci_rows;
    std::vector<RelRecord> rel_rows;
    std::string reason, schema_ddl;
    std::string where_table, where_row;  // the row that made `reason`, when it is one row
    auto stray = [&](const char* table, std::string row, const char* what) {
      if (!reason.empty()) return;
      reason = std::string("a ") + what + " belongs to no logged transaction";
      where_table = table;
      where_row = std::move(row);
    };
    for (; ci_row && cis.Int(6) <= t.id; ci_row = cis.Step() == SQLITE_ROW) {
      auto c = ReadCi(cis);
      if (!c.ok()) {
        if (reason.empty()) reason = "a CI version does not decode", where_table = "ci_versions",
                            where_row = "id=" + std::to_string(cis.Int(0)) + " valid_from=" + std::to_string(cis.Int(6));
      } else if (c->valid_from == t.id) {
        ci_rows.push_back(std::move(*c));
      } else {
        stray("ci_versions", CiRow(*c), "CI version");
      }
    }
    for (; rel_row && rels.Int(8) <= t.id; rel_row = rels.Step() == SQLITE_ROW) {
      auto r = ReadRel(rels);
      if (!r.ok()) {
        if (reason.empty()) reason = "a relationship version does not decode", where_table = "rel_versions",
                            where_row = "id=" + std::to_string(rels.Int(0)) + " valid_from=" + std::to_string(rels.Int(8));
      } else if (r->valid_from == t.id) {
        rel_rows.push_back(std::move(*r));
      } else {
        stray("rel_versions", RelRow(*r), "relationship version");
      }
    }
    std::vector<DocRecord> doc_rows;
    for (; doc_row && docs.Int(5) <= t.id; doc_row = docs.Step() == SQLITE_ROW) {
      auto d = ReadDoc(docs);
      if (!d.ok()) {
        if (reason.empty()) reason = "a process record version does not decode", where_table = "doc_versions",
                            where_row = "kind=" + docs.Text(0) + " id=" + std::to_string(docs.Int(1));
      } else if (d->valid_from == t.id) {
        doc_rows.push_back(std::move(*d));
      } else {
        stray("doc_versions", DocRow(*d), "process record version");
      }
    }
    for (; ddl_row && ddl.Int(0) <= t.id; ddl_row = ddl.Step() == SQLITE_ROW) {
      std::string row = "version=" + std::to_string(ddl.Int(2)) + " tx=" + std::to_string(ddl.Int(0));
      if (ddl.Int(0) != t.id) {
        stray("schema_versions", row, "schema version");
      } else if (ddl.Int(2) != t.schema_version || !schema_ddl.empty()) {
        // The DDL is chained through its transaction; its version number must be the one the
        // log entry records, or the server would start with another schema than the log says.
        report.Add("schema_versions", row,
                   "version is " + std::to_string(ddl.Int(2)) + ", but transaction " +
                       std::to_string(t.id) + " logged schema version " + std::to_string(t.schema_version));
      } else {
        schema_ddl = ddl.Text(1);
      }
    }
    ++report.checked;
    if (reason.empty() && stored_prev != prev) reason = "its link to the previous transaction is broken";
    if (reason.empty() && ChainHash(prev, TxCanonical(t, ci_rows, rel_rows, doc_rows, schema_ddl)) != stored_hash)
      reason = "its content does not match its hash";
    if (!reason.empty()) {
      report.first_broken = t.id;
      report.reason = reason;
      if (where_table.empty()) report.Add("transactions", "id=" + std::to_string(t.id), reason);
      else report.Add(where_table, where_row, reason + " (found at transaction " + std::to_string(t.id) + ")");
      broken = true;
      continue;
    }
    prev = stored_hash;
  }
  if (!broken && (ci_row || rel_row || doc_row || ddl_row)) {
    report.first_broken = last_tx + 1;
    report.reason = "versions exist for a transaction missing from the log";
    std::string table = ci_row ? "ci_versions" : rel_row ? "rel_versions" : doc_row ? "doc_versions" : "schema_versions";
    int64_t tx = ci_row ? cis.Int(6) : rel_row ? rels.Int(8) : doc_row ? docs.Int(5) : ddl.Int(0);
    std::string row = ci_row ? "id=" + std::to_string(cis.Int(0)) + " valid_from=" + std::to_string(tx)
                    : rel_row ? "id=" + std::to_string(rels.Int(0)) + " valid_from=" + std::to_string(tx)
                    : doc_row ? "kind=" + docs.Text(0) + " id=" + std::to_string(docs.Int(1)) + " valid_from=" + std::to_string(tx)
                              : "version=" + std::to_string(ddl.Int(2)) + " tx=" + std::to_string(tx);
    report.Add(table, row, "written by transaction " + std::to_string(tx) + ", which is not in the log (it ends at " +
                               std::to_string(last_tx) + ")");
  }
  // Validity intervals: which version is current is decided by valid_to, which the chain does not
  // cover (a later transaction sets it); it must agree with the versions the log wrote.
  CheckIntervals(read_db_, "SELECT id, version, valid_from, COALESCE(valid_to, 0) FROM ci_versions ORDER BY id, valid_from",
                 "ci_versions", "CI", false, last_tx, report);
  CheckIntervals(read_db_, "SELECT id, version, valid_from, COALESCE(valid_to, 0) FROM rel_versions ORDER BY id, valid_from",
                 "rel_versions", "relationship", false, last_tx, report);
  CheckIntervals(read_db_,
                 "SELECT kind, id, version, valid_from, COALESCE(valid_to, 0) FROM doc_versions ORDER BY kind, id, valid_from",
                 "doc_versions", "process record", true, last_tx, report);
  // A head kept outside the database: truncating the log's tail (with its versions, and
  // reopening the versions they closed) leaves a consistent file, but not this head.
  if (options.head && options.head->tx > 0) {
    const ChainHead& head = *options.head;
    Stmt at(read_db_, "SELECT hash FROM transactions WHERE id = ?");
    at.Bind(1, head.tx);
    std::string row = "id=" + std::to_string(head.tx);
    if (at.Step() != SQLITE_ROW) {
      report.Add("transactions", row,
                 "the head " + FormatChainHead(head) + " is no longer in the log, which ends at transaction " +
                     std::to_string(last_tx) + ": transactions were removed from its tail");
    } else if (at.Text(0) != head.hash) {
      report.Add("transactions", row,
                 "the log's hash " + at.Text(0) + " differs from the head's " + head.hash +
                     ": the log was rewritten from this transaction on or before it");
    }
  }
  CMDB_RETURN_IF_ERROR(VerifyKeyedRows(report));
  return report;
}

Status SqliteStore::Backup(const std::string& db_path, const std::string& dest_path,
                           const std::string& key_file) {
  CMDB_RETURN_IF_ERROR(CheckFilePath(db_path));
  CMDB_RETURN_IF_ERROR(CheckFilePath(dest_path));
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto close = [&] {
    sqlite3_close(dst);
    sqlite3_close(src);
  };
  if (sqlite3_open_v2(db_path.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    Status st = Status::Internal("cannot open database '" + db_path + "': " + sqlite3_errmsg(src));
    close();
    return st;
  }
  sqlite3_busy_timeout(src, 10000);
  if (sqlite3_open_v2(dest_path.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status st = Status::Internal("cannot create backup '" + dest_path + "': " + sqlite3_errmsg(dst));
    close();
    return st;
  }
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) {
    Status st = Status::Internal(std::string("cannot start the backup: ") + sqlite3_errmsg(dst));
    close();
    return st;
  }
  int rc;
  do {
    rc = sqlite3_backup_step(b, 1024);  // pages; the source stays readable and writable meanwhile
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(10);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  Status st = rc == SQLITE_DONE ? Status::Ok() : Status::Internal(std::string("backup failed: ") + sqlite3_errmsg(dst));
  // The copy's head, to keep with it (and elsewhere): verify ?head= detects a later truncation.
  std::string head = "0:" + std::string(kGenesisHash);
  if (st.ok()) {
    Stmt last(dst, "SELECT id, hash FROM transactions ORDER BY id DESC LIMIT 1");
    if (last.ok() && last.Step() == SQLITE_ROW) head = std::to_string(last.Int(0)) + ":" + last.Text(1);
  }
  close();
  if (!st.ok()) return st;
  if (!(std::ofstream(dest_path + ".head") << head << "\n")) {
    return Status::Internal("cannot write '" + dest_path + ".head'");
  }
  // The key: without it a restored database's tokens cannot be checked (and it refuses to open).
  std::string key_path = key_file.empty() ? db_path + ".key" : key_file;
  std::error_code ec;
  if (std::filesystem::exists(key_path, ec)) {
    std::filesystem::copy_file(key_path, dest_path + ".key", std::filesystem::copy_options::overwrite_existing, ec);
    if (!ec) {
      std::filesystem::permissions(dest_path + ".key",
                                   std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
    }
    if (ec) return Status::Internal("cannot copy the key file '" + key_path + "' to '" + dest_path + ".key': " + ec.message());
  }
  return Status::Ok();
}

Status SqliteStore::IntegrityCheck() {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, "PRAGMA integrity_check");
  if (s.Step() != SQLITE_ROW) return s.Error();
  std::string r = s.Text(0);
  return r == "ok" ? Status::Ok() : Status::Internal("integrity check: " + r);
}

}  // namespace cmdb
