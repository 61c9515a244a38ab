// The options of an impact request (direction, depth bound, type and class filters, redundancy),
// read by one set of rules with one set of messages for every entry point: POST /v1/impact,
// CALL impact(...) in the query language and the roots scope of a baseline.
//
// The rules know no JSON and no query values: each caller reduces what it was given to
// ImpactOption values (name and ImpactOptionValue) and hands them over; errors come back as a
// Status the caller reports its own way (an HTTP error body, a located query error).
// Thread safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "analysis/impact.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"

namespace cmdb::analysis {

// The deepest search an impact request may ask for (max_depth).
inline constexpr int kMaxImpactDepth = 100;

// A value no rule accepts (a float, a map, a CI, a list holding something other than strings):
// the caller's value had a kind the options never take.
struct OtherOptionValue {};

// An option's value as the caller read it, reduced to the kinds the rules tell apart.
// std::monostate is null: the option is left as it is (the same as not giving it).
using ImpactOptionValue = std::variant<std::monostate, bool, int64_t, std::string,
                                       std::vector<std::string>, OtherOptionValue>;

// One option as given: its name (direction, max_depth, types, classes or redundancy) and value.
struct ImpactOption {
  std::string name;
  ImpactOptionValue value;
};

// The option names in the order error messages list them.
const std::vector<std::string>& ImpactOptionNames();

// Applies `options` to `request`, in order; the seeds and the options not given keep the values
// the caller put there (its defaults). The rules and their messages (kInvalidArgument, details
// "option" naming the option):
//   direction   "impacted" or "depends_on"
//               -> direction must be "impacted" or "depends_on", not "up"
//                  (a value that is not a string: without the ", not ..." part)
//   max_depth   an integer from 0 to kMaxImpactDepth
//               -> max_depth must be an integer from 0 to 100
//   types       a list of names -> types must be a list of names
//   classes     a list of names -> classes must be a list of names
//   redundancy  true or false -> redundancy must be true or false
//   any other name -> unknown impact option 'x' (did you mean ...?); options: direction, ...
// Whether the names in types and classes exist is CheckImpactNames' part (it needs a schema).
Status ApplyImpactOptions(const std::vector<ImpactOption>& options, ImpactRequest& request);

// Checks that every relationship type in request.types and every class in request.classes
// exists in `schema` (in open mode any name does). kInvalidArgument with details "type" or
// "class": "unknown relationship type 'X'" or "unknown class 'X'", with a did-you-mean when a
// name is close. ComputeImpact checks the same; callers may check first to report it their way.
Status CheckImpactNames(const ImpactRequest& request, const Schema& schema);

}  // namespace cmdb::analysis
