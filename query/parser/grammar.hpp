// Declaration of the query grammar's entry rule (defined in grammar_def.hpp, instantiated once
// in grammar.cpp).
#pragma once

#include <array>
#include <boost/spirit/home/x3.hpp>

#include "query/parser/ast.hpp"

namespace cmdb::gql::parser {
namespace x3 = boost::spirit::x3;

// The words that cannot name a variable unless backquoted (compared without case). Every other
// keyword (ANY, NONE, SINGLE, COUNT, EXISTS, COLLECT, SHORTEST, ALL, ...) can, as in the standard
// grammar, because the grammar tells the keyword from the name by what follows it.
inline constexpr std::array<const char*, 48> kReservedWords = {
    "match",    "optional", "where", "return",  "with",    "unwind",    "as",     "order",
    "by",       "skip",     "limit", "offset",  "asc",     "ascending", "desc",   "descending",
    "create",   "insert",   "merge", "set",     "remove",  "delete",    "detach", "union",
    "distinct", "and",      "or",    "xor",     "not",     "in",        "starts", "ends",
    "contains", "is",       "null",  "true",    "false",   "case",      "when",   "then",
    "else",     "end",      "on",    "explain", "profile", "call",      "yield",  "foreach"};

struct query_class;
using query_type = x3::rule<query_class, ast::Query>;
BOOST_SPIRIT_DECLARE(query_type)

}  // namespace cmdb::gql::parser

namespace cmdb::gql {
const parser::query_type& QueryGrammar();
}  // namespace cmdb::gql
