// Migration of a SQLite database into PostgreSQL (`cmdbd migrate`, docs/scale-out.md): the whole
// store, history and hash chain included, copied as it is and then verified.
// Thread safety: one call at a time; it opens its own connections.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cmdb/status.hpp"
#include "cmdb/store.hpp"

namespace cmdb {

struct MigrationOptions {
  std::string sqlite_path;  // the SQLite database file (no server may hold it)
  std::string key_file;     // its key file ("": <db>.key), for verifying its keyed rows
  std::string pg_url;       // the PostgreSQL database (libpq URI); no cmdbd may have used it
};

struct MigrationReport {
  // Rows copied per table, in copy order (the same count was found in PostgreSQL after).
  std::vector<std::pair<std::string, int64_t>> tables;
  ChainHead head;        // the head of the log, the same in both databases
  int64_t verified = 0;  // transactions the PostgreSQL store's verification checked
};

// Copies every table of the SQLite store at `options.sqlite_path` (the transaction log with its
// hashes, every CI, relationship and document version, provenance, schema versions, tokens,
// webhooks with their outbox and deliveries, and the store's settings) into the PostgreSQL
// database at `options.pg_url`, in one PostgreSQL transaction (COPY), and verifies the copy.
// Before anything is written: the SQLite file is locked as a server locks it (kUnavailable when
// a server holds it) and verified (its chain, versions and keyed rows; kInternal naming the
// first problem when that fails), and the PostgreSQL database must hold no cmdb data
// (kConflict). After the commit: the same head, the same row count in every table, and the
// PostgreSQL store's own verification of the whole log (kInternal otherwise; the copy stays,
// for inspection). Nothing is written to PostgreSQL when a step before the commit fails.
// SQLite's keyed-row MACs are not copied (the PostgreSQL store keeps no keyed rows yet).
Result<MigrationReport> MigrateSqliteToPg(const MigrationOptions& options);

}  // namespace cmdb
