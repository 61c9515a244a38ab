// The records the graph holds and the store persists: CIs, relationships, transactions.
// CI and relationship records are held for every current item, so they are packed: the class
// and type are interned names (4 bytes), the version shares 32 bits with the retired flag and
// the transaction ids are 32-bit.
// Thread safety: plain values. The graph holds the current ones in chunks shared copy-on-write
// with readers (record_table.hpp); never mutate a published record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/interned_name.hpp"

namespace cmdb {

using CiId = int64_t;
using RelId = int64_t;
using TxId = int64_t;
inline constexpr TxId kNoTx = 0;  // "open-ended" as valid_to; "none" elsewhere

// A transaction id as records hold it: 32 bits (the write path refuses tx ids past
// kMaxRecordTx, see Database::CommitLocked), so a record fits a cache-friendly size.
using RecordTx = uint32_t;
inline constexpr TxId kMaxRecordTx = TxId{UINT32_MAX};

// One version of a configuration item. `name` and `status` live in attrs. 48 bytes: a chunk of
// 1,024 is an allocator size class (record_table.hpp).
struct CiRecord {
  CiId id = 0;
  InternedName class_name;
  int32_t version : 31 = 1;     // 1 on create, +1 on every change
  bool retired : 1 = false;     // a tombstone version: the CI was deleted by valid_from
  AttrMap attrs;
  int64_t created_at = 0;       // micros since epoch (UTC)
  int64_t updated_at = 0;
  RecordTx valid_from = kNoTx;  // tx that wrote this version
  RecordTx valid_to = kNoTx;    // tx that superseded it; kNoTx while current
};
static_assert(sizeof(CiRecord) == 48, "a CI record is held for every CI: keep it small");

// One version of a relationship `from -[type]-> to`. 64 bytes.
struct RelRecord {
  RelId id = 0;
  InternedName type;
  int32_t version : 31 = 1;
  bool retired : 1 = false;
  CiId from = 0;
  CiId to = 0;
  AttrMap attrs;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  RecordTx valid_from = kNoTx;
  RecordTx valid_to = kNoTx;
};
static_assert(sizeof(RelRecord) == 64, "about 2.3 relationships a CI: keep it small");

// An entry of the transaction log.
struct TxRecord {
  TxId id = 0;
  int64_t time = 0;          // micros since epoch (UTC)
  std::string actor;         // who: a token name, "system", "import:<source>"
  std::string source;        // how: "api", "bulk", "query", "schema", "import", "system"
  std::string change_ref;    // optional change record reference
  std::string message;       // optional free text
  int64_t cis_written = 0;   // counts, for the audit log
  int64_t rels_written = 0;
  int64_t schema_version = 0;  // set when the tx changed the schema
  std::string unauthorized;    // non-empty when a change-control policy flagged the tx: why
  std::string prev_hash;       // the hash chain (set by the store on commit)
  std::string hash;
};

// One version of a process record: a change, a maintenance window, a baseline, a release, an
// audit. The core stores and versions it like a CI but does not interpret `body`; the process
// layer (process/) owns its meaning. Ids are per kind.
struct DocRecord {
  std::string kind;           // "change", "window", "baseline", "release", "audit", ...
  int64_t id = 0;
  int64_t version = 1;
  AttrMap body;
  int64_t updated_at = 0;     // micros since epoch (UTC)
  TxId valid_from = kNoTx;
  TxId valid_to = kNoTx;
  bool retired = false;       // deleted (kept in history)
};

// Which import source reported a CI or relationship, which of its attribute values that source
// owns (set last) and when it last confirmed each. Metadata, not versioned: every import run
// updates it, and it is not part of the hash chain. One record per (kind, id, source).
struct Provenance {
  bool relationship = false;
  int64_t id = 0;
  std::string source;
  int64_t last_seen = 0;  // micros: the last import of this source that reported it
  bool stale = false;     // a full scan of this source no longer reported it
  AttrMap owned;          // attribute -> INT micros when this source last confirmed its value
};

// Everything one transaction writes, as new versions. The store appends these to history and
// closes the versions they supersede; the graph replaces its current records with them.
struct WriteSet {
  TxRecord tx;
  std::vector<CiRecord> cis;    // new versions (retired = true for deletions)
  std::vector<RelRecord> rels;  // new versions (retired = true for deletions)
  std::vector<DocRecord> docs;  // new versions of process records
  std::vector<Provenance> provenance;  // upserts of import provenance
  std::string schema_ddl;       // non-empty when the schema changed: the full new DDL
};

}  // namespace cmdb
