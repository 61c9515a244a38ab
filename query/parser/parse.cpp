#include "query/parser/parse.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

#include "cmdb/utf8.hpp"
#include "query/common/error_handler.hpp"
#include "query/common/location.hpp"
#include "query/parser/grammar.hpp"
#include "query/parser/parsed_query.hpp"

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

// How far the lexical piece `p` (a comment, string or backquoted name, exactly as the grammar
// defines it) reaches from `at`; 0 when it does not match there.
template <typename Parser>
size_t Match(std::string_view s, size_t at, const Parser& p) {
  auto first = s.begin() + at;
  return ast::x3::parse(first, s.end(), p) ? static_cast<size_t>(first - s.begin()) - at : 0;
}

struct Scan {
  std::optional<size_t> too_deep;  // where level `limit` + 1 opens
  int max_depth = 0;
};

// A cheap scan ahead of the parser (whose recursion follows the nesting) that skips comments,
// strings and backquoted names with the grammar's own definitions of them (config.hpp), so it
// sees every bracket the grammar sees. CASE opens a level and END closes it (not where they
// are property names, labels, parameters, map keys or function names); a closing bracket closes
// the innermost level. It never counts fewer levels than the parser enters (where it might, it
// counts more); the grammar's own guard (nested[] in grammar_def.hpp) backs it up.
Scan ScanNesting(std::string_view s, int limit) {
  Scan out;
  std::vector<char> open;  // '(', '[', '{' or 'C' for CASE
  size_t i = 0, n = s.size();
  auto prev_significant = [&](size_t at) -> size_t {  // the index after it; 0: none
    while (at > 0 && std::isspace(static_cast<unsigned char>(s[at - 1]))) --at;
    return at;
  };
  auto next_significant = [&](size_t at) -> char {
    while (at < n && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
    return at == n ? '\0' : s[at];
  };
  auto push = [&](char kind, size_t at) {
    open.push_back(kind);
    if (static_cast<int>(open.size()) > out.max_depth) out.max_depth = static_cast<int>(open.size());
    if (!out.too_deep && static_cast<int>(open.size()) > limit) out.too_deep = at;
  };
  while (i < n) {
    char c = s[i];
    size_t skip = 0;
    if (c == '/') {
      skip = Match(s, i, parser::line_comment | parser::block_comment);
    } else if (c == '\'') {
      skip = Match(s, i, parser::quoted_text<'\''>);
    } else if (c == '"') {
      skip = Match(s, i, parser::quoted_text<'"'>);
    } else if (c == '`') {
      skip = Match(s, i, parser::backquoted_name);
    }
    if (skip) {  // (an unterminated string or comment is no token: go on after its first byte)
      i += skip;
    } else if (c == '(' || c == '[' || c == '{') {
      push(c, i);
      ++i;
    } else if (c == ')' || c == ']' || c == '}') {
      if (!open.empty() && open.back() != 'C') open.pop_back();
      ++i;
    } else if (IsWordChar(c)) {
      size_t start = i;
      while (i < n && IsWordChar(s[i])) ++i;
      std::string_view word = s.substr(start, i - start);
      if (std::isdigit(static_cast<unsigned char>(c))) continue;  // a number such as 1e5
      size_t before_end = prev_significant(start);
      char before = before_end == 0 ? '\0' : s[before_end - 1];
      // "a.b" is a property, but in "x[1..CASE ...]" the dots end a slice bound.
      bool dot = before == '.' && !(before_end >= 2 && s[before_end - 2] == '.');
      char after = next_significant(i);
      if (SameWord(word, "CASE")) {
        // Not a keyword: a property, parameter, map key, or label (a colon outside a map; in a
        // map "{k: CASE ...}" it is a value). "CASE (x) WHEN ..." is a CASE, never a call.
        bool label = before == ':' && (open.empty() || open.back() != '{');
        bool key = after == ':' && (before == '{' || before == ',');
        if (dot || before == '$' || key || label) continue;
        push('C', start);
      } else if (SameWord(word, "END") && !open.empty() && open.back() == 'C') {
        if (before == '.' || before == ':' || before == '$' || after == ':' || after == '(') continue;
        open.pop_back();
      }
    } else {
      ++i;
    }
  }
  return out;
}

// What starts at `at` but does not end ("string", "name" in backquotes or "comment"), or null.
const char* UnterminatedAt(std::string_view s, size_t at) {
  if (at >= s.size()) return nullptr;
  char c = s[at];
  if (c == '\'' && !Match(s, at, parser::quoted_text<'\''>)) return "string";
  if (c == '"' && !Match(s, at, parser::quoted_text<'"'>)) return "string";
  if (c == '`' && !Match(s, at, parser::backquoted_name)) return "name in backquotes";
  if (s.substr(at, 2) == "/*" && !Match(s, at, parser::block_comment)) return "comment";
  return nullptr;
}

}  // namespace

