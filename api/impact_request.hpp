// The HTTP edge of impact analysis: impact options read from JSON members (for POST /v1/impact
// and baseline scopes) and the impact of seeds chosen by a query, computed on one committed
// state.
// Thread safety: the functions may be called concurrently (the database serializes writes).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/impact.hpp"
#include "analysis/impact_options.hpp"
#include "api/json_codec.hpp"
#include "cmdb/database.hpp"

namespace cmdb::api {

// The impact options among the members of a JSON object: for each (member, option) pair of
// `names` whose member `object` has, in the order of `names`, the option with the member's value
// reduced to an ImpactOptionValue (null stays null; a list holding anything but strings, a
// float or an object is OtherOptionValue). `object` must be a JSON object.
std::vector<analysis::ImpactOption> ImpactOptionsFromJson(
    const Json& object, const std::vector<std::pair<std::string, std::string>>& names);

// How often seeds are selected without holding writers off before ImpactOfSelectedSeeds holds
// them off.
inline constexpr int kSeedSelectionAttempts = 3;

// Chooses seeds with `select_seeds` (a read query: it takes its own read view) and computes the
// impact of `request` from them (request.seeds is replaced) on the state the seeds were chosen
// in, then calls `use` with that read view and the result while the view is held (render there:
// pointers into the graph are valid only then).
//
// A write that commits while the seeds are being chosen could remove a seed or change what it
// reaches before the impact is computed; so the transaction is noted before the selection and
// compared with the one the impact's view holds after it: when they differ the selection runs
// again, up to kSeedSelectionAttempts times, and after that once more inside
// Database::Write with nothing staged (no other write can commit until it ends; readers go on;
// nothing is logged). `select_seeds` must not write.
// Errors: those of `select_seeds` (unchanged), of ComputeImpact and of `use`.
Status ImpactOfSelectedSeeds(
    Database& db, const std::function<Result<std::vector<CiId>>()>& select_seeds,
    analysis::ImpactRequest request,
    const std::function<Status(const ReadView& view, const analysis::ImpactResult& result)>& use);

}  // namespace cmdb::api
