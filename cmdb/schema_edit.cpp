// Schema mutations used by the DDL, and the canonical DDL printer.
#include <algorithm>

#include "cmdb/schema.hpp"
#include "cmdb/suggest.hpp"

namespace cmdb {
namespace {

bool IsBuiltinName(std::string_view n) {
  return n == "id" || n == "class" || n == "version" || n == "created_at" || n == "updated_at";
}

std::string AttrDdl(const AttributeDef& a) {
  std::string out = a.name + " " + a.TypeText();
  if (a.not_null) out += " NOT NULL";
  if (a.unique) out += " UNIQUE";
  if (a.default_value) out += " DEFAULT " + a.default_value->ToLiteral();
  return out;
}

std::string AttrBlock(const std::vector<AttributeDef>& attrs) {
  std::string out = " {";
  for (size_t i = 0; i < attrs.size(); ++i) out += (i ? ",\n  " : "\n  ") + AttrDdl(attrs[i]);
  return out + "\n}";
}

}  // namespace

Status Schema::CheckAttributeDef(const AttributeDef& def, const std::string& owner) const {
  if (IsBuiltinName(def.name))
    return Status::Schema("'" + def.name + "' is a built-in field of every CI and cannot be declared")
        .With("class", owner);
  if (def.type == AttrType::kEnum && def.enum_values.empty())
    return Status::Schema(owner + "." + def.name + ": ENUM needs at least one value");
  if (def.default_value) {
    Value v = *def.default_value;
    CMDB_RETURN_IF_ERROR(NormalizeValue(owner, def, v));
  }
  return Status::Ok();
}

Status Schema::AddClass(ClassDef def) {
  if (FindClass(def.name)) return Status::Conflict("class '" + def.name + "' already exists");
  if (FindRelType(def.name))
    return Status::Conflict("'" + def.name + "' is already a relationship type");
  if (def.parent.empty()) def.parent = kRootClass;
  if (!FindClass(def.parent))
    return Status::Schema("class '" + def.name + "' extends unknown class '" + def.parent + "'");
  std::vector<AttributeDef> attrs = std::move(def.attributes);
  def.attributes.clear();
  std::string name = def.name;
  std::vector<std::string> key = std::move(def.key);
  def.key.clear();
  classes_.emplace(name, std::move(def));
  RebuildAttrCache();
  Status st = AddAttributes(name, attrs);
  if (st.ok() && !key.empty()) st = SetClassKey(name, key);
  if (!st.ok()) {
    classes_.erase(name);
    RebuildAttrCache();
  }
  return st;
}

Status Schema::AddAttributes(std::string_view cls, const std::vector<AttributeDef>& attrs) {
  ClassDef* def = const_cast<ClassDef*>(FindClass(cls));
  if (!def) return Status::NotFound(UnknownClassMessage(cls));
  std::vector<std::string> new_keys;
  for (const auto& a : attrs) {
    CMDB_RETURN_IF_ERROR(CheckAttributeDef(a, def->name));
    if (FindAttribute(cls, a.name))
      return Status::Conflict("class '" + def->name + "' already has attribute '" + a.name + "'");
    for (const auto& [n, c] : classes_) {  // a descendant must not declare it already
      if (n != def->name && IsA(n, cls)) {
        for (const auto& d : c.attributes) {
          if (d.name == a.name)
            return Status::Conflict("subclass '" + n + "' already declares attribute '" + a.name + "'");
        }
      }
    }
    AttributeDef copy = a;
    if (copy.key) {
      copy.not_null = true;
      new_keys.push_back(copy.name);
      copy.key = false;
    }
    def->attributes.push_back(std::move(copy));
    RebuildAttrCache();  // the push may have moved this class's attributes
  }
  if (!new_keys.empty()) {
    std::vector<std::string> key = def->key;
    key.insert(key.end(), new_keys.begin(), new_keys.end());
    return SetClassKey(cls, key);
  }
  return Status::Ok();
}

Status Schema::SetClassKey(std::string_view cls, const std::vector<std::string>& attrs) {
  ClassDef* def = const_cast<ClassDef*>(FindClass(cls));
  if (!def) return Status::NotFound(UnknownClassMessage(cls));
  for (const auto& a : attrs) {
    if (!FindAttribute(cls, a))
      return Status::Schema("KEY of class '" + def->name + "' names unknown attribute '" + a + "'");
  }
  def->key = attrs;
  return Status::Ok();
}

const char* ControlPolicyName(ControlPolicy p) {
  switch (p) {
    case ControlPolicy::kInherit: return "INHERIT";
    case ControlPolicy::kUncontrolled: return "UNCONTROLLED";
    case ControlPolicy::kDetect: return "CONTROLLED DETECT";
    case ControlPolicy::kEnforce: return "CONTROLLED ENFORCE";
  }
  return "?";
}

Status Schema::SetClassControl(std::string_view cls, ControlPolicy policy) {
  ClassDef* def = const_cast<ClassDef*>(FindClass(cls));
  if (!def) return Status::NotFound(UnknownClassMessage(cls));
  def->control = policy;
  return Status::Ok();
}

const char* IdentifyConflictName(IdentifyConflict c) {
  return c == IdentifyConflict::kRefuse ? "REFUSE" : "CREATE";
}

Status Schema::SetIdentification(std::string_view cls, IdentifySpec spec) {
  ClassDef* def = const_cast<ClassDef*>(FindClass(cls));
  if (!def) return Status::NotFound(UnknownClassMessage(cls));
  for (const auto& rule : spec.rules) {
    for (const auto& a : rule.attrs) {
      if (!FindAttribute(cls, a))
        return Status::Schema("IDENTIFIED BY of class '" + def->name + "' names unknown attribute '" + a + "'");
    }
  }
  for (const auto& a : spec.scoped_by) {
    if (!FindAttribute(cls, a))
      return Status::Schema("IDENTIFIED ... SCOPED BY of class '" + def->name + "' names unknown attribute '" + a +
                            "'");
  }
  for (const auto& other : spec.shared_with) {
    if (!FindClass(other)) return Status::NotFound(UnknownClassMessage(other));
    if (IsA(cls, other) || IsA(other, cls))
      return Status::Schema("IDENTIFIED ... SHARED WITH " + other + ": " + def->name + " and " + other +
                            " are one hierarchy, whose CIs its rules find already");
  }
  const std::string& within = spec.within;
  if (!within.empty()) {
    if (!FindClass(within)) return Status::NotFound(UnknownClassMessage(within));
    bool connected = false;
    for (const auto& [name, r] : rel_types_) {
      for (const auto& p : r.pairs) {
        connected = connected || (IsA(within, p.from) && IsA(cls, p.to)) || (IsA(cls, p.from) && IsA(within, p.to));
      }
    }
    if (!connected)
      return Status::Schema("IDENTIFIED ... WITHIN " + within + ": no relationship type connects " + within + " and " +
                            def->name);
  }
  def->identify = std::move(spec);
  return Status::Ok();
}

Identification Schema::IdentificationOf(std::string_view cls) const {
  Identification out;
  for (const ClassDef* def = FindClass(cls); def; def = def->parent.empty() ? nullptr : FindClass(def->parent)) {
    if (!def->identify.rules.empty()) {
      out.scope = def->name;
      out.rules = def->identify.rules;
      out.within = def->identify.within;
      out.scoped_by = def->identify.scoped_by;
      out.shared_with = def->identify.shared_with;
      out.on_conflict = def->identify.on_conflict;
      break;
    }
  }
  // The KEY is always a rule, in the scope of the class that declares it.
  for (const ClassDef* def = FindClass(cls); def; def = def->parent.empty() ? nullptr : FindClass(def->parent)) {
    if (def->key.empty()) continue;
    if (out.scope.empty()) out.scope = def->name;
    IdentifyRule key{def->key, false};
    bool listed = false;
    for (const auto& r : out.rules) listed = listed || r.attrs == def->key;
    if (!listed) out.rules.push_back(std::move(key));
    break;
  }
  if (out.scope.empty()) out.scope = std::string(cls);
  return out;
}

ControlPolicy Schema::ControlOf(std::string_view cls) const {
  for (const ClassDef* def = FindClass(cls); def; def = def->parent.empty() ? nullptr : FindClass(def->parent)) {
    if (def->control != ControlPolicy::kInherit) return def->control;
  }
  return ControlPolicy::kUncontrolled;
}

Status Schema::SetClassService(std::string_view cls, bool service, const std::string& criticality) {
  ClassDef* def = const_cast<ClassDef*>(FindClass(cls));
  if (!def) return Status::NotFound(UnknownClassMessage(cls));
  if (!service) {
    if (!def->service) {
      const ClassDef* through = ServiceClassOf(cls);
      return Status::Schema("class '" + def->name + "' is not declared SERVICE" +
                            (through ? " (it is a service through '" + through->name + "')" : ""));
    }
    def->service = false;
    def->criticality.clear();
    return Status::Ok();
  }
  if (!criticality.empty()) {
    const AttributeDef* a = FindAttribute(cls, criticality);
    if (!a) {
      std::vector<std::string> names;
      for (const AttributeDef* d : AllAttributes(cls)) names.push_back(d->name);
      return Status::Schema("SERVICE CRITICALITY of class '" + def->name +
                            "' names unknown attribute '" + criticality + "'" +
                            DidYouMean(criticality, names));
    }
    if (a->type != AttrType::kString && a->type != AttrType::kEnum)
      return Status::Schema("SERVICE CRITICALITY of class '" + def->name + "' names attribute '" +
                            criticality + "' of type " + a->TypeText() +
                            "; a criticality is a STRING or an ENUM");
  }
  def->service = true;
  def->criticality = criticality;
  return Status::Ok();
}

const ClassDef* Schema::ServiceClassOf(std::string_view cls) const {
  for (const ClassDef* def = FindClass(cls); def;
       def = def->parent.empty() ? nullptr : FindClass(def->parent)) {
    if (def->service) return def;
  }
  return nullptr;
}

Status Schema::DropAttribute(std::string_view cls, std::string_view attr) {
  ClassDef* def = const_cast<ClassDef*>(FindClass(cls));
  if (!def) return Status::NotFound(UnknownClassMessage(cls));
  auto it = std::find_if(def->attributes.begin(), def->attributes.end(),
                         [&](const AttributeDef& a) { return a.name == attr; });
  if (it == def->attributes.end())
    return Status::NotFound("class '" + def->name + "' declares no attribute '" + std::string(attr) + "'");
  if (def->name == kRootClass && (attr == "name" || attr == "status"))
    return Status::Schema("the built-in attribute CI." + std::string(attr) + " cannot be dropped");
  for (const auto& [n, c] : classes_) {
    if (IsA(n, cls) && std::find(c.key.begin(), c.key.end(), attr) != c.key.end())
      return Status::Conflict("attribute '" + std::string(attr) + "' is part of the KEY of class '" + n + "'");
    if (IsA(n, cls) && c.service && c.criticality == attr)
      return Status::Conflict("attribute '" + std::string(attr) +
                              "' holds the criticality of service class '" + n + "'");
  }
  def->attributes.erase(it);
  RebuildAttrCache();
  return Status::Ok();
}

Status Schema::DropClass(std::string_view cls) {
  if (cls == kRootClass) return Status::Schema("the root class CI cannot be dropped");
  if (!FindClass(cls)) return Status::NotFound(UnknownClassMessage(cls));
  for (const auto& [n, c] : classes_) {
    if (c.parent == cls) return Status::Conflict("class '" + n + "' extends '" + std::string(cls) + "'");
  }
  for (const auto& [n, r] : rel_types_) {
    for (const auto& p : r.pairs) {
      if (p.from == cls || p.to == cls)
        return Status::Conflict("relationship type " + n + " connects class '" + std::string(cls) + "'");
    }
  }
  classes_.erase(std::string(cls));
  RebuildAttrCache();
  return Status::Ok();
}

Status Schema::AddRelType(RelTypeDef def) {
  if (FindRelType(def.name)) return Status::Conflict("relationship type " + def.name + " already exists");
  if (FindClass(def.name)) return Status::Conflict("'" + def.name + "' is already a class");
  for (const auto& a : def.attributes) CMDB_RETURN_IF_ERROR(CheckAttributeDef(a, def.name));
  std::vector<EndpointPair> pairs = std::move(def.pairs);
  def.pairs.clear();
  std::string name = def.name;
  rel_types_.emplace(name, std::move(def));
  Status st = AddRelPairs(name, pairs);
  if (!st.ok()) rel_types_.erase(name);
  return st;
}

Status Schema::AddRelPairs(std::string_view type, const std::vector<EndpointPair>& pairs) {
  RelTypeDef* def = const_cast<RelTypeDef*>(FindRelType(type));
  if (!def) return Status::NotFound("unknown relationship type " + std::string(type));
  for (const auto& p : pairs) {
    for (const std::string* c : {&p.from, &p.to}) {
      if (!FindClass(*c))
        return Status::Schema("relationship type " + def->name + " names unknown class '" + *c + "'");
    }
    def->pairs.push_back(p);
  }
  return Status::Ok();
}

Status Schema::AddRelAttributes(std::string_view type, const std::vector<AttributeDef>& attrs) {
  RelTypeDef* def = const_cast<RelTypeDef*>(FindRelType(type));
  if (!def) return Status::NotFound("unknown relationship type " + std::string(type));
  for (const auto& a : attrs) {
    CMDB_RETURN_IF_ERROR(CheckAttributeDef(a, def->name));
    for (const auto& d : def->attributes) {
      if (d.name == a.name)
        return Status::Conflict("relationship type " + def->name + " already has attribute '" + a.name + "'");
    }
    def->attributes.push_back(a);
  }
  return Status::Ok();
}

Status Schema::DropRelAttribute(std::string_view type, std::string_view attr) {
  RelTypeDef* def = const_cast<RelTypeDef*>(FindRelType(type));
  if (!def) return Status::NotFound("unknown relationship type " + std::string(type));
  auto it = std::find_if(def->attributes.begin(), def->attributes.end(),
                         [&](const AttributeDef& a) { return a.name == attr; });
  if (it == def->attributes.end())
    return Status::NotFound("relationship type " + def->name + " has no attribute '" + std::string(attr) + "'");
  def->attributes.erase(it);
  RebuildAttrCache();
  return Status::Ok();
}

Status Schema::SetRelCardinality(std::string_view type, Cardinality c) {
  RelTypeDef* def = const_cast<RelTypeDef*>(FindRelType(type));
  if (!def) return Status::NotFound("unknown relationship type " + std::string(type));
  def->cardinality = c;
  return Status::Ok();
}

Status Schema::SetRelImpact(std::string_view type, ImpactRule r) {
  RelTypeDef* def = const_cast<RelTypeDef*>(FindRelType(type));
  if (!def) return Status::NotFound("unknown relationship type " + std::string(type));
  def->impact = r;
  return Status::Ok();
}

Status Schema::SetRelQuorum(std::string_view type, int quorum, bool percent) {
  RelTypeDef* def = const_cast<RelTypeDef*>(FindRelType(type));
  if (!def) return Status::NotFound("unknown relationship type " + std::string(type));
  if (quorum < 0 || (percent && quorum > 100))
    return Status::Schema("QUORUM must be a count of at least 1 or a percentage from 1% to 100%");
  def->quorum = quorum;
  def->quorum_percent = percent;
  return Status::Ok();
}

Status Schema::DropRelType(std::string_view type) {
  if (!rel_types_.erase(std::string(type)))
    return Status::NotFound("unknown relationship type " + std::string(type));
  return Status::Ok();
}

std::string Schema::ToDdl() const {
  std::string out;
  const ClassDef* root = FindClass(kRootClass);
  std::vector<AttributeDef> extra(root->attributes.begin() + (open_mode_ ? 1 : 2), root->attributes.end());
  if (!extra.empty()) out += "ALTER NODE TYPE CI ADD" + AttrBlock(extra) + ";\n";
  // The root class's own options (it is built in, so never CREATEd): without them here a
  // change of them would compare equal to the schema before and be lost.
  if (root->control != ControlPolicy::kInherit)
    out += std::string("ALTER NODE TYPE CI SET ") + ControlPolicyName(root->control) + ";\n";
  if (root->service)
    out += root->criticality.empty() ? "ALTER NODE TYPE CI SET SERVICE;\n"
                                     : "ALTER NODE TYPE CI SET SERVICE CRITICALITY " + root->criticality + ";\n";
  for (const std::string& name : ClassAndDescendants(kRootClass)) {
    if (name == kRootClass) continue;
    const ClassDef& c = classes_.at(name);
    out += std::string("CREATE ") + (c.is_abstract ? "ABSTRACT " : "") + "NODE TYPE " + c.name;
    if (c.parent != kRootClass) out += " EXTENDS " + c.parent;
    if (!c.key.empty()) {
      out += " KEY (";
      for (size_t i = 0; i < c.key.size(); ++i) out += (i ? ", " : "") + c.key[i];
      out += ")";
    }
    if (c.control != ControlPolicy::kInherit) out += std::string(" ") + ControlPolicyName(c.control);
    if (c.service)
      out += c.criticality.empty() ? " SERVICE" : " SERVICE CRITICALITY " + c.criticality;
    if (!c.attributes.empty()) out += AttrBlock(c.attributes);
    out += ";\n";
  }
  for (const auto& [name, r] : rel_types_) {
    out += "CREATE EDGE TYPE " + name + " CONNECTING (";
    for (size_t i = 0; i < r.pairs.size(); ++i)
      out += (i ? ", " : "") + r.pairs[i].from + " -> " + r.pairs[i].to;
    out += ") CARDINALITY " + std::string(CardinalityName(r.cardinality)) + " IMPACT " +
           ImpactRuleName(r.impact);
    if (r.quorum > 0) out += " QUORUM " + std::to_string(r.quorum) + (r.quorum_percent ? "%" : "");
    if (!r.attributes.empty()) out += AttrBlock(r.attributes);
    out += ";\n";
  }
    for (const std::string& name : ClassAndDescendants(kRootClass)) {
    const ClassDef& c = classes_.at(name);
    const IdentifySpec& id = c.identify;
    if (id.rules.empty()) continue;
    out += "ALTER NODE TYPE " + c.name + " SET IDENTIFIED BY ";
    for (size_t i = 0; i < id.rules.size(); ++i) {
      out += i ? ", " : "";
      out += id.rules[i].strong ? "STRONG (" : "(";
      for (size_t j = 0; j < id.rules[i].attrs.size(); ++j) out += (j ? ", " : "") + id.rules[i].attrs[j];
      out += ")";
    }
    if (!id.within.empty()) out += " WITHIN " + id.within;
    if (!id.scoped_by.empty()) {
      out += " SCOPED BY (";
      for (size_t j = 0; j < id.scoped_by.size(); ++j) out += (j ? ", " : "") + id.scoped_by[j];
      out += ")";
    }
    if (!id.shared_with.empty()) {
      out += " SHARED WITH (";
      for (size_t j = 0; j < id.shared_with.size(); ++j) out += (j ? ", " : "") + id.shared_with[j];
      out += ")";
    }
    if (id.on_conflict != IdentifyConflict::kCreate)
      out += std::string(" ON CONFLICT ") + IdentifyConflictName(id.on_conflict);
    out += ";\n";
  }
  return out;
}

}  // namespace cmdb
