// Verification of the PostgreSQL store: the hash chain (recomputed with the same canonical
// content as the SQLite store's), the validity intervals of every version and a head kept
// outside. One REPEATABLE READ snapshot; the tables are read through cursors, merged by
// transaction id, so memory stays bounded by the largest transaction.
#include "store/pg_rows.hpp"
#include "store/pg_store.hpp"
#include "store/pg_util.hpp"

namespace cmdb {

using namespace pg;  // rows, cursors (store-internal)

namespace {

std::string TxText(int64_t tx) { return tx == 0 ? std::string("NULL") : std::to_string(tx); }

// As in the SQLite store: ordered by valid_from, each version's valid_to is the valid_from of the
// next one, and the last one is open. `sql` yields ([kind,] id, version, valid_from, valid_to or
// 0) ordered by key, valid_from.
Status CheckIntervals(Conn& conn, const char* cursor, const char* sql, const char* table,
                      const char* what, bool doc_keys, TxId last_tx, ChainReport& report) {
  Cursor s(conn, cursor, sql);
  struct Item {
    std::string kind;
    int64_t id = 0, version = 0, from = 0, to = 0;
  };
  auto read = [&] {
    Row row = s.row();
    Item r;
    int c = 0;
    if (doc_keys) r.kind = row.Text(c++);
    r.id = row.Int(c);
    r.version = row.Int(c + 1);
    r.from = row.Int(c + 2);
    r.to = row.Int(c + 3);
    return r;
  };
  auto key = [&](const Item& r) {
    return (doc_keys ? "kind=" + r.kind + " " : std::string()) + "id=" + std::to_string(r.id) +
           " version=" + std::to_string(r.version) + " valid_from=" + std::to_string(r.from);
  };
  auto item = [&](const Item& r) {
    return std::string(what) + " " + (doc_keys ? r.kind + " " : std::string()) +
           std::to_string(r.id);
  };
  bool have = s.Next();
  Item cur;
  if (have) cur = read();
  while (have) {
    have = s.Next();
    Item next;
    bool same = false;
    if (have) {
      next = read();
      same = next.id == cur.id && next.kind == cur.kind;
    }
    if (same) {
      if (cur.to != next.from) {
        report.Add(table, key(cur),
                   "valid_to is " + TxText(cur.to) + ", but the next version of " + item(cur) +
                       " (version " + std::to_string(next.version) +
                       ") was written by transaction " + std::to_string(next.from));
      }
    } else if (cur.to != 0) {
      report.Add(
          table, key(cur),
          "valid_to is " + std::to_string(cur.to) + ", but no later version of " + item(cur) +
              " exists" +
              (cur.to > last_tx
                   ? " and the log ends at transaction " + std::to_string(last_tx)
                   : std::string(" (transaction " + std::to_string(cur.to) + " wrote none)")) +
              ": the current version was closed outside the log");
    }
    cur = std::move(next);
  }
  return s.status();
}

// One table's versions in (valid_from, ...) order, consumed transaction by transaction.
template <typename Rec, typename Read>
struct VersionScan {
  Cursor rows;
  Read read;
  int from_col;
  bool have = false;

