// Time travel at scale: AS OF and USE BASELINE queries on the loaded estate after 1% of its CIs
// changed, against the same queries on the present, in the same run (ratios), and the read of
// the changed versions from the store that bounds what the past may cost more.
// Thread safety: single-threaded; writes to `db`.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cmdb/database.hpp"

namespace cmdb::bench {

// Remembers the present transaction T, changes 1% of the CIs (attribute updates spread over the
// id range, a few retirements, new relationships) in transactions of 1,000 CIs, then times
// (wall and thread CPU time, medians of `reps`) the read of the changed versions, opening the
// view, each query on the present, AS OF T and USE BASELINE (every CI and relationship at T),
// the old way of rebuilding the past from every version (once), and the heap held before and
// after. `starts` are impact start CIs (class, name). Fills `out`; returns false when a query
// fails, two ways of reading the past disagree, or an AS OF query breaks the bound in CPU time
// (twice the present plus the read of the changed versions) — unless `quick`, whose small
// estates time too little to compare.
// `heap_in_use` gives the heap bytes the program holds (after returning freed memory).
bool AsOfBench(Database& db, const std::vector<std::pair<std::string, std::string>>& starts, int reps,
               bool quick, const std::function<int64_t()>& heap_in_use, nlohmann::json& out);

}  // namespace cmdb::bench
