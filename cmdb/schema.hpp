// Schema: the typed model of the graph — CI classes with single inheritance from the root class
// `CI`, their typed attributes and constraints, and relationship types with their allowed
// endpoint pairs, cardinality and impact rule.
//
// A Schema is a value. The database publishes one immutable Schema at a time (shared_ptr to
// const); a DDL change edits a copy and swaps it in through the write path.
// In open mode every class and relationship type name is accepted and attributes are untyped:
// lookups of unknown names return nullptr and validation lets anything through.
// Thread safety: const methods may be called concurrently; mutation needs exclusive access.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"
#include "cmdb/value.hpp"

namespace cmdb {

inline constexpr const char* kRootClass = "CI";

enum class AttrType {
  kString,
  kInt,
  kFloat,
  kBool,
  kDateTime,
  kDate,
  kEnum,
  kIp,
  kStringList,
  kAny
};
// "STRING", "INT", ..., "ENUM", "LIST<STRING>", "ANY".
const char* AttrTypeName(AttrType t);

struct AttributeDef {
  std::string name;
  AttrType type = AttrType::kString;
  std::vector<std::string> enum_values;  // kEnum only
  bool not_null = false;
  bool unique = false;
  bool key = false;
  std::optional<Value> default_value;

  // "ENUM('a', 'b')" or "INT" etc.
  std::string TypeText() const;
};

// How writes to CIs of a class are controlled. kDetect accepts an unauthorized write and flags
// it in the transaction log; kEnforce refuses it.
enum class ControlPolicy { kInherit, kUncontrolled, kDetect, kEnforce };
// "INHERIT", "UNCONTROLLED", "CONTROLLED DETECT", "CONTROLLED ENFORCE".
const char* ControlPolicyName(ControlPolicy p);

// What an import does with a candidate whose identity is ambiguous: a weak match that strong
// identifiers contradict, or several CIs matching (ON CONFLICT in the DDL).
enum class IdentifyConflict { kCreate, kRefuse };
const char* IdentifyConflictName(IdentifyConflict c);  // "CREATE", "REFUSE"

// One IDENTIFIED BY rule: an attribute set, and whether it is a strong identifier (STRONG: a
// value that differs means a different CI whatever the weak rules say) or a weak one (a name:
// used only when no strong identifier decides and none contradicts it).
struct IdentifyRule {
  std::vector<std::string> attrs;
  bool strong = false;
  bool operator==(const IdentifyRule& o) const { return strong == o.strong && attrs == o.attrs; }
};

// A class's identification for imports, as declared: rules tried in order; `within` makes the
// identity dependent (the rules are unique only inside one parent CI of that class: a Pod's name
// inside its Namespace); `scoped_by` names attributes whose values scope every rule (two CIs
// whose scope values differ never match; a missing scope value matches any); `shared_with` names
// other classes whose CIs (and their subclasses') the rules also find (a host nmap reports as a
// DiscoveredHost, a Computer, is the PhysicalServer Ansible reported, by MAC); `on_conflict` is
// the policy for ambiguous candidates.
struct IdentifySpec {
  std::vector<IdentifyRule> rules;
  std::string within;
  std::vector<std::string> scoped_by;
  std::vector<std::string> shared_with;
  IdentifyConflict on_conflict = IdentifyConflict::kCreate;
};

struct ClassDef {
  std::string name;
  std::string parent;  // empty only for the root class
  bool is_abstract = false;
  std::vector<AttributeDef> attributes;  // declared on this class (not inherited)
  // The natural identity declared on this class (may name inherited attributes). A class's
  // key is the one of its nearest ancestor-or-self that declares one; that class scopes it.
  std::vector<std::string> key;
  // Change control (CONTROLLED in the DDL): writes to CIs of a controlled class must name a
  // change that is implementing, inside its planned window. kInherit takes the parent's.
  ControlPolicy control = ControlPolicy::kInherit;
  // Identification for imports (IDENTIFIED BY in the DDL; see IdentifySpec). Empty rules: the
  // class declares none.
  IdentifySpec identify;
  // Services (SERVICE in the DDL): CIs of this class and its subclasses are services, which
  // impact analysis lists when it reaches them and a change assessment scores. `criticality`
  // (SERVICE CRITICALITY attr) names the attribute holding a service's criticality ("": none).
  bool service = false;
  std::string criticality;
};

// The identification rules that apply to a class: those of its nearest ancestor-or-self that
// declares any, followed by its KEY. `scope` is the declaring class: candidates are matched
// against CIs of that class and its subclasses, and of the `shared_with` classes and theirs.
struct Identification {
  std::string scope;
  std::vector<IdentifyRule> rules;  // the KEY, last, is a weak rule
  std::string within;               // parent class for dependent identity
  std::vector<std::string> scoped_by;
  std::vector<std::string> shared_with;  // other classes whose CIs the rules also find
  IdentifyConflict on_conflict = IdentifyConflict::kCreate;
};

enum class Cardinality { kManyToMany, kManyToOne, kOneToMany, kOneToOne };
const char* CardinalityName(Cardinality c);  // "MANY_TO_MANY", ...

// Which way a failure travels along a relationship `from -[type]-> to`.
enum class ImpactRule {
  kNone,      // failures do not propagate
  kToSource,  // a failure of `to` impacts `from` (Application RUNS_ON Server)
  kToTarget,  // a failure of `from` impacts `to` (Datacenter CONTAINS Rack)
  kBoth,
};
const char* ImpactRuleName(ImpactRule r);  // "TO SOURCE", ...

struct EndpointPair {
  std::string from;
  std::string to;
};

struct RelTypeDef {
  std::string name;
  std::vector<EndpointPair> pairs;  // allowed (from, to) classes, subclasses included
  Cardinality cardinality = Cardinality::kManyToMany;
  ImpactRule impact = ImpactRule::kNone;
  // Redundancy: impacts travelling along this type are redundant. The CI they reach is down
  // only when at least `quorum` of the CIs that reach it through this type are down (or
  // `quorum` percent of them when quorum_percent); with fewer it is degraded. 0: no redundancy.
  int quorum = 0;
  bool quorum_percent = false;
  std::vector<AttributeDef> attributes;
};

class Schema {
 public:
  // A schema holding only the root class CI (name STRING NOT NULL, status lifecycle ENUM).
  static Schema Builtin(bool open_mode);