  VersionScan(Conn& conn, const char* name, const std::string& sql, Read r, int col)
      : rows(conn, name, sql), read(r), from_col(col) {
    have = rows.Next();
  }
  // Moves the versions up to transaction `tx` into `out`; a version of an earlier transaction
  // (none in the log) or one that does not decode is reported through `bad`.
  template <typename Bad>
  void Take(TxId tx, std::vector<Rec>& out, Bad bad) {
    for (; have && rows.row().Int(from_col) <= static_cast<int64_t>(tx); have = rows.Next()) {
      auto r = read(rows.row());
      if (!r.ok()) {
        bad(rows.row(), true);
      } else if (static_cast<TxId>(r->valid_from) == tx) {
        out.push_back(std::move(*r));
      } else {
        bad(rows.row(), false);
      }
    }
  }
};

}  // namespace

Result<ChainHead> PgStore::Head() {
  std::lock_guard l(read_mu_);
  auto last = read_->Query("SELECT id, hash FROM transactions ORDER BY id DESC LIMIT 1");
  if (!last.ok()) return last.status();
  if (last->size() == 0) return ChainHead{0, kGenesisHash};
  return ChainHead{static_cast<TxId>(last->Int(0, 0)), last->Text(0, 1)};
}

Result<ChainReport> PgStore::VerifyChain(const VerifyOptions& options) {
  std::lock_guard l(read_mu_);
  ChainReport report;
  CMDB_RETURN_IF_ERROR(read_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  struct EndRead {
    Conn& conn;
    ~EndRead() { conn.Rollback(); }
  } end_read{*read_};
  Cursor txs(*read_, "txs", std::string("SELECT ") + kTxCols + " FROM transactions ORDER BY id");
  VersionScan<CiRecord, decltype(&ReadCi)> cis(
      *read_, "cis", std::string("SELECT ") + kCiCols + " FROM ci_versions ORDER BY valid_from, id",
      &ReadCi, 6);
  VersionScan<RelRecord, decltype(&ReadRel)> rels(
      *read_, "rels",
      std::string("SELECT ") + kRelCols + " FROM rel_versions ORDER BY valid_from, id", &ReadRel,
      8);
  VersionScan<DocRecord, decltype(&ReadDoc)> docs(
      *read_, "docs",
      std::string("SELECT ") + kDocCols + " FROM doc_versions ORDER BY valid_from, kind, id",
      &ReadDoc, 5);
  Cursor ddl(*read_, "ddl", "SELECT tx, ddl, version FROM schema_versions ORDER BY tx, version");
  bool ddl_row = ddl.Next();
  for (const Status* st : {&txs.status(), &cis.rows.status(), &rels.rows.status(),
                           &docs.rows.status(), &ddl.status()}) {
    if (!st->ok()) return *st;
  }
  std::string prev = kGenesisHash;
  TxId last_tx = 0;
  bool broken = false;
  while (txs.Next()) {
    TxRecord t = ReadTx(txs.row());
    last_tx = t.id;
    if (broken) continue;  // past a break only the log's end counts
    std::string stored_prev = std::move(t.prev_hash), stored_hash = std::move(t.hash);
    t.prev_hash.clear();
    t.hash.clear();
    std::string reason, schema_ddl, where_table, where_row;
    auto bad = [&](const char* table, const char* what) {
      return [&, table, what](const Row& row, bool undecodable) {
        if (!reason.empty()) return;
        where_table = table;
        where_row =
            std::string(table) == "doc_versions"
                ? "kind=" + row.Text(0) + " id=" + std::to_string(row.Int(1))
                : "id=" + std::to_string(row.Int(0)) + " version=" + std::to_string(row.Int(1));
        reason = undecodable ? std::string("a ") + what + " does not decode"
                             : std::string("a ") + what + " belongs to no logged transaction";
      };
    };
    std::vector<CiRecord> ci_rows;
    std::vector<RelRecord> rel_rows;
    std::vector<DocRecord> doc_rows;
    cis.Take(t.id, ci_rows, bad("ci_versions", "CI version"));
    rels.Take(t.id, rel_rows, bad("rel_versions", "relationship version"));
    docs.Take(t.id, doc_rows, bad("doc_versions", "process record version"));
    for (; ddl_row && ddl.row().Int(0) <= static_cast<int64_t>(t.id); ddl_row = ddl.Next()) {
      Row d = ddl.row();
      std::string row = "version=" + std::to_string(d.Int(2)) + " tx=" + std::to_string(d.Int(0));
      if (d.Int(0) != static_cast<int64_t>(t.id)) {
        if (reason.empty()) {
          reason = "a schema version belongs to no logged transaction";
          where_table = "schema_versions";
          where_row = row;
        }
      } else if (d.Int(2) != t.schema_version || !schema_ddl.empty()) {
        report.Add("schema_versions", row,
                   "version is " + std::to_string(d.Int(2)) + ", but transaction " +
                       std::to_string(t.id) + " logged schema version " +
                       std::to_string(t.schema_version));
      } else {
        schema_ddl = d.Text(1);
      }
    }
    ++report.checked;
    if (reason.empty() && stored_prev != prev)
      reason = "its link to the previous transaction is broken";
    SortDocs(doc_rows);
    if (reason.empty() &&
        ChainHash(prev, TxCanonical(t, ci_rows, rel_rows, doc_rows, schema_ddl)) != stored_hash)
      reason = "its content does not match its hash";
    if (!reason.empty()) {
      report.first_broken = t.id;
      report.reason = reason;
      if (where_table.empty()) {
        report.Add("transactions", "id=" + std::to_string(t.id), reason);
      } else {
        report.Add(where_table, where_row,
                   reason + " (found at transaction " + std::to_string(t.id) + ")");
      }
      broken = true;
      continue;
    }
    prev = stored_hash;
  }
  CMDB_RETURN_IF_ERROR(txs.status());
  if (!broken && (cis.have || rels.have || docs.have || ddl_row)) {
    report.first_broken = last_tx + 1;
    report.reason = "versions exist for a transaction missing from the log";
    const char* table = cis.have    ? "ci_versions"
                        : rels.have ? "rel_versions"
                        : docs.have ? "doc_versions"
                                    : "schema_versions";
    int64_t tx = cis.have    ? cis.rows.row().Int(6)
                 : rels.have ? rels.rows.row().Int(8)
                 : docs.have ? docs.rows.row().Int(5)
                             : ddl.row().Int(0);
    report.Add(table, "valid_from=" + std::to_string(tx),
               "written by transaction " + std::to_string(tx) +
                   ", which is not in the log (it ends at " + std::to_string(last_tx) + ")");
  }
  CMDB_RETURN_IF_ERROR(CheckIntervals(*read_, "ci_iv",
                                      "SELECT id, version, valid_from, COALESCE(valid_to, 0) FROM "
                                      "ci_versions ORDER BY id, valid_from",
                                      "ci_versions", "CI", false, last_tx, report));
  CMDB_RETURN_IF_ERROR(CheckIntervals(*read_, "rel_iv",
                                      "SELECT id, version, valid_from, COALESCE(valid_to, 0) FROM "
                                      "rel_versions ORDER BY id, valid_from",
                                      "rel_versions", "relationship", false, last_tx, report));
  CMDB_RETURN_IF_ERROR(CheckIntervals(*read_, "doc_iv",
                                      "SELECT kind, id, version, valid_from, COALESCE(valid_to, 0) "
                                      "FROM doc_versions ORDER BY kind, id, valid_from",
                                      "doc_versions", "process record", true, last_tx, report));
  if (options.head && options.head->tx > 0) {
    const ChainHead& head = *options.head;
    auto at = read_->Query("SELECT hash FROM transactions WHERE id = $1", Params().Int(head.tx));
    if (!at.ok()) return at.status();
    std::string row = "id=" + std::to_string(head.tx);
    if (at->size() == 0) {
      report.Add("transactions", row,
                 "the head " + FormatChainHead(head) +
                     " is no longer in the log, which ends at transaction " +
                     std::to_string(last_tx) + ": transactions were removed from its tail");
    } else if (at->Text(0, 0) != head.hash) {
      report.Add("transactions", row,
                 "the log's hash " + at->Text(0, 0) + " differs from the head's " + head.hash +
                     ": the log was rewritten from this transaction on or before it");
    }
  }
  return report;
}

}  // namespace cmdb
