// Helpers shared by the tests of the layers above the core: a database on a MemStore opened the
// way cmdbd opens one (api/bootstrap.hpp: default schema, optional demo data, change control).
// The core's own tests use core_util.hpp, which needs no layer above the core.
#pragma once

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "api/bootstrap.hpp"
#include "cmdb/database.hpp"
#include "cmdb/mem_store.hpp"
#include "core_util.hpp"

namespace cmdb::testing {

// A MemStore-backed database holding the default schema (and optionally the demo data).
struct TestDb {
  MemStore store;
  std::unique_ptr<Database> db;

  explicit TestDb(bool demo = false, bool open_mode = false,
                  const Clock* clock = Clock::System()) {
    api::BootstrapOptions opts;
    opts.clock = clock;
    opts.schema_dir = open_mode ? "" : SourceDir() + "/schema";
    opts.demo_file = demo ? SourceDir() + "/schema/demo/demo.ndjson" : "";
    opts.open_mode = open_mode;
    std::ostringstream log;
    auto r = api::OpenDatabase(&store, opts, log);
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    db = std::move(*r);
  }

  // Creates a CI (a relationship) and returns its id; throws on error.
  CiId Create(const std::string& cls, AttrMap attrs) { return CreateCi(*db, cls, std::move(attrs)); }
  RelId Relate(const std::string& type, CiId from, CiId to) { return CreateRel(*db, type, from, to); }
};

}  // namespace cmdb::testing