  Schema() = default;
  // Copies rebuild the attribute cache (it points into the copy's own classes); moves keep it
  // (map nodes move with their addresses).
  Schema(const Schema& other);
  Schema& operator=(const Schema& other);
  Schema(Schema&&) noexcept = default;
  Schema& operator=(Schema&&) noexcept = default;

  bool open_mode() const { return open_mode_; }
  int64_t version() const { return version_; }
  void set_version(int64_t v) { version_ = v; }

  const std::map<std::string, ClassDef, std::less<>>& classes() const { return classes_; }
  const std::map<std::string, RelTypeDef, std::less<>>& rel_types() const { return rel_types_; }
  // "unknown class 'X'" / "unknown relationship type 'X'" with a did-you-mean among the defined
  // names (UnknownName in cmdb/suggest.hpp): the one text for an undefined name.
  std::string UnknownClassMessage(std::string_view cls) const;
  std::string UnknownRelTypeMessage(std::string_view type) const;
  const ClassDef* FindClass(std::string_view name) const;
  const RelTypeDef* FindRelType(std::string_view name) const;

  // True when `cls` is `ancestor` or inherits from it. In open mode unknown classes are
  // subclasses of CI only.
  bool IsA(std::string_view cls, std::string_view ancestor) const;
  // `cls` and all its descendants, parents before children.
  std::vector<std::string> ClassAndDescendants(std::string_view cls) const;
  // Attributes of `cls` with inherited ones, root class first.
  const std::vector<const AttributeDef*>& AllAttributes(std::string_view cls) const;
  const AttributeDef* FindAttribute(std::string_view cls, std::string_view attr) const;
  // The KEY attributes of `cls` (inherited included) and the class that scopes their
  // uniqueness (the topmost class declaring one). Empty when the class has no KEY.
  std::vector<std::string> KeyAttributes(std::string_view cls, std::string* scope) const;
  // The class whose KEY applies to `cls` (itself or its nearest ancestor with one), or nullptr.
  // The same as KeyAttributes without copying: owner->key and owner->name (the scope).
  const ClassDef* KeyOwner(std::string_view cls) const;
  // The topmost class declaring `attr` (the scope of its UNIQUE constraint).
  std::string DeclaringClass(std::string_view cls, std::string_view attr) const;

