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
  void record(Iterator where, std::string expected) {
    if (!failure) failure = ParseFailure{static_cast<size_t>(where - first_), std::move(expected)};
  }

  std::optional<ParseFailure> failure;

 private:
  Iterator first_;
  x3::position_cache<std::vector<Iterator>> positions_;
};

// Rule IDs deriving from this report expectation failures to the handler in the context.
struct error_handler_tag;
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
