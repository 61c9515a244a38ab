// AST of the schema DDL. Names carry their source position (x3::position_tagged) so the apply
// stage reports line and column too.
#pragma once

#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <cstdint>
#include <boost/optional.hpp>
#include <string>
#include <vector>

namespace cmdb::ddl::ast {
namespace x3 = boost::spirit::x3;

struct Name : x3::position_tagged {
  std::string text;
  Name& operator=(std::string s) {  // lets X3 fill it from an identifier
    text = std::move(s);
    return *this;
  }
};

struct NullLiteral {};
struct Literal : x3::variant<NullLiteral, bool, double, int64_t, std::string, std::vector<std::string>>,
                 x3::position_tagged {
  using base_type::base_type;
  using base_type::operator=;
};

// A type as written: "STRING", "ENUM" with its values, "LIST" with its element type. Checked
// against the known types by the apply stage, which can then say where a bad one is.
struct TypeSpec : x3::position_tagged {
  std::string name;
  std::vector<std::string> args;
};

// "NOT NULL", "UNIQUE", "KEY" or "DEFAULT" with its value.
struct Constraint : x3::position_tagged {
  std::string kind;
  boost::optional<Literal> value;
};

struct AttrDef : x3::position_tagged {
  Name name;
  TypeSpec type;
  std::vector<Constraint> constraints;
};

struct Pair : x3::position_tagged {
  Name from;
  Name to;
};

// "CARDINALITY" or "IMPACT" with its value as written ("MANY_TO_ONE", "TO SOURCE", ...).
struct EdgeOption : x3::position_tagged {
  std::string kind;
  std::string value;
};

// "SERVICE [CRITICALITY attr]" (service true) or, in ALTER ... SET, "NOT SERVICE" (false).
struct ServiceOption : x3::position_tagged {
  bool service = true;
  boost::optional<Name> criticality;
};

struct CreateNode : x3::position_tagged {
  bool is_abstract = false;
  Name name;
  boost::optional<Name> parent;
  std::vector<Name> key;
  std::string control;  // "", "CONTROLLED", "CONTROLLED ENFORCE", "UNCONTROLLED", ... as written
  boost::optional<ServiceOption> service;
  std::vector<AttrDef> attrs;
};

struct CreateEdge : x3::position_tagged {
  Name name;
  std::vector<Pair> pairs;
  std::vector<EdgeOption> options;
  std::vector<AttrDef> attrs;
};

// ALTER NODE|EDGE TYPE <target> ADD { attrs }
struct AlterAdd : x3::position_tagged {
  std::string kind;  // "NODE" or "EDGE"
  Name target;
  std::vector<AttrDef> attrs;
};

// ALTER NODE|EDGE TYPE <target> DROP [ATTRIBUTE] <attr>
struct AlterDrop : x3::position_tagged {
  std::string kind;
  Name target;
  Name attr;
};

// ALTER NODE TYPE <target> SET KEY (a, b)
struct AlterKey : x3::position_tagged {
  Name target;
  std::vector<Name> key;
};

// ALTER NODE TYPE <target> SET CONTROLLED [ENFORCE | DETECT] | SET UNCONTROLLED
struct AlterControl : x3::position_tagged {
  Name target;
  std::string control;
};

// ALTER NODE TYPE <target> SET SERVICE [CRITICALITY attr] | SET NOT SERVICE
struct AlterService : x3::position_tagged {
  Name target;
  ServiceOption option;
};

// One IDENTIFIED BY rule: [STRONG] (a, b)
struct IdentifyRule : x3::position_tagged {
  bool strong = false;
  std::vector<Name> attrs;
};

// ALTER NODE TYPE <target> SET IDENTIFIED BY [STRONG] (a, b), (c) [WITHIN Parent]
//   [SCOPED BY (x, y)] [SHARED WITH (Other, ...)] [ON CONFLICT CREATE | REFUSE]
struct AlterIdentify : x3::position_tagged {
  Name target;
  std::vector<IdentifyRule> rules;
  boost::optional<Name> within;
  boost::optional<std::vector<Name>> scoped_by;
  boost::optional<std::vector<Name>> shared_with;
  boost::optional<std::string> on_conflict;
};

// ALTER EDGE TYPE <target> ADD CONNECTING (A -> B, ...)
struct AlterConnect : x3::position_tagged {
  Name target;
  std::vector<Pair> pairs;
};

// ALTER EDGE TYPE <target> SET CARDINALITY x | SET IMPACT y
struct AlterEdgeSet : x3::position_tagged {
  Name target;
  EdgeOption option;
};

// DROP NODE|EDGE TYPE <target>
struct Drop : x3::position_tagged {
  std::string kind;
  Name target;
};

struct Statement : x3::variant<CreateNode, CreateEdge, AlterAdd, AlterDrop, AlterKey, AlterControl,
                               AlterService, AlterIdentify, AlterConnect, AlterEdgeSet, Drop> {
  using base_type::base_type;
  using base_type::operator=;
};

using Script = std::vector<Statement>;

}  // namespace cmdb::ddl::ast
