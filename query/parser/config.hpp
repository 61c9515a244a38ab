// Iterator, skipper and context types shared by the query grammar's declaration and its one
// instantiation.
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <functional>
#include <string>

#include "query/common/error_handler.hpp"

namespace cmdb::gql::parser {
namespace x3 = boost::spirit::x3;

using iterator_type = std::string::const_iterator;

// The lexical pieces the grammar and the nesting scan ahead of it (parse.cpp) both use, so the
// two can never disagree on where a comment, a string or a backquoted name ends.
// A line comment: "//" up to a line end as x3::eol knows it ("\r\n", "\r" or "\n").
inline const auto line_comment = x3::lexeme["//" >> *(x3::char_ - x3::eol)];
// A block comment "/* ... */" (unterminated: no comment; the "/" is then an operator).
inline const auto block_comment = x3::lexeme["/*" >> *(x3::char_ - "*/") >> "*/"];
// A quoted string between `quote`s: its raw text, with a backslash escaping any one byte.
template <char quote>
inline const auto quoted_text =
    x3::lexeme[x3::lit(quote) >> x3::raw[*(('\\' >> x3::char_) | ~x3::char_(quote))] >> x3::lit(quote)];
// A backquoted name: "``" stands for one backquote.
inline const auto backquoted_name =
    x3::lexeme['`' >> *((x3::lit("``") >> x3::attr('`')) | ~x3::char_('`')) >> '`'];

// White space and comments.
inline const auto skipper = x3::space | line_comment | block_comment;
using skipper_type = std::remove_const_t<decltype(skipper)>;
using phrase_context_type = x3::phrase_parse_context<skipper_type>::type;
using error_handler_type = parsing::ErrorHandler<iterator_type>;
using context_type = x3::context<parsing::error_handler_tag, std::reference_wrapper<error_handler_type>,
                                 phrase_context_type>;

}  // namespace cmdb::gql::parser
