// The error handler shared by the DDL and query parsers: records where parsing failed and
// what was expected (data,
// not text), and the source positions of tagged AST nodes for later stages.
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cmdb::parsing {
namespace x3 = boost::spirit::x3;

struct ParseFailure {
  size_t offset = 0;     // byte offset into the source
  std::string expected;  // what the grammar expected there
};

template <typename Iterator>
class ErrorHandler {
 public:
  explicit ErrorHandler(Iterator first, Iterator last) : first_(first), positions_(first, last) {}

  // Called by annotated rules on success.
  template <typename Ast>
  void tag(Ast& ast, Iterator first, Iterator last) {
    positions_.annotate(ast, first, last);
  }
  // The byte offset where a tagged node starts (0 when untagged).
  size_t offset_of(const x3::position_tagged& ast) const {
    if (ast.id_first < 0) return 0;
    return static_cast<size_t>(positions_.position_of(ast).begin() - first_);
  }
  // The source range of a tagged node.
  boost::iterator_range<Iterator> range_of(const x3::position_tagged& ast) const {
    return positions_.position_of(ast);
  }
  size_t offset_of_iterator(Iterator it) const { return static_cast<size_t>(it - first_); }
  void record(Iterator where, std::string expected) {
    if (!failure) failure = ParseFailure{static_cast<size_t>(where - first_), std::move(expected)};
  }

  std::optional<ParseFailure> failure;
  // The nesting guard (NestedParser): how deep the guarded rule recurses now, the deepest it
  // went, and the depth past which it throws NestingTooDeep.
  int depth = 0;
  int max_depth = 0;
  int depth_limit = 1 << 30;

 private:
  Iterator first_;
  x3::position_cache<std::vector<Iterator>> positions_;
};

// What an expectation failure names, for a message: X3 names a parser that is not a rule or a
// literal by its C++ type ("N5boost6spirit2x38sequence..."), which must never reach a user; such
// a name becomes `fallback` ("a query", "a statement").
inline std::string ReadableExpectation(const std::string& which, const char* fallback) {
  bool mangled = which.empty() || which.find("boost") != std::string::npos ||
                 which.find("spirit") != std::string::npos || which.find("::") != std::string::npos ||
                 (which.size() > 1 && which[0] == 'N' && which[1] >= '0' && which[1] <= '9');
  return mangled ? fallback : which;
}

// The context key of the ErrorHandler the rules below report to.
struct error_handler_tag;

// Thrown by NestedParser when the grammar would recurse past the handler's depth_limit: the
// byte offset where the level that is one too many starts.
struct NestingTooDeep {
  size_t offset;
};

// nested[p]: parses p one level deeper in the handler's depth count (it must be in the context
// under error_handler_tag), throwing NestingTooDeep past the limit. Wrap the rule every
// recursion of a grammar passes through, and the parser's stack is bounded however the text
// nests, whatever a scan ahead of it thinks.
template <typename Subject>
struct NestedParser : x3::unary_parser<Subject, NestedParser<Subject>> {
  using base_type = x3::unary_parser<Subject, NestedParser<Subject>>;
  static bool const is_pass_through_unary = true;
  static bool const handles_container = Subject::handles_container;
  constexpr NestedParser(Subject const& subject) : base_type(subject) {}

  template <typename Iterator, typename Context, typename RContext, typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context, RContext& rcontext,
             Attribute& attr) const {
    auto& handler = x3::get<error_handler_tag>(context).get();
    if (handler.depth >= handler.depth_limit) {
      Iterator at = first;
      x3::skip_over(at, last, context);
      throw NestingTooDeep{handler.offset_of_iterator(at)};
    }
    struct Level {
      int& depth;
      ~Level() { --depth; }
    } level{handler.depth};
    if (++handler.depth > handler.max_depth) handler.max_depth = handler.depth;
    return this->subject.parse(first, last, context, rcontext, attr);
  }
};
struct NestedGen {
  template <typename Subject>
  constexpr NestedParser<typename x3::extension::as_parser<Subject>::value_type> operator[](
      Subject const& subject) const {
    return {x3::as_parser(subject)};
  }
};
constexpr auto nested = NestedGen{};

// Rule IDs deriving from this report expectation failures to the handler in the context.
struct ErrorHandlerBase {
  template <typename Iterator, typename Exception, typename Context>
  x3::error_handler_result on_error(Iterator&, Iterator const&, Exception const& x,
                                    Context const& context) {
    auto& handler = x3::get<error_handler_tag>(context).get();
    handler.record(x.where(), x.which());
    return x3::error_handler_result::fail;
  }
};

// Rule IDs deriving from this tag their AST with its source position.
struct Annotate {
  template <typename T, typename Iterator, typename Context>
  void on_success(Iterator const& first, Iterator const& last, T& ast, Context const& context) {
    x3::get<error_handler_tag>(context).get().tag(ast, first, last);
  }
};

}  // namespace cmdb::parsing
