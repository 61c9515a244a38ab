// Helpers for the core's tests: a database on a MemStore with the default schema, built with the
// core alone (and the schema DDL parser, query/ddl), so tests/core depends on no layer above.
// Ownership: a CoreDb owns its store and database. Thread safety: as Database.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "cmdb/clock.hpp"
#include "cmdb/database.hpp"
#include "cmdb/mem_store.hpp"
#include "query/ddl/ddl_parser.hpp"

namespace cmdb::testing {

inline std::string SourceDir() { return CMDB_SOURCE_DIR; }

// The default schema from schema/ (what a new server gets).
inline Schema DefaultSchema() {
  Schema s = Schema::Builtin(false);
  Status st = ddl::LoadSchemaDir(SourceDir() + "/schema", s);
  if (!st.ok()) throw std::runtime_error(st.ToString());
  return s;
}

// Creates a CI (a relationship) in its own transaction and returns its id; throws on error.
inline CiId CreateCi(Database& db, const std::string& cls, AttrMap attrs) {
  CiId id = 0;
  auto tx = db.Write(TxMeta{}, [&](Txn& t) {
    auto r = t.CreateCi(cls, std::move(attrs));
    if (r.ok()) id = *r;
    return r.status();
  });
  if (!tx.ok()) throw std::runtime_error(tx.status().ToString());
  return id;
}
inline RelId CreateRel(Database& db, const std::string& type, CiId from, CiId to) {
  RelId id = 0;
  auto tx = db.Write(TxMeta{}, [&](Txn& t) {
    auto r = t.CreateRel(type, from, to, {});
    if (r.ok()) id = *r;
    return r.status();
  });
  if (!tx.ok()) throw std::runtime_error(tx.status().ToString());
  return id;
}

// Opens a database over `store`: a new store gets the default schema in its first transaction
// (as a new server does), a used one its stored schema back. No change control, no demo data.
inline std::unique_ptr<Database> OpenCoreDatabase(Store* store,
                                                  const Clock* clock = Clock::System()) {
  auto info = store->Info();
  if (!info.ok()) throw std::runtime_error(info.status().ToString());
  if (!info->initialized) {
    Status st = store->Initialize(false);
    if (!st.ok()) throw std::runtime_error(st.ToString());
    info = store->Info();
  }
  Schema schema = Schema::Builtin(false);
  if (!info->schema_ddl.empty()) {
    Status st = ddl::ApplyDdl(info->schema_ddl, schema);
    if (!st.ok()) throw std::runtime_error(st.ToString());
    schema.set_version(info->schema_version);
  }
  auto db = std::make_unique<Database>(store, clock);
  Status opened = db->Open(std::make_shared<const Schema>(schema));
  if (!opened.ok()) throw std::runtime_error(opened.ToString());
  if (info->schema_version == 0) {
    auto tx = db->ChangeSchema(TxMeta{"system", "schema", "", "default schema"}, DefaultSchema());
    if (!tx.ok()) throw std::runtime_error(tx.status().ToString());
  }
  return db;
}

// A MemStore-backed database holding the default schema.
struct CoreDb {
  MemStore store;
  std::unique_ptr<Database> db;

  explicit CoreDb(const Clock* clock = Clock::System()) : db(OpenCoreDatabase(&store, clock)) {}

  CiId Create(const std::string& cls, AttrMap attrs) { return CreateCi(*db, cls, std::move(attrs)); }
  RelId Relate(const std::string& type, CiId from, CiId to) { return CreateRel(*db, type, from, to); }
};

inline AttrMap Attrs(std::initializer_list<std::pair<const char*, Value>> list) {
  AttrMap m;
  for (const auto& [k, v] : list) m.Set(k, v);
  return m;
}

}  // namespace cmdb::testing
