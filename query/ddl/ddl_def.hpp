// The DDL grammar (GQL-style graph type definitions). See docs/schema.md for the reference.
//
//   script      = { statement ";" }
//   statement   = create_node | create_edge | alter | drop
//   create_node = CREATE [ABSTRACT] NODE TYPE name [EXTENDS name] [KEY "(" names ")"] [control]
//                 [service] [attrs]
//   service     = SERVICE [CRITICALITY name]     (ALTER NODE TYPE name SET service | NOT SERVICE)
//   create_edge = CREATE EDGE TYPE name CONNECTING "(" pair {"," pair} ")" {edge_option} [attrs]
//   attrs       = "{" [attr {"," attr}] "}"
//   attr        = name type {NOT NULL | UNIQUE | KEY | DEFAULT literal}
//   type        = word ["(" string {"," string} ")" | "<" word ">"]
//   edge_option = CARDINALITY word | IMPACT (TO (SOURCE | TARGET) | BOTH | NONE)
//   identify    = ALTER NODE TYPE name SET IDENTIFIED BY rule {"," rule} [WITHIN name]
//                 [SCOPED BY "(" names ")"] [SHARED WITH "(" names ")"]
//                 [ON CONFLICT (CREATE | REFUSE)]
//   rule        = [STRONG] "(" names ")"
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "query/ddl/ast.hpp"
#include "query/ddl/ast_adapted.hpp"
#include "query/ddl/ddl.hpp"
#include "query/common/error_handler.hpp"

