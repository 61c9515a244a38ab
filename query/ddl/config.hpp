// Iterator, skipper and context types shared by the DDL grammar's declaration and its one
// instantiation.
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <functional>
#include <string>

#include "query/common/error_handler.hpp"

namespace cmdb::ddl::parser {
using parsing::Annotate;
using parsing::ErrorHandler;
using parsing::ErrorHandlerBase;
using parsing::error_handler_tag;
namespace x3 = boost::spirit::x3;

using iterator_type = std::string::const_iterator;
// Skips white space and comments ("-- ..." and "// ..." to the end of the line).
inline const auto skipper = x3::space | x3::lexeme[(x3::lit("--") | "//") >> *(x3::char_ - x3::eol)];
using skipper_type = std::remove_const_t<decltype(skipper)>;
using phrase_context_type = x3::phrase_parse_context<skipper_type>::type;
using error_handler_type = ErrorHandler<iterator_type>;
using context_type =
    x3::context<error_handler_tag, std::reference_wrapper<error_handler_type>, phrase_context_type>;

}  // namespace cmdb::ddl::parser
