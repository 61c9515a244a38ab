// AST of the graph query language (GQL-style, with implementation extensions to Cypher).
// Nodes that later stages report errors on derive from x3::position_tagged.
#pragma once

#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <string>
#include <vector>

#include "query/common/enums.hpp"

namespace cmdb::gql::ast {
namespace x3 = boost::spirit::x3;

// Op (query/common/enums.hpp) names the operators here as in the later stages.

struct Nil {};
struct NullLiteral {};
struct CountStar : x3::position_tagged {
  bool star = true;
};
// A name as written (identifiers, labels, keys); backquoted names arrive unquoted.
struct Name : x3::position_tagged {
  std::string text;
  Name& operator=(std::string s) {
    text = std::move(s);
    return *this;
  }
};
struct Parameter : x3::position_tagged {
  std::string name;
  Parameter& operator=(std::string s) {
    name = std::move(s);
    return *this;
  }
};
// Number and string literals keep their source text; the binder converts them, so it can say
// where an out-of-range number or a bad escape is.
struct NumberLiteral : x3::position_tagged {
  std::string text;
  NumberLiteral& operator=(std::string s) {
    text = std::move(s);
    return *this;
  }
};
struct StringLiteral : x3::position_tagged {
  std::string raw;  // between the quotes, escapes not yet applied
  StringLiteral& operator=(std::string s) {
    raw = std::move(s);
    return *this;
  }
};

struct Expression;
struct Unary;
struct Postfix;
struct ListLiteral;
struct MapLiteral;
struct FunctionCall;
struct CaseExpression;
struct ListComprehension;
struct Quantifier;
// Subqueries, pattern predicates and comprehensions, map projections, reduce (defined below).
struct PatternExpression;
struct PatternComprehension;
struct MapProjection;
struct Reduce;
struct Subquery;
struct Extension;  // one of the five above (Boost.Variant takes at most 20 alternatives)

struct Operand : x3::variant<Nil, NullLiteral, bool, NumberLiteral, StringLiteral, Parameter, CountStar,
                             Name, x3::forward_ast<ListLiteral>, x3::forward_ast<MapLiteral>,
                             x3::forward_ast<FunctionCall>, x3::forward_ast<CaseExpression>,
                             x3::forward_ast<ListComprehension>, x3::forward_ast<Expression>,
                             x3::forward_ast<Unary>, x3::forward_ast<Postfix>,
                             x3::forward_ast<Quantifier>, x3::forward_ast<Extension>> {
  using base_type::base_type;
  using base_type::operator=;
};

struct Operation {
  Op op;
  Operand operand;  // Nil for IS [NOT] NULL
};

// `first op operand op operand ...` at one precedence level; Nil-free for unary levels where
// `rest` holds prefix operators applied right to left.
struct Expression : x3::position_tagged {
  Operand first;
  std::vector<Operation> rest;
};

// A prefix-operator application: NOT x, -x.
struct Unary : x3::position_tagged {
  std::vector<Op> ops;
  Operand operand;
};

struct PostfixOp;
// An atom followed by property lookups, indexes, slices and label checks.
struct Postfix : x3::position_tagged {
  Operand base;
  std::vector<PostfixOp> ops;
};

struct PropertyLookup {
  Name key;
  bool dummy = false;  // keeps Fusion from treating this as a single-element struct
};
struct IndexLookup {
  Expression index;
  bool dummy = false;
};
struct SliceLookup {
  boost::optional<Expression> from;
  boost::optional<Expression> to;
};
struct LabelCheck {
  std::vector<Name> labels;
  bool dummy = false;
};
struct PostfixOp : x3::variant<PropertyLookup, IndexLookup, SliceLookup, LabelCheck> {
  using base_type::base_type;
  using base_type::operator=;
};

struct ListLiteral : x3::position_tagged {
  std::vector<Expression> items;
  bool dummy = false;
};
struct MapEntry {
  Name key;
  Expression value;
};
struct MapLiteral : x3::position_tagged {
  std::vector<MapEntry> entries;
  bool dummy = false;
};
struct FunctionCall : x3::position_tagged {
  Name name;  // may be dotted: date.truncate
  bool distinct = false;
  std::vector<Expression> args;
};
struct CaseAlternative {
  Expression when;
  Expression then;
};
struct CaseExpression : x3::position_tagged {
  boost::optional<Expression> subject;
  std::vector<CaseAlternative> alternatives;
  boost::optional<Expression> otherwise;
};
// [x IN list WHERE pred | expr]
struct ListComprehension : x3::position_tagged {
  Name variable;
  Expression list;
  boost::optional<Expression> where;
  boost::optional<Expression> map;
};

// all(x IN list WHERE pred), any(...), none(...), single(...)
struct Quantifier : x3::position_tagged {
  std::string kind;  // "all", "any", "none", "single"
  Name variable;
  Expression list;
  boost::optional<Expression> where;
};

// Patterns.
struct Properties : x3::variant<Nil, x3::forward_ast<MapLiteral>, Parameter> {
  using base_type::base_type;
  using base_type::operator=;
};
struct NodePattern : x3::position_tagged {
  boost::optional<Name> variable;
  std::vector<Name> labels;
  boost::optional<Properties> properties;
};
// `*`, `*2`, `*1..3`, `*..3`, `*2..`; or the GQL quantifier `{1,5}`.
struct Range : x3::position_tagged {
  boost::optional<NumberLiteral> min;
  boost::optional<std::string> dots;
  boost::optional<NumberLiteral> max;
};
struct RelationshipDetail {
  boost::optional<Name> variable;
  std::vector<Name> types;
  boost::optional<Range> range;
  boost::optional<Properties> properties;
};
struct RelationshipPattern : x3::position_tagged {
  bool left = false;   // <-
  boost::optional<RelationshipDetail> detail;
  bool right = false;  // ->
  boost::optional<Range> quantifier;  // GQL {m,n}
};
struct PatternStep {
  RelationshipPattern relationship;
  NodePattern node;
};
// A shortest-path selector: shortestPath(...) and ANY SHORTEST ("any"), allShortestPaths(...)
// and ALL SHORTEST ("all"), SHORTEST k ("k", with `count`).
struct PathSelector : x3::position_tagged {
  std::string kind;
  boost::optional<NumberLiteral> count;
};
struct PatternPart : x3::position_tagged {
  boost::optional<Name> path_variable;
  boost::optional<PathSelector> selector;
  NodePattern start;
  std::vector<PatternStep> steps;
};

// A pattern used as an expression: `(h)-[:LOCATED_IN]->()` in WHERE is true when it has a match.
struct PatternExpression : x3::position_tagged {
  PatternPart pattern;
  bool dummy = false;
};
// [p = (a)-->(b) WHERE pred | expr]: expr for every match of the pattern, as a list.
struct PatternComprehension : x3::position_tagged {
  PatternPart pattern;
  boost::optional<Expression> where;
  Expression map;
};
// One selector of a map projection: `.key`, `.*`, `key: expr` or a variable `v`.
struct MapProjectionItem {
  std::string kind;  // "property", "all", "entry", "variable"
  Name key;
  boost::optional<Expression> value;  // "entry"
};
// n {.name, .ip_address, degree: count}
struct MapProjection : x3::position_tagged {
  Name variable;
  std::vector<MapProjectionItem> items;
};
// reduce(acc = init, x IN list | expr)
struct Reduce : x3::position_tagged {
  Name accumulator;
  Expression init;
  Name variable;
  Expression list;
  Expression map;
};

// Clauses.
struct Match : x3::position_tagged {
  bool optional = false;
  std::vector<PatternPart> pattern;
  boost::optional<Expression> where;
};
struct Unwind : x3::position_tagged {
  Expression list;
  Name variable;
};
struct ProjectionItem : x3::position_tagged {
  Expression expression;
  boost::optional<Name> alias;
};
struct SortItem {
  Expression expression;
  boost::optional<std::string> direction;
};
struct Projection {
  bool distinct = false;
  bool star = false;
  std::vector<ProjectionItem> items;
  std::vector<SortItem> order;
  boost::optional<Expression> skip;
  boost::optional<Expression> limit;
};
struct With : x3::position_tagged {
  Projection projection;
  boost::optional<Expression> where;
};
struct Return : x3::position_tagged {
  Projection projection;
  bool dummy = false;
};
struct Create : x3::position_tagged {
  std::vector<PatternPart> pattern;
  bool dummy = false;
};
struct SetItem : x3::position_tagged {
  Name variable;
  boost::optional<Name> key;      // n.key = v
  std::string op;                 // "=", "+=", ":" (labels)
  boost::optional<Expression> value;
  std::vector<Name> labels;
};
struct MergeAction {
  std::string on;  // "MATCH" or "CREATE"
  std::vector<SetItem> items;
};
struct Merge : x3::position_tagged {
  PatternPart pattern;
  std::vector<MergeAction> actions;
};
struct Set : x3::position_tagged {
  std::vector<SetItem> items;
  bool dummy = false;
};
struct RemoveItem : x3::position_tagged {
  Name variable;
  boost::optional<Name> key;
  std::vector<Name> labels;
};
struct Remove : x3::position_tagged {
  std::vector<RemoveItem> items;
  bool dummy = false;
};
struct Delete : x3::position_tagged {
  bool detach = false;
  std::vector<Expression> targets;
};

// CALL procedure(args) YIELD a, b
struct Call : x3::position_tagged {
  Name procedure;
  std::vector<Expression> args;
  std::vector<Name> yields;
  boost::optional<Expression> where;
};

struct Foreach;
struct CallSubquery;
struct Clause : x3::variant<Match, Unwind, With, Return, Create, Merge, Set, Remove, Delete, Call,
                            x3::forward_ast<Foreach>, x3::forward_ast<CallSubquery>> {
  using base_type::base_type;
  using base_type::operator=;
};

struct SingleQuery : x3::position_tagged {
  std::vector<Clause> clauses;
  bool dummy = false;
};

// FOREACH (x IN list | updating clauses)
struct Foreach : x3::position_tagged {
  Name variable;
  Expression list;
  std::vector<Clause> clauses;
};
// The variables a CALL subquery imports: `(a, b)`, `()` or `(*)`.
struct CallScope {
  bool star = false;
  std::vector<Name> variables;
};
// [OPTIONAL] CALL [(scope)] { query }
struct UnionPart;
struct CallSubquery : x3::position_tagged {
  bool optional = false;
  boost::optional<CallScope> scope;
  SingleQuery query;
  std::vector<UnionPart> unions;  // CALL { ... UNION [ALL] ... }
};
// EXISTS { ... }, COUNT { ... }, COLLECT { ... }: a full query, or the short form
// `pattern [WHERE pred]` (parsed as one MATCH clause).
struct Subquery : x3::position_tagged {
  std::string kind;  // "exists", "count", "collect"
  SingleQuery query;
};
struct UnionPart {
  bool all = false;
  SingleQuery query;
};
struct Query : x3::position_tagged {
  boost::optional<QueryMode> mode;  // kExplain or kProfile when written
  boost::optional<Expression> as_of;  // AS OF <datetime string | tx id | parameter>
  boost::optional<Expression> baseline;  // USE BASELINE <name string | parameter>
  SingleQuery first;
  std::vector<UnionPart> unions;
};

struct Extension : x3::variant<PatternExpression, PatternComprehension, MapProjection, Reduce,
                               x3::forward_ast<Subquery>> {
  using base_type::base_type;
  using base_type::operator=;
};

}  // namespace cmdb::gql::ast
