#include "api/bootstrap.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bulk/bulk.hpp"
#include "process/change_service.hpp"
#include "query/ddl/ddl_parser.hpp"

namespace cmdb::api {

static Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::unique_ptr<Database>> OpenDatabase(Store* store, const BootstrapOptions& options,
                                               std::ostream& log) {
  auto info = store->Info();
  if (!info.ok()) return info.status();
  bool fresh = !info->initialized;
  if (fresh) {
    CMDB_RETURN_IF_ERROR(store->Initialize(options.open_mode));
    info = store->Info();
    if (!info.ok()) return info.status();
  }
  Schema schema = Schema::Builtin(info->open_mode);
  if (!info->schema_ddl.empty()) {
    Status st = ddl::ApplyDdl(info->schema_ddl, schema);
    if (!st.ok()) return Status::Internal("the stored schema does not parse: " + st.message());
    schema.set_version(info->schema_version);
  }
  auto db = std::make_unique<Database>(store, options.clock);
  CMDB_RETURN_IF_ERROR(db->Open(std::make_shared<const Schema>(schema)));
  if (info->schema_version == 0 && !options.schema_dir.empty() && !info->open_mode) {
    Schema next = schema;
    CMDB_RETURN_IF_ERROR(ddl::LoadSchemaDir(options.schema_dir, next));
    TxMeta meta{"system", "schema", "", "initial schema from " + options.schema_dir};
    auto tx = db->ChangeSchema(meta, std::move(next));
    if (!tx.ok()) return tx.status();
    log << "schema: " << db->schema()->classes().size() << " classes, "
        << db->schema()->rel_types().size() << " relationship types from " << options.schema_dir << "\n";
    fresh = true;
  }
  if (fresh && !options.demo_file.empty() && !info->open_mode && db->Read().graph().ci_count() == 0) {
    auto text = ReadFile(options.demo_file);
    if (!text.ok()) return text.status();
    bulk::BulkResult result;
    TxMeta meta{"system", "demo", "", "demo dataset " + options.demo_file};
    Status st = bulk::RunBulk(*db, meta, bulk::StringReader(*text), text->size(), result);
    if (!st.ok()) {
      std::string first = result.errors.empty() ? "" : " (line " + std::to_string(result.errors[0].line) +
                                                           ": " + result.errors[0].status.message() + ")";
      return Status(st.code(), "demo data " + options.demo_file + ": " + st.message() + first);
    }
    log << "demo data: " << result.created << " CIs and " << result.rels_created
        << " relationships loaded from " << options.demo_file << "\n";
  }
  // Change control applies from here on (set-up writes above are the system's own).
  db->SetWritePolicy(process::CheckChangeControl);
  return db;
}

}  // namespace cmdb::api
