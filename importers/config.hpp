// Import configuration: source precedence, the age after which a stronger source's value may be
// overwritten, and where CSV mappings live. Read from a JSON file (schema/import.json by default).
// Thread safety: plain values.
#pragma once

#include <string>

#include "cmdb/status.hpp"
#include "importers/import.hpp"

namespace cmdb::importers {

struct ImportConfig {
  Precedence precedence;
  int64_t max_age_micros = int64_t(30) * 24 * 3600 * 1000000;
  std::string mappings_dir;  // named CSV mappings: <dir>/<name>.json
};

// {"precedence": ["terraform", ...], "per_attribute": {"PhysicalServer.os": [...]},
//  "max_age_days": 30} ("_comment" is allowed and ignored). Errors name the file and the field; an
// unknown field is refused (`schema/import.json: unknown field "precedance" (did you mean
// 'precedence'?); allowed: ...`).
Result<ImportConfig> LoadImportConfig(const std::string& path);

}  // namespace cmdb::importers
