// Declaration of the query grammar's entry rule (defined in grammar_def.hpp, instantiated once
// in grammar.cpp).
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "query/parser/ast.hpp"

namespace cmdb::gql::parser {
namespace x3 = boost::spirit::x3;

struct query_class;
using query_type = x3::rule<query_class, ast::Query>;
BOOST_SPIRIT_DECLARE(query_type)

}  // namespace cmdb::gql::parser

namespace cmdb::gql {
const parser::query_type& QueryGrammar();
}  // namespace cmdb::gql
