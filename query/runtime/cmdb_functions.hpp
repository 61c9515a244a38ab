// The CMDB property functions: what the CMDB keeps about a CI or a relationship besides its
// attributes (class, version, times, the transaction that wrote it, the retired flag) and the
// import provenance of each (which source reported it and set each attribute, and when it last
// confirmed them). All live in the `cmdb.` namespace of function names (docs/query-language.md,
// "CMDB properties"), so they can never clash with a standard function.
// Thread safety: the functions are pure; they read the graph through the call's FnEnv.
#pragma once

#include <functional>

#include "query/runtime/functions.hpp"

namespace cmdb::gql {

// Hands every CMDB property function to `add` (name as written, minimum and maximum number of
// arguments, implementation); the function catalogue (functions.cpp) registers them.
void AddCmdbFunctions(const std::function<void(const char* name, int min_args, int max_args, ScalarFn fn)>& add);

}  // namespace cmdb::gql