namespace detail {
int ScanNestingDepth(std::string_view text) { return ScanNesting(text, kMaxQueryNesting).max_depth; }

std::optional<int> GrammarNestingDepth(const std::string& text) {
  auto first = text.cbegin();
  parser::error_handler_type handler(first, text.cend());
  const auto grammar = ast::x3::with<parsing::error_handler_tag>(std::ref(handler))[QueryGrammar()];
  ast::Query query;
  try {
    ast::x3::phrase_parse(first, text.cend(), grammar, parser::skipper, query);
  } catch (const ast::x3::expectation_failure<parser::iterator_type>&) {
  } catch (const parsing::NestingTooDeep&) {
    return std::nullopt;
  }
  return handler.max_depth;
}
}  // namespace detail


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
  auto too_deep = [&](size_t offset) {
    Status st = parsing::LocatedError(StatusCode::kResourceExhausted, text, offset,
                                      "brackets and CASE nest deeper than " +
                                          std::to_string(kMaxQueryNesting) + " levels");
    st.WithType("SyntaxError").With("detail", "NestingTooDeep");
    return st;
  };
  if (auto deep = ScanNesting(text, kMaxQueryNesting).too_deep) return too_deep(*deep);
  auto first = text.cbegin();
  const auto last = text.cend();
  parsed->positions = std::make_unique<parser::error_handler_type>(first, last);
  auto& handler = *parsed->positions;
  // The top level is one expression level deeper than the brackets around it.
  handler.depth_limit = kMaxQueryNesting + 1;
  const auto grammar = ast::x3::with<parsing::error_handler_tag>(std::ref(handler))[QueryGrammar()];
  bool ok = false;
  try {
    ok = ast::x3::phrase_parse(first, last, grammar, parser::skipper, parsed->ast);
  } catch (const ast::x3::expectation_failure<parser::iterator_type>& e) {
    handler.record(e.where(), e.which());
  } catch (const parsing::NestingTooDeep& e) {
    return too_deep(e.offset);
  }
  auto fail = [&](size_t offset, const std::string& what) -> Status {
    offset = parsing::NextToken(text, offset);
    // A string, name or comment the grammar could not close: say so at its opening.
    if (const char* open = UnterminatedAt(text, offset)) {
      Status st = parsing::LocatedError(StatusCode::kInvalidArgument, text, offset,
                                        std::string("unterminated ") + open);
      st.WithType("SyntaxError").With("detail", "UnexpectedSyntax");
      return st;
    }
    std::string found =
        offset >= text.size() ? "the end of the query" : "'" + parsing::TokenAt(text, offset) + "'";
    std::string message = "expected " + what + ", found " + found;
    std::string token = parsing::TokenAt(text, offset), lower;
    for (char c : token) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool reserved = std::any_of(parser::kReservedWords.begin(), parser::kReservedWords.end(),
                                [&](const char* w) { return lower == w; });
    if (reserved &&
        (what.find("variable") != std::string::npos || what.find("name") != std::string::npos))
      message += " (a reserved word; write `" + token + "` to use it as a name)";
    Status st = parsing::LocatedError(StatusCode::kInvalidArgument, text, offset, message);
    st.WithType("SyntaxError").With("detail", "UnexpectedSyntax");
    return st;
  };
  if (handler.failure)
    return fail(handler.failure->offset, parsing::ReadableExpectation(handler.failure->expected, "a query"));
  if (!ok || first != last) return fail(static_cast<size_t>(first - text.cbegin()), "a clause");
  return parsed;
}

}  // namespace cmdb::gql
