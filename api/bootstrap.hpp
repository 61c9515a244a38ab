// Bootstrap: turns a Store into an open Database. A new store gets the schema from the *.gql
// files of a folder (applied in name order) and, optionally, a demo dataset through the bulk
// path; an existing store gets its schema back from the DDL it saved.
// Thread safety: call once at start-up.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "cmdb/database.hpp"

namespace cmdb::api {

struct BootstrapOptions {
  std::string schema_dir;  // *.gql files for a new database; empty: built-in schema only
  std::string demo_file;   // bulk NDJSON loaded into a new database; empty: none
  bool open_mode = false;  // mode of a new database (an open database gets no schema or demo data)
  const Clock* clock = Clock::System();  // the database's clock (must outlive it)
};

Result<std::unique_ptr<Database>> OpenDatabase(Store* store, const BootstrapOptions& options,
                                               std::ostream& log);

}  // namespace cmdb::api
