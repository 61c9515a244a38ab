#include "query/parser/parse.hpp"

#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

#include "cmdb/utf8.hpp"
#include "query/common/location.hpp"
#include "query/parser/grammar.hpp"

namespace cmdb::gql {
namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool SameWord(std::string_view a, const char* upper) {
  size_t n = std::char_traits<char>::length(upper);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != upper[i]) return false;
  return true;
}

// The offset of the bracket or CASE that opens nesting level kMaxQueryNesting + 1, if any. A
// cheap scan ahead of the parser (whose recursion follows the nesting) that skips strings,
// backquoted names and comments. CASE opens a level and END closes it (not where they are
// property names, labels, parameters, map keys or function names); a closing bracket closes the
// innermost level. It never counts fewer levels than the parser enters.
std::optional<size_t> TooDeep(std::string_view s) {
  std::vector<char> open;  // '(', '[', '{' or 'C' for CASE
  size_t i = 0, n = s.size();
  auto prev_significant = [&](size_t at) -> char {
    while (at > 0 && std::isspace(static_cast<unsigned char>(s[at - 1]))) --at;
    return at == 0 ? '\0' : s[at - 1];
  };
  auto next_significant = [&](size_t at) -> char {
    while (at < n && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
    return at == n ? '\0' : s[at];
  };
  while (i < n) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      for (++i; i < n && s[i] != c; ++i) {
        if (s[i] == '\\') ++i;
      }
      ++i;
    } else if (c == '`') {
      for (++i; i < n && s[i] != '`'; ++i) {
      }
      ++i;
    } else if (s.substr(i, 2) == "//") {
      while (i < n && s[i] != '\n') ++i;
    } else if (s.substr(i, 2) == "/*") {
      size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else if (c == '(' || c == '[' || c == '{') {
      open.push_back(c);
      if (open.size() > static_cast<size_t>(kMaxQueryNesting)) return i;
      ++i;
    } else if (c == ')' || c == ']' || c == '}') {
      if (!open.empty() && open.back() != 'C') open.pop_back();
      ++i;
    } else if (IsWordChar(c)) {
      size_t start = i;
      while (i < n && IsWordChar(s[i])) ++i;
      std::string_view word = s.substr(start, i - start);
      if (std::isdigit(static_cast<unsigned char>(c))) continue;  // a number such as 1e5
      char before = prev_significant(start), after = next_significant(i);
      if (before == '.' || before == ':' || before == '$' || after == ':' || after == '(') continue;
      if (SameWord(word, "CASE")) {
        open.push_back('C');
        if (open.size() > static_cast<size_t>(kMaxQueryNesting)) return start;
      } else if (SameWord(word, "END") && !open.empty() && open.back() == 'C') {
        open.pop_back();
      }
    } else {
      ++i;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ParsedQuery::TextOf(const ast::x3::position_tagged& node) const {
  if (node.id_first < 0) return "";
  auto range = positions->range_of(node);
  return std::string(range.begin(), range.end());
}

Result<std::shared_ptr<ParsedQuery>> ParseQuery(std::string source) {
  auto parsed = std::make_shared<ParsedQuery>();
  parsed->source = std::move(source);
  const std::string& text = parsed->source;
  if (auto bad = FirstInvalidUtf8(text)) {
    Status st = parsing::LocatedError(StatusCode::kInvalidArgument, text, *bad,
                                      "the query is not valid UTF-8 text");
    st.WithType("SyntaxError").With("detail", "InvalidUtf8");
    return st;
  }
  if (auto deep = TooDeep(text)) {
    Status st = parsing::LocatedError(StatusCode::kResourceExhausted, text, *deep,
                                      "brackets and CASE nest deeper than " +
                                          std::to_string(kMaxQueryNesting) + " levels");
    st.WithType("SyntaxError").With("detail", "NestingTooDeep");
    return st;
  }
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
