// The query grammar. docs/query-language.md has the EBNF; this follows it level by level.
// Expression levels, loosest first: OR, XOR, AND, NOT, comparison, string/list predicates,
// + -, * / %, ^, unary + -, postfix (.key [i] [a..b] :Label), atom.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "query/common/error_handler.hpp"
#include "query/parser/ast.hpp"
#include "query/parser/ast_adapted.hpp"
#include "query/parser/grammar.hpp"

namespace cmdb::gql::parser {
namespace x3 = boost::spirit::x3;
using parsing::Annotate;
using parsing::ErrorHandlerBase;

struct keyword_class;
inline auto kw(const char* word) {
  return x3::rule<keyword_class>{word} = x3::lexeme[x3::no_case[x3::lit(word)] >> !(x3::alnum | '_')];
}
template <typename T>
inline auto as(const T& v) {
  return x3::attr(v);
}

// Words that cannot be variable names.
struct reserved_symbols : x3::symbols<> {
  reserved_symbols() {
    for (const char* w : kReservedWords) add(w);
  }
};
inline const reserved_symbols reserved_words;
const auto reserved = x3::lexeme[x3::no_case[reserved_words] >> !(x3::alnum | '_')];

#define CMDB_RULE(name, type, text) \
  struct name##_class;              \
  const x3::rule<name##_class, type> name = text
#define CMDB_TAGGED_RULE(name, type, text) \
  struct name##_class : Annotate {};       \
  const x3::rule<name##_class, type> name = text

CMDB_RULE(identifier, std::string, "identifier");
CMDB_TAGGED_RULE(name, ast::Name, "name");
CMDB_TAGGED_RULE(variable, ast::Name, "variable");
CMDB_RULE(qualified, std::string, "function name");
CMDB_TAGGED_RULE(function_name, ast::Name, "function name");
CMDB_RULE(number_text, std::string, "number");
CMDB_TAGGED_RULE(number, ast::NumberLiteral, "number");
CMDB_RULE(digits, std::string, "digits");
CMDB_RULE(mul_op, Op, "operator");
CMDB_RULE(add_op, Op, "operator");
CMDB_RULE(cmp_op, Op, "operator");
CMDB_RULE(predicate_op, Op, "operator");
CMDB_RULE(null_check, ast::Operation, "IS NULL");
CMDB_TAGGED_RULE(string_literal, ast::StringLiteral, "string");
CMDB_TAGGED_RULE(parameter, ast::Parameter, "parameter");
CMDB_TAGGED_RULE(count_star, ast::CountStar, "count(*)");
CMDB_TAGGED_RULE(list_literal, ast::ListLiteral, "list");
CMDB_RULE(map_entry, ast::MapEntry, "map entry");
CMDB_TAGGED_RULE(map_literal, ast::MapLiteral, "map");
CMDB_TAGGED_RULE(function_call, ast::FunctionCall, "function call");
CMDB_RULE(case_alternative, ast::CaseAlternative, "WHEN");
CMDB_TAGGED_RULE(case_expression, ast::CaseExpression, "CASE");
CMDB_TAGGED_RULE(list_comprehension, ast::ListComprehension, "list comprehension");
CMDB_TAGGED_RULE(quantifier_expr, ast::Quantifier, "quantifier");
CMDB_RULE(atom, ast::Operand, "expression");
CMDB_RULE(postfix_op, ast::PostfixOp, "postfix");
CMDB_TAGGED_RULE(postfix, ast::Postfix, "expression");
CMDB_TAGGED_RULE(unary, ast::Unary, "expression");
CMDB_TAGGED_RULE(power, ast::Expression, "expression");
CMDB_TAGGED_RULE(multiplicative, ast::Expression, "expression");
CMDB_TAGGED_RULE(additive, ast::Expression, "expression");
CMDB_TAGGED_RULE(predicate, ast::Expression, "expression");
CMDB_TAGGED_RULE(comparison, ast::Expression, "expression");
CMDB_TAGGED_RULE(not_expr, ast::Unary, "expression");
CMDB_TAGGED_RULE(and_expr, ast::Expression, "expression");
CMDB_TAGGED_RULE(xor_expr, ast::Expression, "expression");
CMDB_TAGGED_RULE(expression, ast::Expression, "expression");
CMDB_RULE(properties, ast::Properties, "properties");
CMDB_TAGGED_RULE(node_pattern, ast::NodePattern, "node pattern");
CMDB_TAGGED_RULE(range, ast::Range, "range");
CMDB_TAGGED_RULE(quantifier, ast::Range, "quantifier");
CMDB_RULE(relationship_detail, ast::RelationshipDetail, "relationship detail");
CMDB_TAGGED_RULE(relationship_pattern, ast::RelationshipPattern, "relationship pattern");
CMDB_RULE(pattern_step, ast::PatternStep, "relationship pattern");
CMDB_TAGGED_RULE(pattern_part, ast::PatternPart, "pattern");
// Shortest paths (kept apart from the rest of the pattern rules).
CMDB_TAGGED_RULE(path_selector, ast::PathSelector, "ANY SHORTEST, ALL SHORTEST or SHORTEST k");
CMDB_TAGGED_RULE(shortest_function, ast::PathSelector, "shortestPath or allShortestPaths");
CMDB_TAGGED_RULE(shortest_part, ast::PatternPart, "pattern");
CMDB_RULE(node_pattern_start, x3::unused_type, "node pattern");
CMDB_TAGGED_RULE(plain_part, ast::PatternPart, "pattern");
CMDB_RULE(pattern, std::vector<ast::PatternPart>, "pattern");
CMDB_TAGGED_RULE(match, ast::Match, "MATCH");
CMDB_TAGGED_RULE(unwind, ast::Unwind, "UNWIND");
CMDB_TAGGED_RULE(projection_item, ast::ProjectionItem, "projection item");
CMDB_RULE(sort_item, ast::SortItem, "sort item");
CMDB_RULE(projection, ast::Projection, "projection");
CMDB_RULE(return_item_probe, x3::unused_type, "return item");
CMDB_TAGGED_RULE(with, ast::With, "WITH");
CMDB_TAGGED_RULE(return_, ast::Return, "RETURN");
CMDB_TAGGED_RULE(create, ast::Create, "CREATE");
CMDB_TAGGED_RULE(set_item, ast::SetItem, "SET item");
CMDB_RULE(merge_action, ast::MergeAction, "ON MATCH or ON CREATE");
CMDB_TAGGED_RULE(merge, ast::Merge, "MERGE");
CMDB_TAGGED_RULE(set, ast::Set, "SET");
CMDB_TAGGED_RULE(remove_item, ast::RemoveItem, "REMOVE item");
CMDB_TAGGED_RULE(remove, ast::Remove, "REMOVE");
CMDB_TAGGED_RULE(delete_, ast::Delete, "DELETE");
CMDB_TAGGED_RULE(call, ast::Call, "CALL");
CMDB_RULE(clause, ast::Clause, "clause");
CMDB_TAGGED_RULE(single_query, ast::SingleQuery,
                 "clause (MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN, CREATE, INSERT, MERGE, SET, "
                 "REMOVE, DELETE, DETACH DELETE, FOREACH, CALL or OPTIONAL CALL)");
// Every operand of an expectation (a > b) is a rule or a literal, so expectation failures name
// something readable; these wrap the lists and alternatives that are such operands.
CMDB_RULE(case_alternatives, std::vector<ast::CaseAlternative>, "WHEN");
CMDB_RULE(sort_items, std::vector<ast::SortItem>, "sort item");
CMDB_RULE(set_items, std::vector<ast::SetItem>, "SET item");
CMDB_RULE(remove_items, std::vector<ast::RemoveItem>, "REMOVE item");
CMDB_RULE(expressions, std::vector<ast::Expression>, "expression");
CMDB_RULE(variables, std::vector<ast::Name>, "variable");
CMDB_RULE(merge_event, std::string, "MATCH or CREATE");
struct end_of_query_class;
const x3::rule<end_of_query_class> end_of_query = "the end of the query";
CMDB_RULE(union_part, ast::UnionPart, "UNION");
// Subqueries, pattern predicates and comprehensions, map projections, reduce, FOREACH and
// CALL { } subqueries: kept apart from the rules above (they only add alternatives to atom and
// clause).
struct pattern_probe_class;
const x3::rule<pattern_probe_class> pattern_probe = "pattern";
CMDB_TAGGED_RULE(pattern_expression, ast::PatternExpression, "pattern");
CMDB_TAGGED_RULE(pattern_comprehension, ast::PatternComprehension, "pattern comprehension");
CMDB_RULE(map_projection_item, ast::MapProjectionItem, "map projection item");
CMDB_TAGGED_RULE(map_projection, ast::MapProjection, "map projection");
CMDB_TAGGED_RULE(reduce_expr, ast::Reduce, "reduce");
CMDB_RULE(subquery_kind, std::string, "EXISTS, COUNT or COLLECT");
CMDB_TAGGED_RULE(short_match, ast::Match, "pattern");
CMDB_RULE(short_clause, ast::Clause, "pattern");
CMDB_RULE(short_clauses, std::vector<ast::Clause>, "pattern");
CMDB_RULE(subquery_clauses, std::vector<ast::Clause>, "clause");
CMDB_TAGGED_RULE(subquery_body, ast::SingleQuery, "a pattern or a query");
CMDB_TAGGED_RULE(subquery, ast::Subquery, "subquery");
CMDB_TAGGED_RULE(foreach, ast::Foreach, "FOREACH");
CMDB_RULE(foreach_clauses, std::vector<ast::Clause>, "updating clause (CREATE, MERGE, SET, REMOVE, DELETE or FOREACH)");
CMDB_RULE(call_scope, ast::CallScope, "variables to import");
CMDB_TAGGED_RULE(call_subquery, ast::CallSubquery, "CALL subquery");
CMDB_RULE(extension_expr, ast::Extension, "expression");
struct query_class : Annotate, ErrorHandlerBase {};
const query_type query = "query";

// Lexical.
const auto identifier_def =
    x3::lexeme[(x3::alpha | x3::char_('_')) >> *(x3::alnum | x3::char_('_'))] | backquoted_name;
const auto name_def = identifier;
const auto variable_def = !reserved >> identifier;
const auto qualified_def = x3::raw[identifier >> *('.' >> identifier)];
const auto function_name_def = qualified;
const auto exponent = x3::no_case['e'] >> -x3::char_("+-") >> +x3::digit;
const auto number_def = number_text;
const auto digits_def = x3::raw[x3::lexeme[+x3::digit]];
const auto number_text_def = x3::raw[x3::lexeme[(x3::no_case["0x"] >> +x3::xdigit >> !(x3::alnum)) |
                                           (x3::no_case["0o"] >> +x3::alnum) |
                                           (+x3::digit >> -('.' >> +x3::digit) >> -exponent) |
                                           ('.' >> +x3::digit >> -exponent)]];
struct string_text_class;
const x3::rule<string_text_class, std::string> string_text = "string";
const auto string_text_def = quoted_text<'\''> | quoted_text<'"'>;
const auto string_literal_def = string_text;
const auto parameter_def = x3::lexeme['$' >> (identifier | digits)];

// Atoms.
const auto count_star_def = kw("count") >> '(' >> '*' >> ')' >> as(ast::CountStar());
const auto list_literal_def = '[' >> -(expression % ',') >> ']' >> as(false);
const auto map_entry_def = name >> ':' > expression;
const auto map_literal_def = '{' >> -(map_entry % ',') >> '}' >> as(false);
const auto function_call_def = function_name >> '(' >> x3::matches[kw("DISTINCT")] >>
                               -(expression % ',') > ')';
const auto case_alternative_def = kw("WHEN") > expression > kw("THEN") > expression;
const auto case_alternatives_def = +case_alternative;
const auto case_expression_def = kw("CASE") > -(!kw("WHEN") >> expression) > case_alternatives >
                                 -(kw("ELSE") > expression) > kw("END");
const auto list_comprehension_def = '[' >> variable >> kw("IN") >> expression >>
                                    -(kw("WHERE") > expression) >> -('|' > expression) >> ']';
const auto quantifier_expr_def =
    ((kw("ALL") >> as(std::string("all"))) | (kw("ANY") >> as(std::string("any"))) |
     (kw("NONE") >> as(std::string("none"))) | (kw("SINGLE") >> as(std::string("single")))) >>
    '(' >> variable >> kw("IN") > expression > -(kw("WHERE") > expression) > ')';
const auto atom_def = (kw("NULL") >> as(ast::NullLiteral())) | (kw("TRUE") >> as(true)) |
                      (kw("FALSE") >> as(false)) | number | string_literal | parameter | count_star |
                      case_expression | quantifier_expr | extension_expr | list_comprehension | list_literal |
                      map_literal | function_call | ('(' > expression > ')') | variable;

// Expressions.
const auto postfix_op_def =
    ('.' >> name >> as(false)) |
    ('[' >> -expression >> ".." >> -expression >> ']') |
    ('[' > expression > ']' > as(false)) |
    (+(':' >> name) >> as(false));
const auto postfix_def = atom >> *postfix_op;
const auto unary_def = *(('-' >> as(Op::kNeg)) | ('+' >> as(Op::kPos))) >> postfix;
struct pow_op_class;
const x3::rule<pow_op_class, Op> pow_op = "operator";
const auto pow_op_def = '^' >> as(Op::kPow);
const auto power_def = unary >> *(pow_op > unary);
const auto mul_op_def = ('*' >> as(Op::kMul)) | ('/' >> as(Op::kDiv)) | ('%' >> as(Op::kMod));
const auto multiplicative_def = power >> *(mul_op > power);
const auto add_op_def = ('+' >> as(Op::kAdd)) | ('-' >> as(Op::kSub));
const auto additive_def = multiplicative >> *(add_op > multiplicative);
const auto predicate_op_def = (kw("STARTS") >> kw("WITH") >> as(Op::kStartsWith)) |
                              (kw("ENDS") >> kw("WITH") >> as(Op::kEndsWith)) |
                              (kw("CONTAINS") >> as(Op::kContains)) | (kw("IN") >> as(Op::kIn)) |
                              ("=~" >> as(Op::kRegex));
const auto null_check_def = kw("IS") >> ((kw("NOT") >> kw("NULL") >> as(Op::kIsNotNull)) |
                                         (kw("NULL") >> as(Op::kIsNull))) >> as(ast::Operand());
const auto predicate_def = additive >> *((predicate_op > additive) | null_check);
const auto cmp_op_def = ("<>" >> as(Op::kNe)) | ("<=" >> as(Op::kLe)) | (">=" >> as(Op::kGe)) |
                        ('=' >> as(Op::kEq)) | ('<' >> as(Op::kLt)) | ('>' >> as(Op::kGt));
const auto comparison_def = predicate >> *(cmp_op > predicate);
const auto not_expr_def = *(kw("NOT") >> as(Op::kNot)) >> comparison;
const auto and_expr_def = not_expr >> *(kw("AND") >> as(Op::kAnd) > not_expr);
const auto xor_expr_def = and_expr >> *(kw("XOR") >> as(Op::kXor) > and_expr);
// Every recursion of the grammar passes through `expression`: the nesting guard bounds it.
const auto expression_def = parsing::nested[xor_expr >> *(kw("OR") >> as(Op::kOr) > xor_expr)];

// Patterns.
const auto properties_def = map_literal | parameter;
const auto node_pattern_def = '(' >> -variable >> *(':' >> name) >> -properties > ')';
const auto range_def = '*' >> -number >> -x3::string("..") >> -number;
const auto quantifier_def = '{' >> -number >> -(',' >> as(std::string(".."))) >> -number >> '}';
const auto relationship_detail_def = '[' >> -variable >> -(':' >> (name % ('|' >> -x3::lit(':')))) >>
                                     -range >> -properties > ']';
const auto relationship_pattern_def = x3::matches['<'] >> '-' >> -relationship_detail >> '-' >>
                                      x3::matches['>'] >> -quantifier;
const auto pattern_step_def = relationship_pattern > node_pattern;
// p = shortestPath((a)-[:T*]->(b)), allShortestPaths(...); p = ANY SHORTEST (a)-[:T]->{1,}(b),
// ALL SHORTEST ..., SHORTEST 3 ...
const auto no_count = as(boost::optional<ast::NumberLiteral>());
const auto shortest_function_def = (kw("shortestPath") >> as(std::string("any")) >> no_count) |
                                   (kw("allShortestPaths") >> as(std::string("all")) >> no_count);
// After a selector comes its node pattern: `SHORTEST 2 GROUPS (a)...` fails at GROUPS.
const auto node_pattern_start_def = &x3::lit('(');
const auto path_selector_def =
    (kw("ANY") >> kw("SHORTEST") >> as(std::string("any")) >> no_count > node_pattern_start) |
    (kw("ALL") >> kw("SHORTEST") >> as(std::string("all")) >> no_count > node_pattern_start) |
    (kw("SHORTEST") >> as(std::string("k")) > number > node_pattern_start);
const auto shortest_part_def = -(variable >> '=') >> shortest_function >> '(' > node_pattern >> *pattern_step > ')';
const auto plain_part_def = -(variable >> '=') >> -path_selector >> node_pattern >> *pattern_step;
const auto pattern_part_def = shortest_part | plain_part;
const auto pattern_def = pattern_part % ',';

// Clauses.
const auto match_def = x3::matches[kw("OPTIONAL")] >> kw("MATCH") > pattern > -(kw("WHERE") > expression);
const auto unwind_def = kw("UNWIND") > expression > kw("AS") > variable;
const auto projection_item_def = expression >> -(kw("AS") > variable);
const auto sort_item_def = expression >> -(((kw("ASCENDING") | kw("ASC")) >> as(std::string("ASC"))) |
                                           ((kw("DESCENDING") | kw("DESC")) >> as(std::string("DESC"))));
// A projection item never starts with a clause keyword: `WITH *` then `MATCH (n)` on the next
// line is two clauses, not a call of a function named MATCH.
const auto clause_keyword = kw("MATCH") | kw("OPTIONAL") | kw("CREATE") | kw("MERGE") | kw("UNWIND") |
                            kw("WITH") | kw("RETURN") | kw("SET") | kw("DELETE") | kw("DETACH") |
                            kw("REMOVE") | kw("CALL") | kw("FOREACH") | kw("UNION") | kw("WHERE") |
                            kw("ORDER") | kw("SKIP") | kw("LIMIT");
// A projection has `*` or an item: `RETURN`, `RETURN LIMIT 1` and `WITH RETURN 1` are errors.
// (A look at the next token only: an item that starts but does not parse fails in it, as before.)
const auto return_item_probe_def = !(clause_keyword | x3::eoi | x3::lit(';') | x3::lit(')') |
                                     x3::lit('}') | x3::lit(']') | x3::lit(','));
const auto projection_def = x3::matches[kw("DISTINCT")] >> x3::expect[return_item_probe] >>
                            x3::matches['*'] >>
                            -(-x3::lit(',') >> !clause_keyword >> (projection_item % ',')) >>
                            -(kw("ORDER") > kw("BY") > sort_items) >>
                            -((kw("SKIP") | kw("OFFSET")) > expression) >> -(kw("LIMIT") > expression);
const auto with_def = kw("WITH") > projection > -(kw("WHERE") > expression);
const auto sort_items_def = sort_item % ',';
const auto return__def = kw("RETURN") > projection > as(false);
const auto create_def = (kw("CREATE") | kw("INSERT")) > pattern > as(false);
const auto no_labels = as(std::vector<ast::Name>());
const auto set_item_def =
    (variable >> '.' >> name >> '=' >> as(std::string("=")) > expression > no_labels) |
    ('(' >> variable >> ')' >> '.' >> name >> '=' >> as(std::string("=")) > expression > no_labels) |
    (variable >> as(boost::optional<ast::Name>()) >>
     (("+=" >> as(std::string("+="))) | ('=' >> as(std::string("=")))) > expression > no_labels) |
    (variable >> as(boost::optional<ast::Name>()) >> as(std::string(":")) >>
     as(boost::optional<ast::Expression>()) >> +(':' >> name));
const auto set_items_def = set_item % ',';
const auto set_def = kw("SET") > set_items > as(false);
const auto remove_item_def = (variable >> '.' >> name >> no_labels) |
                             (variable >> as(boost::optional<ast::Name>()) >> +(':' >> name));
const auto remove_items_def = remove_item % ',';
const auto remove_def = kw("REMOVE") > remove_items > as(false);
const auto expressions_def = expression % ',';
const auto variables_def = variable % ',';
const auto delete__def = x3::matches[kw("DETACH")] >> kw("DELETE") > expressions;
const auto merge_event_def = (kw("MATCH") >> as(std::string("MATCH"))) | (kw("CREATE") >> as(std::string("CREATE")));
const auto merge_action_def = kw("ON") > merge_event > kw("SET") > set_items;
const auto merge_def = kw("MERGE") > pattern_part > *merge_action;
const auto call_def = kw("CALL") > function_name > '(' > -expressions > ')' > -(kw("YIELD") > variables) >
                      -(kw("WHERE") > expression);
const auto clause_def =
    match | unwind | with | return_ | create | merge | set | remove | delete_ | call_subquery | call | foreach;
const auto single_query_def = +clause >> as(false);
const auto union_part_def = kw("UNION") >> x3::matches[kw("ALL")] > single_query;
const auto query_def = -((kw("EXPLAIN") >> as(QueryMode::kExplain)) |
                         (kw("PROFILE") >> as(QueryMode::kProfile))) >>
                       -(kw("AS") >> kw("OF") > expression) >> -(kw("USE") >> kw("BASELINE") > expression) >
                       single_query > *union_part > -x3::lit(';') > end_of_query;
const auto end_of_query_def = x3::eoi;

// Subqueries and the expressions built on patterns.
// A node pattern followed by the start of a relationship: where an expression is a pattern.
const auto pattern_probe_def = '(' >> -variable >> *(':' >> name) >> -properties >> ')' >> -x3::lit('<') >> '-' >>
                               (x3::lit('[') | '-');
const auto pattern_expression_def = &pattern_probe >> pattern_part >> as(false);
const auto pattern_comprehension_def = '[' >> &(-(variable >> '=') >> pattern_probe) >> pattern_part >>
                                       -(kw("WHERE") > expression) >> '|' > expression > ']';
const auto no_value = as(boost::optional<ast::Expression>());
const auto map_projection_item_def =
    (as(std::string("all")) >> '.' >> '*' >> as(ast::Name()) >> no_value) |
    (as(std::string("property")) >> '.' >> name >> no_value) |
    (as(std::string("entry")) >> name >> ':' > expression) |
    (as(std::string("variable")) >> variable >> no_value);
const auto map_projection_def = variable >> '{' >> -(map_projection_item % ',') >> '}';
const auto reduce_expr_def = kw("REDUCE") >> '(' >> variable >> '=' > expression > ',' > variable > kw("IN") >
                             expression > '|' > expression > ')';
const auto subquery_kind_def = (kw("EXISTS") >> as(std::string("exists"))) | (kw("COUNT") >> as(std::string("count"))) |
                               (kw("COLLECT") >> as(std::string("collect")));
const auto short_match_def = as(false) >> pattern >> -(kw("WHERE") > expression);
const auto short_clause_def = short_match;
const auto short_clauses_def = x3::repeat(1)[short_clause];
const auto subquery_clauses_def = +clause;
const auto subquery_body_def = (subquery_clauses >> as(false)) | (short_clauses >> as(false));
const auto subquery_def = subquery_kind >> '{' > subquery_body > '}';
const auto foreach_clauses_def = +clause;
const auto foreach_def = kw("FOREACH") > '(' > variable > kw("IN") > expression > '|' > foreach_clauses > ')';
const auto call_scope_def = '(' > x3::matches['*'] > -(variable % ',') > ')';
const auto extension_expr_def = reduce_expr | subquery | pattern_comprehension | pattern_expression | map_projection;
// CALL followed by "(" or "{" is a subquery (a procedure call starts with its name).
const auto call_subquery_def = x3::matches[kw("OPTIONAL")] >> kw("CALL") >> &(x3::lit('(') | '{') >
                               -call_scope > '{' > single_query > *union_part > '}';

BOOST_SPIRIT_DEFINE(number_text, digits, string_text, pow_op, mul_op, add_op, cmp_op, predicate_op, null_check)
BOOST_SPIRIT_DEFINE(identifier, name, variable, qualified, function_name, number, string_literal,
                    parameter, count_star, list_literal, map_entry, map_literal, function_call,
                    case_alternative, case_expression, list_comprehension, quantifier_expr, atom, postfix_op, postfix,
                    unary, power, multiplicative, additive, predicate, comparison, not_expr, and_expr,
                    xor_expr, expression, properties, node_pattern, range, quantifier,
                    relationship_detail, relationship_pattern, pattern_step, pattern_part, pattern,
                    match, unwind, projection_item, sort_item, return_item_probe, projection, with, return_, create,
                    set_item, merge_action, merge, set, remove_item, remove, delete_, call, clause,
                    single_query, union_part, query)
BOOST_SPIRIT_DEFINE(node_pattern_start, path_selector, shortest_function, shortest_part, plain_part)
BOOST_SPIRIT_DEFINE(case_alternatives, sort_items, set_items, remove_items, expressions, variables,
                    merge_event, end_of_query)
BOOST_SPIRIT_DEFINE(pattern_probe, pattern_expression, pattern_comprehension, map_projection_item,
                    map_projection, reduce_expr, subquery_kind, short_match, short_clause, short_clauses,
                    subquery_clauses, subquery_body, subquery, foreach, foreach_clauses, call_scope,
                    call_subquery, extension_expr)

#undef CMDB_RULE
#undef CMDB_TAGGED_RULE

}  // namespace cmdb::gql::parser

namespace cmdb::gql {
const parser::query_type& QueryGrammar() { return parser::query; }
}  // namespace cmdb::gql
