// The HTTP edge of impact analysis: impact options read from JSON members (for POST /v1/impact
// and baseline scopes).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "analysis/impact_options.hpp"
#include "api/json_codec.hpp"

namespace cmdb::api {

// The impact options among the members of a JSON object: for each (member, option) pair of
// `names` whose member `object` has, in the order of `names`, the option with the member's value
// reduced to an ImpactOptionValue (null stays null; a list holding anything but strings, a
// float or an object is OtherOptionValue). `object` must be a JSON object.
std::vector<analysis::ImpactOption> ImpactOptionsFromJson(
    const Json& object, const std::vector<std::pair<std::string, std::string>>& names);

}  // namespace cmdb::api