namespace cmdb::ddl::parser {
using parsing::Annotate;
using parsing::ErrorHandler;
using parsing::ErrorHandlerBase;
using parsing::error_handler_tag;
namespace x3 = boost::spirit::x3;

// A case-insensitive keyword that does not run into an identifier.
struct keyword_class;
inline auto kw(const char* word) {
  return x3::rule<keyword_class>{word} =
             x3::lexeme[x3::no_case[x3::lit(word)] >> !(x3::alnum | '_')];
}
template <typename T>
inline auto as(const T& value) {
  return x3::attr(value);
}

struct name_class : Annotate {};
struct literal_class : Annotate {};
struct type_class : Annotate {};
struct constraint_class : Annotate {};
struct attr_class : Annotate {};
struct attrs_class;
struct pair_class : Annotate {};
struct pairs_class;
struct edge_option_class : Annotate {};
struct create_node_class : Annotate {};
struct create_edge_class : Annotate {};
struct alter_add_class : Annotate {};
struct alter_drop_class : Annotate {};
struct alter_key_class : Annotate {};
struct alter_control_class : Annotate {};
struct service_class : Annotate {};
struct no_service_class : Annotate {};
struct alter_service_class : Annotate {};
struct alter_identify_class : Annotate {};
struct control_class;
struct alter_connect_class : Annotate {};
struct alter_set_class : Annotate {};
struct drop_class : Annotate {};
struct statement_class : ErrorHandlerBase {};
struct script_class : ErrorHandlerBase {};
struct string_class;
struct key_list_class;

const x3::rule<name_class, ast::Name> name = "name";
const x3::rule<string_class, std::string> quoted = "string";
const x3::rule<literal_class, ast::Literal> literal = "literal";
struct string_list_class;
const x3::rule<string_list_class, std::vector<std::string>> string_list = "list of strings";
const x3::rule<type_class, ast::TypeSpec> type = "type";
const x3::rule<constraint_class, ast::Constraint> constraint = "constraint";
const x3::rule<attr_class, ast::AttrDef> attribute = "attribute definition";
const x3::rule<attrs_class, std::vector<ast::AttrDef>> attrs = "'{'";
const x3::rule<pair_class, ast::Pair> pair = "endpoint pair (From -> To)";
const x3::rule<pairs_class, std::vector<ast::Pair>> pairs = "'('";
const x3::rule<edge_option_class, ast::EdgeOption> edge_option = "CARDINALITY, IMPACT or QUORUM";
const x3::rule<key_list_class, std::vector<ast::Name>> key_list = "'('";
const x3::rule<create_node_class, ast::CreateNode> create_node = "CREATE NODE TYPE";
const x3::rule<create_edge_class, ast::CreateEdge> create_edge = "CREATE EDGE TYPE";
const x3::rule<alter_add_class, ast::AlterAdd> alter_add = "ALTER ... ADD";
const x3::rule<alter_drop_class, ast::AlterDrop> alter_drop = "ALTER ... DROP";
const x3::rule<alter_key_class, ast::AlterKey> alter_key = "ALTER ... SET KEY";
const x3::rule<alter_control_class, ast::AlterControl> alter_control = "ALTER ... SET CONTROLLED";
const x3::rule<control_class, std::string> control = "CONTROLLED or UNCONTROLLED";
const x3::rule<service_class, ast::ServiceOption> service = "SERVICE";
const x3::rule<no_service_class, ast::ServiceOption> no_service = "NOT SERVICE";
const x3::rule<alter_service_class, ast::AlterService> alter_service = "ALTER ... SET SERVICE";
const x3::rule<alter_identify_class, ast::AlterIdentify> alter_identify = "ALTER ... SET IDENTIFIED BY";
struct identify_rule_class : Annotate {};
struct on_conflict_class;
const x3::rule<on_conflict_class, std::string> on_conflict = "CREATE or REFUSE";
const x3::rule<identify_rule_class, ast::IdentifyRule> identify_rule = "'(' or STRONG";
const x3::rule<alter_connect_class, ast::AlterConnect> alter_connect = "ALTER ... ADD CONNECTING";
const x3::rule<alter_set_class, ast::AlterEdgeSet> alter_set = "ALTER ... SET";
const x3::rule<drop_class, ast::Drop> drop = "DROP";
const x3::rule<statement_class, ast::Statement> statement = "statement (CREATE, ALTER or DROP)";
const script_type script = "script";

struct identifier_class;
const x3::rule<identifier_class, std::string> identifier = "identifier";
const auto identifier_def = x3::lexeme[(x3::alpha | x3::char_('_')) >> *(x3::alnum | x3::char_('_'))];
const auto name_def = identifier;
const auto quoted_def =
    x3::lexeme['\'' > *(('\\' > x3::char_) | (x3::char_ - '\'')) > '\''] |
    x3::lexeme['"' > *(('\\' > x3::char_) | (x3::char_ - '"')) > '"'];
const auto strict_double = x3::real_parser<double, x3::strict_real_policies<double>>{};
const auto literal_def = (kw("NULL") >> as(ast::NullLiteral{})) | (kw("TRUE") >> as(true)) |
                         (kw("FALSE") >> as(false)) | strict_double | x3::int64 | quoted |
                         string_list;
const auto string_list_def = '[' > -(quoted % ',') > ']';
const auto type_def = identifier >> -(('(' > (quoted % ',') > ')') |
                                      ('<' > x3::repeat(1)[identifier] > '>'));
const auto constraint_def =
    (kw("NOT") > kw("NULL") >> as(std::string("NOT NULL")) >> as(boost::optional<ast::Literal>())) |
    (kw("UNIQUE") >> as(std::string("UNIQUE")) >> as(boost::optional<ast::Literal>())) |
    (kw("KEY") >> as(std::string("KEY")) >> as(boost::optional<ast::Literal>())) |
    (kw("DEFAULT") >> as(std::string("DEFAULT")) > literal);
const auto attribute_def = name > type > *constraint;
const auto attrs_def = '{' > -(attribute >> *(',' > attribute)) > '}';
const auto pair_def = name > "->" > name;
const auto pairs_def = '(' > (pair % ',') > ')';
const auto key_list_def = '(' > (name % ',') > ')';
const auto edge_option_def =
    (kw("CARDINALITY") >> as(std::string("CARDINALITY")) > identifier) |
    (kw("IMPACT") >> as(std::string("IMPACT")) >
     x3::raw[(kw("TO") > (kw("SOURCE") | kw("TARGET"))) | kw("BOTH") | kw("NONE")]) |
    (kw("QUORUM") >> as(std::string("QUORUM")) > x3::raw[x3::lexeme[+x3::digit >> -x3::char_('%')]]);
const auto control_def =
    x3::raw[(kw("CONTROLLED") >> -(kw("ENFORCE") | kw("DETECT"))) | kw("UNCONTROLLED")];
const auto service_def = kw("SERVICE") >> as(true) >> -(kw("CRITICALITY") > name);
const auto no_service_def = kw("NOT") >> kw("SERVICE") >> as(false) >>
                            as(boost::optional<ast::Name>());
const auto create_node_def = kw("CREATE") >> x3::matches[kw("ABSTRACT")] >> kw("NODE") >
                             kw("TYPE") > name > -(kw("EXTENDS") > name) > -(kw("KEY") > key_list) >
                             -control > -service > -attrs;
const auto create_edge_def = kw("CREATE") >> kw("EDGE") > kw("TYPE") > name > kw("CONNECTING") >
                             pairs > *edge_option > -attrs;
const auto node_or_edge = (kw("NODE") >> as(std::string("NODE"))) | (kw("EDGE") >> as(std::string("EDGE")));
const auto alter_connect_def = kw("ALTER") >> kw("EDGE") >> kw("TYPE") >> name >> kw("ADD") >>
                               kw("CONNECTING") > pairs;
const auto alter_add_def = kw("ALTER") >> node_or_edge >> kw("TYPE") >> name >> kw("ADD") > attrs;
const auto alter_drop_def = kw("ALTER") >> node_or_edge >> kw("TYPE") >> name >> kw("DROP") >
                            -kw("ATTRIBUTE") > name;
const auto alter_key_def = kw("ALTER") >> kw("NODE") >> kw("TYPE") >> name >> kw("SET") >>
                           kw("KEY") > key_list;
const auto identify_rule_def = x3::matches[kw("STRONG")] > key_list;
const auto alter_identify_def = kw("ALTER") >> kw("NODE") >> kw("TYPE") >> name >> kw("SET") >>
                                kw("IDENTIFIED") > kw("BY") > (identify_rule % ',') >
                                -(kw("WITHIN") > name) > -(kw("SCOPED") > kw("BY") > key_list) >
                                -(kw("SHARED") > kw("WITH") > key_list) >
                                -(kw("ON") > kw("CONFLICT") > on_conflict);
const auto on_conflict_def = x3::raw[kw("CREATE") | kw("REFUSE")];
const auto alter_control_def = kw("ALTER") >> kw("NODE") >> kw("TYPE") >> name >> kw("SET") >> control;
const auto alter_service_def = kw("ALTER") >> kw("NODE") >> kw("TYPE") >> name >> kw("SET") >>
                               (service | no_service);
const auto alter_set_def = kw("ALTER") >> kw("EDGE") >> kw("TYPE") >> name >> kw("SET") > edge_option;
const auto drop_def = kw("DROP") > node_or_edge > kw("TYPE") > name;
const auto statement_def = create_node | create_edge | alter_connect | alter_add | alter_drop |
                           alter_key | alter_identify | alter_control | alter_service | alter_set |
                           drop;
struct end_class;
const x3::rule<end_class> statement_end = "';'";
const auto statement_end_def = x3::lit(';') | x3::eoi;
const auto script_def = *((!x3::eoi) > statement > statement_end);

BOOST_SPIRIT_DEFINE(identifier, name, quoted, string_list, literal, type, constraint, attribute, attrs, pair, pairs, key_list,
                    edge_option, statement_end, create_node, create_edge, alter_add, alter_drop, alter_key,
                    alter_control, control, service, no_service, alter_service, identify_rule, on_conflict, alter_identify,
                    alter_connect, alter_set, drop, statement, script)

}  // namespace cmdb::ddl::parser

namespace cmdb::ddl {
const parser::script_type& ScriptGrammar() { return parser::script; }
}  // namespace cmdb::ddl
