#include "query/parser/parse.hpp"

#include "query/common/location.hpp"
#include "query/parser/grammar.hpp"

namespace cmdb::gql {

std::string ParsedQuery::TextOf(const ast::x3::position_tagged& node) const {
  if (node.id_first < 0) return "";
  auto range = positions->range_of(node);
  return std::string(range.begin(), range.end());
}

Result<std::shared_ptr<ParsedQuery>> ParseQuery(std::string source) {
  auto parsed = std::make_shared<ParsedQuery>();
  parsed->source = std::move(source);
  const std::string& text = parsed->source;
  auto first = text.cbegin();
  const auto last = text.cend();
  parsed->positions = std::make_unique<parser::error_handler_type>(first, last);
  auto& handler = *parsed->positions;
  const auto grammar = ast::x3::with<parsing::error_handler_tag>(std::ref(handler))[QueryGrammar()];
  bool ok = false;
  try {
    ok = ast::x3::phrase_parse(first, last, grammar, parser::skipper, parsed->ast);
  } catch (const ast::x3::expectation_failure<parser::iterator_type>& e) {
    handler.record(e.where(), e.which());
  }
  auto fail = [&](size_t offset, const std::string& what) -> Status {
    offset = parsing::NextToken(text, offset);
    std::string found = offset >= text.size() ? "the end of the query" : "'" + text.substr(offset, 1) + "'";
    Status st = parsing::LocatedError(StatusCode::kInvalidArgument, text, offset,
                                      "expected " + what + ", found " + found);
    st.WithType("SyntaxError").With("detail", "UnexpectedSyntax");
    return st;
  };
  if (handler.failure) return fail(handler.failure->offset, handler.failure->expected);
  if (!ok || first != last) return fail(static_cast<size_t>(first - text.cbegin()), "a clause");
  return parsed;
}

}  // namespace cmdb::gql
