// The enums every stage of the query pipeline names: operators (parser -> binder -> executor),
// relationship directions (binder -> planner -> runtime) and a query's mode (parser -> engine ->
// its callers). Plain enums with no dependencies, so that naming one pulls no stage's headers.
// Thread safety: constants only.
#pragma once

namespace cmdb::gql {

// Operators of every precedence level (one name per concept through the stages).
enum class Op {
  kOr, kXor, kAnd, kNot,
  kEq, kNe, kLt, kGt, kLe, kGe,
  kStartsWith, kEndsWith, kContains, kIn, kRegex, kIsNull, kIsNotNull,
  kAdd, kSub, kMul, kDiv, kMod, kPow,
  kNeg, kPos,
};

// Which way a relationship pattern is followed from the node it starts at: along the
// relationship (from -> to), against it, or either way.
enum class Direction { kOut, kIn, kBoth };

// What a query asks for besides its rows: nothing (run it), EXPLAIN (plan it and run nothing)
// or PROFILE (run it and count rows and time per clause).
enum class QueryMode { kRun, kExplain, kProfile };

}  // namespace cmdb::gql