  // Validation. Each canonicalizes values in place (dates, IPs, INT given for FLOAT) and
  // reports errors naming the class, the attribute and the expected type (kSchemaViolation).
  // `creating` applies defaults and requires NOT NULL attributes; updates pass the full new map.
  Status ValidateCi(std::string_view cls, AttrMap& attrs) const;
  // Only the NOT NULL part of ValidateCi, for values NormalizeAttrs already canonicalized.
  Status CheckNotNull(std::string_view cls, const AttrMap& attrs) const;
  // Type checks and canonicalization only: unknown attributes and bad values fail, missing
  // NOT NULL values do not (for partial updates and upserts).
  Status NormalizeAttrs(std::string_view cls, AttrMap& attrs) const;
  // Type checks and canonicalization of values used to look CIs up (abstract classes allowed).
  Status NormalizeLookup(std::string_view cls, AttrMap& attrs) const;
  Status ValidateRel(const RelTypeDef& type, std::string_view from_cls, std::string_view to_cls,
                     AttrMap& attrs) const;
  // Checks the class exists and may be instantiated.
  Status CheckInstantiable(std::string_view cls) const;
  // Adds the DEFAULT values of attributes `attrs` lacks; true when it added any.
  bool ApplyDefaults(std::string_view cls, AttrMap& attrs) const;

  // Mutations (used by the DDL). Each checks the model stays consistent.
  Status AddClass(ClassDef def);
  Status AddAttributes(std::string_view cls, const std::vector<AttributeDef>& attrs);
  Status DropAttribute(std::string_view cls, std::string_view attr);
  Status SetClassKey(std::string_view cls, const std::vector<std::string>& attrs);
  Status SetClassControl(std::string_view cls, ControlPolicy policy);
  // Sets a class's identification (each attribute of the rules and of `scoped_by` must exist on
  // the class; `within`, when set, must be a class some relationship type connects with this
  // one).
  Status SetIdentification(std::string_view cls, IdentifySpec spec);
  Identification IdentificationOf(std::string_view cls) const;
  // The effective policy of a class: its own, else its nearest ancestor's (kUncontrolled when
  // none says; never kInherit).
  ControlPolicy ControlOf(std::string_view cls) const;
  // Declares `cls` a service class (or, `service` false, withdraws its own declaration) with
  // `criticality` naming the attribute that holds a service's criticality ("" for none): one of
  // the class's attributes (inherited included) of type STRING or ENUM. Withdrawing needs a
  // declaration on the class itself.
  Status SetClassService(std::string_view cls, bool service, const std::string& criticality);
  // The class that makes `cls` a service: `cls` or its nearest ancestor declared SERVICE;
  // nullptr when `cls` is no service (always for a class the schema does not know, and in a
  // schema that declares no services). Its `criticality` is the attribute to read.
  const ClassDef* ServiceClassOf(std::string_view cls) const;
  Status DropClass(std::string_view cls);
  Status AddRelType(RelTypeDef def);
  Status AddRelPairs(std::string_view type, const std::vector<EndpointPair>& pairs);
  Status AddRelAttributes(std::string_view type, const std::vector<AttributeDef>& attrs);
  Status DropRelAttribute(std::string_view type, std::string_view attr);
  Status SetRelCardinality(std::string_view type, Cardinality c);
  Status SetRelImpact(std::string_view type, ImpactRule r);
  Status SetRelQuorum(std::string_view type, int quorum, bool percent);
  Status DropRelType(std::string_view type);

  // Canonical DDL that recreates this schema (from the built-in one) when parsed.
  std::string ToDdl() const;

 private:
  Status CheckAttributeDef(const AttributeDef& def, const std::string& owner) const;
  Status NormalizeValue(std::string_view owner, const AttributeDef& def, Value& v) const;

  // Recomputes class_cache_; every mutation of class attributes or the class tree calls it.
  void RebuildAttrCache();

  bool open_mode_ = false;
  int64_t version_ = 0;
  std::map<std::string, ClassDef, std::less<>> classes_;
  std::map<std::string, RelTypeDef, std::less<>> rel_types_;
  // Per class, derived from the class tree: what AllAttributes and IsA answer, found by one hash.
  struct ClassCache {
    std::vector<const AttributeDef*> attrs;  // inherited and own attributes, root first
    std::vector<std::string_view> lineage;   // the class, its parent, ..., the root
  };
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, ClassCache, NameHash, std::equal_to<>> class_cache_;
  // IsA with the class's cache entry already found (nullptr: not a schema class).
  bool IsA(const ClassCache* cache, std::string_view cls, std::string_view ancestor) const;
};

// Canonical forms used for IP and time values; empty optional when invalid.
std::optional<std::string> CanonicalIp(std::string_view text);

}  // namespace cmdb
