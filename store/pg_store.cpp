#include "store/pg_store.hpp"

#include <algorithm>

#include "cmdb/attr_codec.hpp"
#include "store/pg_rows.hpp"
#include "store/pg_util.hpp"

namespace cmdb {

using pg::Conn;
using pg::Cursor;
using pg::Params;
using pg::Row;
using pg::Rows;
using namespace pg;  // column lists and readers (store-internal)

namespace {

// The advisory lock keys (pg_advisory_xact_lock): the log's head, the token ids, the DDL.
constexpr int64_t kLogLock = 0x636d6462'0001;  // "cmdb" 1
constexpr int64_t kTokenLock = 0x636d6462'0002;
constexpr int64_t kSchemaLock = 0x636d6462'0003;

const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions(
  id BIGINT PRIMARY KEY, time BIGINT NOT NULL, actor TEXT NOT NULL, source TEXT NOT NULL,
  change_ref TEXT, message TEXT, cis_written BIGINT NOT NULL, rels_written BIGINT NOT NULL,
  schema_version BIGINT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, unauthorized TEXT);
CREATE INDEX IF NOT EXISTS transactions_flagged ON transactions(id) WHERE unauthorized IS NOT NULL;
CREATE INDEX IF NOT EXISTS transactions_time ON transactions(time);
CREATE TABLE IF NOT EXISTS doc_versions(
  kind TEXT NOT NULL, id BIGINT NOT NULL, version BIGINT NOT NULL, body BYTEA NOT NULL,
  updated_at BIGINT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT,
  retired SMALLINT NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS doc_versions_id ON doc_versions(kind, id, valid_from);
CREATE INDEX IF NOT EXISTS doc_versions_tx ON doc_versions(valid_from);
CREATE TABLE IF NOT EXISTS provenance(
  rel SMALLINT NOT NULL, id BIGINT NOT NULL, source TEXT NOT NULL, last_seen BIGINT NOT NULL,
  stale SMALLINT NOT NULL, owned BYTEA NOT NULL, PRIMARY KEY(rel, id, source));
CREATE TABLE IF NOT EXISTS schema_versions(
  version BIGINT PRIMARY KEY, tx BIGINT NOT NULL, ddl TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ci_versions(
  id BIGINT NOT NULL, version BIGINT NOT NULL, class TEXT NOT NULL, attrs BYTEA NOT NULL,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, valid_from BIGINT NOT NULL,
  valid_to BIGINT, retired SMALLINT NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ci_versions_id ON ci_versions(id, valid_from);
CREATE INDEX IF NOT EXISTS ci_current ON ci_versions(id) WHERE valid_to IS NULL;
CREATE INDEX IF NOT EXISTS ci_versions_tx ON ci_versions(valid_from, id);
CREATE TABLE IF NOT EXISTS rel_versions(
  id BIGINT NOT NULL, version BIGINT NOT NULL, type TEXT NOT NULL, from_id BIGINT NOT NULL,
  to_id BIGINT NOT NULL, attrs BYTEA NOT NULL, created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT,
  retired SMALLINT NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS rel_versions_id ON rel_versions(id, valid_from);
CREATE INDEX IF NOT EXISTS rel_current ON rel_versions(id) WHERE valid_to IS NULL;
CREATE INDEX IF NOT EXISTS rel_versions_tx ON rel_versions(valid_from, id);
CREATE TABLE IF NOT EXISTS tokens(
  id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, hash TEXT NOT NULL,
  created_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS tokens_hash ON tokens(hash);
CREATE TABLE IF NOT EXISTS webhooks(
  id BIGSERIAL PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL,
  filter TEXT NOT NULL, enabled SMALLINT NOT NULL, exclude_actors TEXT NOT NULL,
  exclude_sources TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_outbox(
  seq BIGSERIAL PRIMARY KEY, webhook_id BIGINT NOT NULL, tx BIGINT NOT NULL,
  body BYTEA NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, next_at BIGINT NOT NULL DEFAULT 0,
  dead SMALLINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS webhook_outbox_head ON webhook_outbox(webhook_id, dead, seq);
CREATE TABLE IF NOT EXISTS webhook_deliveries(
  id BIGSERIAL PRIMARY KEY, webhook_id BIGINT NOT NULL, seq BIGINT NOT NULL,
  tx BIGINT NOT NULL, time BIGINT NOT NULL, status BIGINT NOT NULL, latency_us BIGINT NOT NULL,
  error TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
)sql";

// Runs `scan` in a read-only REPEATABLE READ transaction on `conn`: every query in it sees one
// snapshot.
template <typename Scan>
Status InSnapshot(Conn& conn, Scan scan) {
  CMDB_RETURN_IF_ERROR(conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Status st = scan();
  if (st.ok()) {
    st = conn.Exec("COMMIT");
  } else {
    conn.Rollback();
  }
  return st;
}

// Passes every row of `sql`, decoded by `read`, to `sink` (inside the open transaction).
template <typename Read, typename Sink>
Status ScanRows(Conn& conn, const char* cursor, const std::string& sql, const Params& params,
                Read read, const Sink& sink) {
  Cursor rows(conn, cursor, sql, params);
  while (rows.Next()) {
    auto r = read(rows.row());
    if (!r.ok()) return r.status();
    sink(std::move(*r));
  }
  return rows.status();
}

constexpr const char* kCurrentOnly = " WHERE valid_to IS NULL AND retired = 0 ORDER BY id";
constexpr const char* kAsOf =
    " WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1) AND retired = 0 ORDER BY id";

// `cols` with every column prefixed by `table`.
std::string Prefixed(const char* table, const std::string& cols) {
  std::string out;
  size_t start = 0;
  while (start < cols.size()) {
    size_t end = cols.find(',', start);
    if (end == std::string::npos) end = cols.size();
    size_t b = cols.find_first_not_of(' ', start);
    if (!out.empty()) out += ", ";
    out += std::string(table) + "." + cols.substr(b, end - b);
    start = end + 1;
  }
  return out;
}

// The ids of `table` with a version written after $2, each with its version valid at $1 when
// that is not a retirement (NULL columns when there is none), and then the id.
std::string ChangedSql(const char* table, const char* cols) {
  return "SELECT " + Prefixed("v", cols) + ", c.id FROM (SELECT DISTINCT id FROM " + table +
         " WHERE valid_from > $2) AS c LEFT JOIN " + table +
         " AS v ON v.id = c.id AND v.valid_from <= $1 AND (v.valid_to IS NULL OR v.valid_to > $1)"
         " AND v.retired = 0 ORDER BY c.id";
}

template <typename Read, typename Sink>
Status ScanChanged(Conn& conn, const char* cursor, const std::string& sql, int id_col, TxId as_of,
                   TxId after, Read read, const Sink& sink) {
  Cursor rows(conn, cursor, sql, Params().Int(as_of).Int(after));
  while (rows.Next()) {
    Row row = rows.row();
    int64_t id = row.Int(id_col);
    if (row.Null(0)) {  // no version valid then
      sink(id, std::nullopt);
      continue;
    }
    auto r = read(row);
    if (!r.ok()) return r.status();
    sink(id, std::move(*r));
  }
  return rows.status();
}

// Versions written in (after, last] in (valid_from, id) order, each with the version it closed.
template <typename Rec, typename Read, typename Sink>
Status ScanWritten(Conn& conn, const char* cursor, const char* table, const char* cols, TxId after,
                   TxId last, Read read, const Sink& sink) {
  Cursor rows(conn, cursor,
              std::string("SELECT ") + cols + " FROM " + table +
                  " WHERE valid_from > $1 AND valid_from <= $2 ORDER BY valid_from, id",
              Params().Int(after).Int(last));
  std::string prev_sql =
      std::string("SELECT ") + cols + " FROM " + table + " WHERE id = $1 AND valid_to = $2";
  while (rows.Next()) {
    Result<Rec> now = read(rows.row());
    if (!now.ok()) return now.status();
    std::optional<Rec> before;
    if (now->version > 1) {
      auto prev = conn.Query(prev_sql, Params().Int(now->id).Int(TxId{now->valid_from}));
      if (!prev.ok()) return prev.status();
      if (prev->size() > 0) {
        Result<Rec> b = read(Row{&*prev, 0});
        if (!b.ok()) return b.status();
        before = std::move(*b);
      }
    }
    sink(std::move(*now), std::move(before));
  }
  return rows.status();
}

// All the rows of `sql` decoded by `read`.
template <typename Rec, typename Read>
Result<std::vector<Rec>> AllRows(Conn& conn, const std::string& sql, const Params& params,
                                 Read read) {
  auto rows = conn.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<Rec> out;
  out.reserve(rows->size());
  for (int i = 0; i < rows->size(); ++i) {
    auto r = read(Row{&*rows, i});
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  return out;
}

Result<TxRecord> ReadTxResult(const Row& r) { return ReadTx(r); }

}  // namespace

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url) {
  std::unique_ptr<PgStore> store(new PgStore());
  auto w = Conn::Open(url);
  if (!w.ok()) return w.status();
  store->write_ = std::move(*w);
  // The tables are made in one transaction (all or none), by one process at a time. Once they
  // exist no DDL runs: CREATE INDEX IF NOT EXISTS still locks its table against writes, which
  // deadlocks with the commits of a server already writing to the database.
  CMDB_RETURN_IF_ERROR(store->InWriteTx([&]() -> Status {
    CMDB_RETURN_IF_ERROR(
        store->write_->Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(kSchemaLock)));
    auto made = store->write_->Query("SELECT to_regclass('webhook_deliveries_hook') IS NOT NULL");
    if (!made.ok()) return made.status();
    if (made->Text(0, 0) == "t") return Status::Ok();  // the last object kSchemaSql creates
    return store->write_->Exec(kSchemaSql);
  }));
  auto r = Conn::Open(url);
  if (!r.ok()) return r.status();
  store->read_ = std::move(*r);
  return store;
}

PgStore::~PgStore() = default;

Status PgStore::InWriteTx(const std::function<Status()>& body) {
  CMDB_RETURN_IF_ERROR(write_->Exec("BEGIN"));
  Status st = body();
  if (st.ok()) st = write_->Exec("COMMIT");
  if (!st.ok()) write_->Rollback();
  return st;
}

Result<StoreInfo> PgStore::Info() {
  std::lock_guard l(read_mu_);
  StoreInfo info;
  Status st = InSnapshot(*read_, [&]() -> Status {
    auto mode = read_->Query("SELECT value FROM meta WHERE key = 'mode'");
    if (!mode.ok()) return mode.status();
    if (mode->size() > 0) {
      info.initialized = true;
      info.open_mode = mode->Text(0, 0) == "open";
    } else {
      auto logged = read_->Query("SELECT COUNT(*) FROM transactions");
      if (!logged.ok()) return logged.status();
      if (logged->Int(0, 0) > 0) {
        return Status::Internal(
            "the meta row 'mode' of the PostgreSQL database is missing, but its log holds " +
            std::to_string(logged->Int(0, 0)) +
            " transactions: it was deleted outside cmdbd; not serving it (restore the database "
            "from a backup)");
      }
    }
    auto schema =
        read_->Query("SELECT version, ddl FROM schema_versions ORDER BY version DESC LIMIT 1");
    if (!schema.ok()) return schema.status();
    if (schema->size() > 0) {
      info.schema_version = schema->Int(0, 0);
      info.schema_ddl = schema->Text(0, 1);
    }
    auto maxes = read_->Query(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM transactions),"
        " (SELECT COALESCE(MAX(id), 0) FROM ci_versions),"
        " (SELECT COALESCE(MAX(id), 0) FROM rel_versions)");
    if (!maxes.ok()) return maxes.status();
    info.last_tx = maxes->Int(0, 0);
    info.max_ci_id = maxes->Int(0, 1);
    info.max_rel_id = maxes->Int(0, 2);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return info;
}

Status PgStore::Initialize(bool open_mode) {
  std::lock_guard l(write_mu_);
  auto r =
      write_->Query("INSERT INTO meta(key, value) VALUES ('mode', $1) ON CONFLICT (key) DO NOTHING",
                    Params().Text(open_mode ? "open" : "closed"));
  if (!r.ok()) return r.status();
  if (r->Affected() == 0) return Status::Conflict("store already initialized");
  return Status::Ok();
}

Status PgStore::LoadCurrent(const std::function<void(CiRecord&&)>& ci_sink,
                            const std::function<void(RelRecord&&)>& rel_sink) {
  std::lock_guard l(read_mu_);
  return InSnapshot(*read_, [&] {
    CMDB_RETURN_IF_ERROR(ScanRows(
        *read_, "cis", std::string("SELECT ") + kCiCols + " FROM ci_versions" + kCurrentOnly,
        Params(), ReadCi, ci_sink));
    return ScanRows(*read_, "rels",
                    std::string("SELECT ") + kRelCols + " FROM rel_versions" + kCurrentOnly,
                    Params(), ReadRel, rel_sink);
  });
}

Status PgStore::LoadAsOf(TxId tx, const std::function<void(CiRecord&&)>& ci_sink,
                         const std::function<void(RelRecord&&)>& rel_sink) {
  std::lock_guard l(read_mu_);
  return InSnapshot(*read_, [&] {
    CMDB_RETURN_IF_ERROR(ScanRows(*read_, "cis",
                                  std::string("SELECT ") + kCiCols + " FROM ci_versions" + kAsOf,
                                  Params().Int(tx), ReadCi, ci_sink));
    return ScanRows(*read_, "rels",
                    std::string("SELECT ") + kRelCols + " FROM rel_versions" + kAsOf,
                    Params().Int(tx), ReadRel, rel_sink);
  });
}

Status PgStore::LoadChangedSince(
    TxId as_of, TxId after, const std::function<void(CiId, std::optional<CiRecord>&&)>& ci_sink,
    const std::function<void(RelId, std::optional<RelRecord>&&)>& rel_sink) {
  if (as_of > after) return Status::Invalid("LoadChangedSince: as_of must not be after `after`");
  std::lock_guard l(read_mu_);
  return InSnapshot(*read_, [&] {
    CMDB_RETURN_IF_ERROR(
        ScanChanged(*read_, "cis", ChangedSql("ci_versions", kCiCols), 9, as_of, after, ReadCi,
                    [&](CiId id, std::optional<CiRecord>&& c) { ci_sink(id, std::move(c)); }));
    return ScanChanged(*read_, "rels", ChangedSql("rel_versions", kRelCols), 11, as_of, after,
                       ReadRel,
                       [&](RelId id, std::optional<RelRecord>&& r) { rel_sink(id, std::move(r)); });
  });
}

Status PgStore::LoadWritten(
    TxId after, TxId last,
    const std::function<void(CiRecord&&, std::optional<CiRecord>&&)>& ci_sink,
    const std::function<void(RelRecord&&, std::optional<RelRecord>&&)>& rel_sink) {
  std::lock_guard l(read_mu_);
  return InSnapshot(*read_, [&] {
    CMDB_RETURN_IF_ERROR(
        ScanWritten<CiRecord>(*read_, "cis", "ci_versions", kCiCols, after, last, ReadCi, ci_sink));
    return ScanWritten<RelRecord>(*read_, "rels", "rel_versions", kRelCols, after, last, ReadRel,
                                  rel_sink);
  });
}

Result<TxId> PgStore::TxAtTime(int64_t micros) {
  std::lock_guard l(read_mu_);
  auto r = read_->Query("SELECT COALESCE(MAX(id), 0) FROM transactions WHERE time <= $1",
                        Params().Int(micros));
  if (!r.ok()) return r.status();
  return TxId(r->Int(0, 0));
}

Status PgStore::Commit(const WriteSet& ws) {
  std::lock_guard l(write_mu_);
  return InWriteTx([&] { return CommitLocked(ws); });
}

Status PgStore::CommitLocked(const WriteSet& ws) {
  // The head of the log under the log's lock: commits of every process take it, so they get one
  // order and one chain. It is released when the transaction ends.
  CMDB_RETURN_IF_ERROR(write_->Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(kLogLock)));
  auto head = write_->Query("SELECT id, hash FROM transactions ORDER BY id DESC LIMIT 1");
  if (!head.ok()) return head.status();
  TxId head_tx = head->size() > 0 ? head->Int(0, 0) : 0;
  std::string prev_hash = head->size() > 0 ? head->Text(0, 1) : std::string(kGenesisHash);
  if (ws.tx.id != head_tx + 1) {
    return Status::Conflict("the log in PostgreSQL is at transaction " + std::to_string(head_tx) +
                            ", not " + std::to_string(ws.tx.id - 1) +
                            ": another process wrote to this database, so this server's graph "
                            "is out of date (restart it to load the current state); nothing of "
                            "this write was applied")
        .With("head", head_tx);
  }
  std::string hash = TxChainHash(prev_hash, ws.tx, ws);
  CMDB_RETURN_IF_ERROR(PutVersions(ws));
  CMDB_RETURN_IF_ERROR(PutOutbox(ws, prev_hash, hash));
  return write_->Exec(
      "INSERT INTO transactions(id, time, actor, source, change_ref, message, cis_written,"
      " rels_written, schema_version, prev_hash, hash, unauthorized)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
      Params()
          .Int(ws.tx.id)
          .Int(ws.tx.time)
          .Text(ws.tx.actor)
          .Text(ws.tx.source)
          .Nullable(ws.tx.change_ref)
          .Nullable(ws.tx.message)
          .Int(ws.tx.cis_written)
          .Int(ws.tx.rels_written)
          .Int(ws.tx.schema_version)
          .Text(prev_hash)
          .Text(hash)
          .Nullable(ws.tx.unauthorized));
}

namespace {

constexpr size_t kRowsPerInsert = 64;

// "($1, $2, ...), (...)" for `rows` rows of `cols` parameters.
std::string Placeholders(size_t rows, size_t cols) {
  std::string out;
  for (size_t r = 0; r < rows; ++r) {
    out += r ? ", (" : "(";
    for (size_t c = 0; c < cols; ++c) out += (c ? ", $" : "$") + std::to_string(r * cols + c + 1);
    out += ")";
  }
  return out;
}

// Closes the current versions of the ids (valid_to = tx), in batches of comma-separated ids.
Status CloseVersions(Conn& conn, const char* table, const std::vector<int64_t>& ids, TxId tx) {
  for (size_t i = 0; i < ids.size(); i += 1000) {
    std::string list;
    for (size_t j = i; j < ids.size() && j < i + 1000; ++j)
      (list += list.empty() ? "" : ",") += std::to_string(ids[j]);
    CMDB_RETURN_IF_ERROR(conn.Exec(std::string("UPDATE ") + table +
                                       " SET valid_to = $1 WHERE valid_to IS NULL AND id = "
                                       "ANY(string_to_array($2, ',')::bigint[])",
                                   Params().Int(tx).Text(list)));
  }
  return Status::Ok();
}

// Inserts `records` in statements of kRowsPerInsert rows: `bind` adds one record's parameters.
template <typename Record, typename Bind>
Status InsertRows(Conn& conn, const std::string& head, size_t cols,
                  const std::vector<Record>& records, Bind bind) {
  for (size_t i = 0; i < records.size(); i += kRowsPerInsert) {
    size_t n = std::min(kRowsPerInsert, records.size() - i);
    Params p;
    for (size_t j = 0; j < n; ++j) bind(p, records[i + j]);
    CMDB_RETURN_IF_ERROR(conn.Exec(head + Placeholders(n, cols), p));
  }
  return Status::Ok();
}

}  // namespace

Status PgStore::PutVersions(const WriteSet& ws) {
  TxId tx = ws.tx.id;
  if (!ws.schema_ddl.empty()) {
    CMDB_RETURN_IF_ERROR(
        write_->Exec("INSERT INTO schema_versions(version, tx, ddl) VALUES ($1, $2, $3)",
                     Params().Int(ws.tx.schema_version).Int(tx).Text(ws.schema_ddl)));
  }
  std::vector<int64_t> closed;
  for (const CiRecord& c : ws.cis)
    if (c.version > 1 || c.retired) closed.push_back(c.id);
  CMDB_RETURN_IF_ERROR(CloseVersions(*write_, "ci_versions", closed, tx));
  closed.clear();
  for (const RelRecord& r : ws.rels)
    if (r.version > 1 || r.retired) closed.push_back(r.id);
  CMDB_RETURN_IF_ERROR(CloseVersions(*write_, "rel_versions", closed, tx));
  CMDB_RETURN_IF_ERROR(InsertRows(
      *write_,
      "INSERT INTO ci_versions(id, version, class, attrs, created_at, updated_at, valid_from,"
      " retired) VALUES ",
      8, ws.cis, [&](Params& p, const CiRecord& c) {
        p.Int(c.id).Int(c.version).Text(c.class_name).Blob(EncodeAttrs(c.attrs));
        p.Int(c.created_at).Int(c.updated_at).Int(tx).Int(c.retired ? 1 : 0);
      }));
  CMDB_RETURN_IF_ERROR(InsertRows(
      *write_,
      "INSERT INTO rel_versions(id, version, type, from_id, to_id, attrs, created_at, updated_at,"
      " valid_from, retired) VALUES ",
      10, ws.rels, [&](Params& p, const RelRecord& r) {
        p.Int(r.id).Int(r.version).Text(r.type).Int(r.from).Int(r.to).Blob(EncodeAttrs(r.attrs));
        p.Int(r.created_at).Int(r.updated_at).Int(tx).Int(r.retired ? 1 : 0);
      }));
  for (const Provenance& p : ws.provenance) {
    CMDB_RETURN_IF_ERROR(write_->Exec(
        "INSERT INTO provenance(rel, id, source, last_seen, stale, owned)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (rel, id, source) DO UPDATE SET"
        " last_seen = EXCLUDED.last_seen, stale = EXCLUDED.stale, owned = EXCLUDED.owned",
        Params()
            .Int(p.relationship ? 1 : 0)
            .Int(p.id)
            .Text(p.source)
            .Int(p.last_seen)
            .Int(p.stale ? 1 : 0)
            .Blob(EncodeAttrs(p.owned))));
  }
  for (const DocRecord& d : ws.docs) {
    if (d.version > 1) {
      CMDB_RETURN_IF_ERROR(write_->Exec(
          "UPDATE doc_versions SET valid_to = $1 WHERE kind = $2 AND id = $3 AND valid_to IS NULL",
          Params().Int(tx).Text(d.kind).Int(d.id)));
    }
    CMDB_RETURN_IF_ERROR(write_->Exec(
        "INSERT INTO doc_versions(kind, id, version, body, updated_at, valid_from, retired)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        Params()
            .Text(d.kind)
            .Int(d.id)
            .Int(d.version)
            .Blob(EncodeAttrs(d.body))
            .Int(d.updated_at)
            .Int(tx)
            .Int(d.retired ? 1 : 0)));
  }
  return Status::Ok();
}

Status PgStore::LoadDocs(const std::function<void(DocRecord&&)>& sink) {
  std::lock_guard l(read_mu_);
  return InSnapshot(*read_, [&] {
    return ScanRows(*read_, "docs",
                    std::string("SELECT ") + kDocCols +
                        " FROM doc_versions WHERE valid_to IS NULL ORDER BY kind, id",
                    Params(), ReadDoc, sink);
  });
}

Status PgStore::LoadProvenance(const std::function<void(Provenance&&)>& sink) {
  std::lock_guard l(read_mu_);
  return InSnapshot(*read_, [&] {
    auto read = [](const Row& s) -> Result<Provenance> {
      Provenance p;
      p.relationship = s.Int(0) != 0;
      p.id = s.Int(1);
      p.source = s.Text(2);
      p.last_seen = s.Int(3);
      p.stale = s.Int(4) != 0;
      auto owned = DecodeAttrs(s.Blob(5));
      if (!owned.ok()) return owned.status();
      p.owned = std::move(*owned);
      return p;
    };
    return ScanRows(*read_, "prov",
                    "SELECT rel, id, source, last_seen, stale, owned FROM provenance"
                    " ORDER BY rel, id, source",
                    Params(), read, sink);
  });
}

Result<std::vector<DocRecord>> PgStore::DocHistory(const std::string& kind, int64_t id) {
  std::lock_guard l(read_mu_);
  return AllRows<DocRecord>(
      *read_,
      std::string("SELECT ") + kDocCols +
          " FROM doc_versions WHERE kind = $1 AND id = $2 ORDER BY valid_from",
      Params().Text(kind).Int(id), ReadDoc);
}

Result<std::vector<CiRecord>> PgStore::CiHistory(CiId id) {
  std::lock_guard l(read_mu_);
  return AllRows<CiRecord>(
      *read_,
      std::string("SELECT ") + kCiCols + " FROM ci_versions WHERE id = $1 ORDER BY valid_from",
      Params().Int(id), ReadCi);
}

Result<std::vector<RelRecord>> PgStore::RelHistory(RelId id) {
  std::lock_guard l(read_mu_);
  return AllRows<RelRecord>(
      *read_,
      std::string("SELECT ") + kRelCols + " FROM rel_versions WHERE id = $1 ORDER BY valid_from",
      Params().Int(id), ReadRel);
}

Result<std::optional<CiRecord>> PgStore::LatestCi(CiId id) {
  std::lock_guard l(read_mu_);
  auto rows = AllRows<CiRecord>(
      *read_,
      std::string("SELECT ") + kCiCols + " FROM ci_versions WHERE id = $1 AND valid_to IS NULL",
      Params().Int(id), ReadCi);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<CiRecord>();
  return std::optional<CiRecord>(std::move(rows->front()));
}

Result<std::vector<TxRecord>> PgStore::Transactions(TxId since, int limit) {
  std::lock_guard l(read_mu_);
  return AllRows<TxRecord>(
      *read_,
      std::string("SELECT ") + kTxCols + " FROM transactions WHERE id > $1 ORDER BY id LIMIT $2",
      Params().Int(since).Int(limit), ReadTxResult);
}

Result<std::vector<TxRecord>> PgStore::FlaggedTransactions(TxId since, int limit) {
  std::lock_guard l(read_mu_);
  return AllRows<TxRecord>(*read_,
                           std::string("SELECT ") + kTxCols +
                               " FROM transactions WHERE id > $1 AND unauthorized IS NOT NULL"
                               " ORDER BY id LIMIT $2",
                           Params().Int(since).Int(limit), ReadTxResult);
}

Result<TokenRecord> PgStore::CreateToken(TokenRecord token) {
  std::lock_guard l(write_mu_);
  Status st = InWriteTx([&]() -> Status {
    CMDB_RETURN_IF_ERROR(
        write_->Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(kTokenLock)));
    // Never an id the log has records of (a row deleted by hand would free it).
    auto next = write_->Query(
        "SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM tokens),"
        " (SELECT COALESCE(MAX(id), 0) FROM doc_versions WHERE kind = 'token')) + 1");
    if (!next.ok()) return next.status();
    token.id = next->Int(0, 0);
    Status put = write_->Exec(
        "INSERT INTO tokens(id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        Params()
            .Int(token.id)
            .Text(token.name)
            .Text(RoleName(token.role))
            .Text(token.hash)
            .Int(token.created_at));
    if (put.code() == StatusCode::kConflict)
      return Status::Conflict("a token named '" + token.name + "' already exists");
    return put;
  });
  if (!st.ok()) return st;
  return token;
}

Result<std::vector<TokenRecord>> PgStore::ListTokens() {
  std::lock_guard l(read_mu_);
  return AllRows<TokenRecord>(
      *read_, std::string("SELECT ") + kTokenCols + " FROM tokens ORDER BY id", Params(),
      [](const Row& r) -> Result<TokenRecord> { return ReadToken(r); });
}

Status PgStore::RevokeToken(const std::string& name, int64_t now) {
  std::lock_guard l(write_mu_);
  auto r = write_->Query("UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at = 0",
                         Params().Int(now).Text(name));
  if (!r.ok()) return r.status();
  if (r->Affected() == 0) return Status::NotFound("no valid token named '" + name + "'");
  return Status::Ok();
}

Result<std::optional<TokenRecord>> PgStore::FindToken(const std::string& hash) {
  std::lock_guard l(read_mu_);
  auto rows = AllRows<TokenRecord>(
      *read_,
      std::string("SELECT ") + kTokenCols + " FROM tokens WHERE hash = $1 AND revoked_at = 0",
      Params().Text(hash), [](const Row& r) -> Result<TokenRecord> { return ReadToken(r); });
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(std::move(rows->front()));
}

}  // namespace cmdb
