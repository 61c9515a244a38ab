// JSON pieces shared by the change and release handlers.
// Thread safety: pure functions.
#pragma once

#include <vector>

#include "api/json_codec.hpp"
#include "process/change.hpp"
#include "process/diff.hpp"

namespace cmdb::api {

// An ISO-8601 time, or null for 0 (unset).
Json TimeJson(int64_t micros);
// A record's journal: [{"time", "actor", "kind", "from"?, "to"?, "text"?}].
Json JournalJson(const std::vector<process::ChangeEvent>& events);
// [{"attribute", "before", "after"}].
Json AttrDiffsJson(const std::vector<process::AttrDiff>& diffs);

}  // namespace cmdb::api
