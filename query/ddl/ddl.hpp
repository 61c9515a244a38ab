// Declaration of the DDL grammar's entry rule (defined in ddl_def.hpp, instantiated once in
// ddl.cpp).
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "query/ddl/ast.hpp"

namespace cmdb::ddl::parser {
namespace x3 = boost::spirit::x3;

struct script_class;
using script_type = x3::rule<script_class, ast::Script>;
BOOST_SPIRIT_DECLARE(script_type)

}  // namespace cmdb::ddl::parser

namespace cmdb::ddl {
// The grammar of a whole DDL script: statements separated by ';'.
const parser::script_type& ScriptGrammar();
}  // namespace cmdb::ddl
