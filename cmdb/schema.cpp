#include "cmdb/schema.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "cmdb/suggest.hpp"
#include "cmdb/time_util.hpp"
#include "cmdb/utf8.hpp"

namespace cmdb {

const char* AttrTypeName(AttrType t) {
  switch (t) {
    case AttrType::kString: return "STRING";
    case AttrType::kInt: return "INT";
    case AttrType::kFloat: return "FLOAT";
    case AttrType::kBool: return "BOOL";
    case AttrType::kDateTime: return "DATETIME";
    case AttrType::kDate: return "DATE";
    case AttrType::kEnum: return "ENUM";
    case AttrType::kIp: return "IP";
    case AttrType::kStringList: return "LIST<STRING>";
    case AttrType::kAny: return "ANY";
  }
  return "?";
}

const char* CardinalityName(Cardinality c) {
  switch (c) {
    case Cardinality::kManyToMany: return "MANY_TO_MANY";
    case Cardinality::kManyToOne: return "MANY_TO_ONE";
    case Cardinality::kOneToMany: return "ONE_TO_MANY";
    case Cardinality::kOneToOne: return "ONE_TO_ONE";
  }
  return "?";
}

const char* ImpactRuleName(ImpactRule r) {
  switch (r) {
    case ImpactRule::kNone: return "NONE";
    case ImpactRule::kToSource: return "TO SOURCE";
    case ImpactRule::kToTarget: return "TO TARGET";
    case ImpactRule::kBoth: return "BOTH";
  }
  return "?";
}

std::string AttributeDef::TypeText() const {
  if (type != AttrType::kEnum) return AttrTypeName(type);
  std::string out = "ENUM(";
  for (size_t i = 0; i < enum_values.size(); ++i) {
    if (i) out += ", ";
    out += Value(enum_values[i]).ToLiteral();
  }
  return out + ")";
}

std::optional<std::string> CanonicalIp(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, out, sizeof out);
    return std::string(out);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, out, sizeof out);
    return std::string(out);
  }
  return std::nullopt;
}

Schema Schema::Builtin(bool open_mode) {
  Schema s;
  s.open_mode_ = open_mode;
  ClassDef root;
  root.name = kRootClass;
  root.is_abstract = !open_mode;
  AttributeDef name{"name", AttrType::kString};
  name.not_null = !open_mode;
  AttributeDef status{"status", AttrType::kEnum};
  status.enum_values = {"planned", "ordered", "installed", "live", "maintenance",
                        "degraded", "stale", "retired", "disposed"};
  status.not_null = true;
  status.default_value = Value("live");
  if (open_mode) {
    name.type = AttrType::kAny;
    root.attributes = {name};
  } else {
    root.attributes = {name, status};
  }
  s.classes_.emplace(root.name, root);
  s.RebuildAttrCache();
  return s;
}

Schema::Schema(const Schema& other)
    : open_mode_(other.open_mode_), version_(other.version_), classes_(other.classes_), rel_types_(other.rel_types_) {
  RebuildAttrCache();
}

Schema& Schema::operator=(const Schema& other) {
  if (this == &other) return *this;
  open_mode_ = other.open_mode_;
  version_ = other.version_;
  classes_ = other.classes_;
  rel_types_ = other.rel_types_;
  RebuildAttrCache();
  return *this;
}

void Schema::RebuildAttrCache() {
  class_cache_.clear();
  for (const auto& [name, def] : classes_) {
    std::vector<const ClassDef*> chain;
    for (const ClassDef* c = &def; c; c = c->parent.empty() ? nullptr : FindClass(c->parent)) {
      chain.push_back(c);
      if (chain.size() > classes_.size()) break;  // a cycle cannot happen; never loop forever
    }
    ClassCache& out = class_cache_[name];
    for (const ClassDef* c : chain) out.lineage.push_back(c->name);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      for (const auto& a : (*it)->attributes) out.attrs.push_back(&a);
    }
  }
}

const ClassDef* Schema::FindClass(std::string_view name) const {
  auto it = classes_.find(name);
  return it == classes_.end() ? nullptr : &it->second;
}

const RelTypeDef* Schema::FindRelType(std::string_view name) const {
  auto it = rel_types_.find(name);
  return it == rel_types_.end() ? nullptr : &it->second;
}

bool Schema::IsA(std::string_view cls, std::string_view ancestor) const {
  auto it = class_cache_.find(cls);
  return IsA(it != class_cache_.end() ? &it->second : nullptr, cls, ancestor);
}

bool Schema::IsA(const ClassCache* cache, std::string_view cls, std::string_view ancestor) const {
  if (ancestor == kRootClass) return cache || open_mode_;
  if (cache) {
    for (std::string_view c : cache->lineage) {
      if (c == ancestor) return true;
    }
  }
  return open_mode_ && cls == ancestor;
}

std::vector<std::string> Schema::ClassAndDescendants(std::string_view cls) const {
  std::vector<std::string> out;
  if (!FindClass(cls)) {
    if (open_mode_) out.emplace_back(cls);
    return out;
  }
  out.emplace_back(cls);
  for (size_t i = 0; i < out.size(); ++i) {
    for (const auto& [name, def] : classes_) {
      if (def.parent == out[i]) out.push_back(name);
    }
  }
  return out;
}

const std::vector<const AttributeDef*>& Schema::AllAttributes(std::string_view cls) const {
  static const std::vector<const AttributeDef*> kNone;
  auto it = class_cache_.find(cls);
  if (it != class_cache_.end()) return it->second.attrs;
  if (open_mode_) {  // unknown classes of an open schema have the root's attributes
    auto root = class_cache_.find(kRootClass);
    if (root != class_cache_.end()) return root->second.attrs;
  }
  return kNone;
}

const AttributeDef* Schema::FindAttribute(std::string_view cls, std::string_view attr) const {
  for (const AttributeDef* a : AllAttributes(cls)) {
    if (a->name == attr) return a;
  }
  return nullptr;
}

const ClassDef* Schema::KeyOwner(std::string_view cls) const {
  for (const ClassDef* c = FindClass(cls); c; c = c->parent.empty() ? nullptr : FindClass(c->parent)) {
    if (!c->key.empty()) return c;
  }
  return nullptr;
}

std::vector<std::string> Schema::KeyAttributes(std::string_view cls, std::string* scope) const {
  for (const ClassDef* c = FindClass(cls); c; c = c->parent.empty() ? nullptr : FindClass(c->parent)) {
    if (!c->key.empty()) {
      if (scope) *scope = c->name;
      return c->key;
    }
  }
  return {};
}

std::string Schema::DeclaringClass(std::string_view cls, std::string_view attr) const {
  std::string found;
  for (const ClassDef* c = FindClass(cls); c; c = c->parent.empty() ? nullptr : FindClass(c->parent)) {
    for (const auto& a : c->attributes) {
      if (a.name == attr) found = c->name;
    }
  }
  return found;
}

namespace {

// Refuses text that is not valid UTF-8 in an attribute's name or value (strings, and strings in
// lists): nothing stored is ever invalid UTF-8, whichever front end wrote it (cmdb/utf8.hpp).
Status CheckUtf8(std::string_view owner, const std::string& name, const Value& v) {
  auto fail = [&](const char* what, size_t byte) {
    return Status::Invalid(std::string(owner) + "." + name + ": " + what +
                           " is not valid UTF-8 (byte " + std::to_string(byte) + ")")
        .With("attribute", name)
        .With("byte", static_cast<int64_t>(byte));
  };
  if (auto bad = FirstInvalidUtf8(name)) return fail("the attribute name", *bad);
  if (v.is_string()) {
    if (auto bad = FirstInvalidUtf8(v.as_string())) return fail("the value", *bad);
  } else if (v.is_list()) {
    for (const Value& e : v.as_list()) {
      if (!e.is_string()) continue;
      if (auto bad = FirstInvalidUtf8(e.as_string())) return fail("a list element", *bad);
    }
  }
  return Status::Ok();
}

Status CheckUtf8(std::string_view owner, const AttrMap& attrs) {
  for (const auto& [name, value] : attrs) CMDB_RETURN_IF_ERROR(CheckUtf8(owner, name, value));
  return Status::Ok();
}

}  // namespace

Status Schema::NormalizeValue(std::string_view owner, const AttributeDef& def, Value& v) const {
  auto fail = [&](const std::string& why) {
    return Status::Schema(std::string(owner) + "." + def.name + ": expected " + def.TypeText() +
                          ", got " + why)
        .With("class", std::string(owner))
        .With("attribute", def.name)
        .With("expected", def.TypeText());
  };
  auto got = [&] { return std::string(Value::KindName(v.kind())) + " " + v.ToLiteral(); };
  switch (def.type) {
    case AttrType::kAny: return Status::Ok();
    case AttrType::kString:
      return v.is_string() ? Status::Ok() : fail(got());
    case AttrType::kInt:
      if (v.is_float() && std::floor(v.as_float()) == v.as_float() && std::abs(v.as_float()) < 9e15) {
        v = Value(static_cast<int64_t>(v.as_float()));
      }
      return v.is_int() ? Status::Ok() : fail(got());
    case AttrType::kFloat:
      if (v.is_int()) v = Value(static_cast<double>(v.as_int()));
      return v.is_float() ? Status::Ok() : fail(got());
    case AttrType::kBool:
      return v.is_bool() ? Status::Ok() : fail(got());
    case AttrType::kDateTime: {
      if (!v.is_string()) return fail(got());
      auto t = ParseTimestamp(v.as_string());
      if (!t) return fail("the invalid date-time " + v.ToLiteral() + " (ISO-8601, e.g. '2026-01-31T12:00:00Z')");
      v = Value(FormatTimestamp(*t));
      return Status::Ok();
    }
    case AttrType::kDate:
      if (!v.is_string()) return fail(got());
      if (!IsValidDate(v.as_string())) return fail("the invalid date " + v.ToLiteral() + " (YYYY-MM-DD)");
      return Status::Ok();
    case AttrType::kEnum:
      if (!v.is_string()) return fail(got());
      if (std::find(def.enum_values.begin(), def.enum_values.end(), v.as_string()) ==
          def.enum_values.end())
        return fail("the value " + v.ToLiteral() + ", which is not one of the enum values");
      return Status::Ok();
    case AttrType::kIp: {
      if (!v.is_string()) return fail(got());
      auto ip = CanonicalIp(v.as_string());
      if (!ip) return fail("the invalid IP address " + v.ToLiteral());
      v = Value(*ip);
      return Status::Ok();
    }
    case AttrType::kStringList:
      if (!v.is_list()) return fail(got());
      for (const Value& e : v.as_list()) {
        if (!e.is_string()) return fail("a list holding " + std::string(Value::KindName(e.kind())) + " " + e.ToLiteral());
      }
      return Status::Ok();
  }
  return Status::Ok();
}

std::string Schema::UnknownClassMessage(std::string_view cls) const {
  std::vector<std::string> names;
  for (const auto& [n, d] : classes_) names.push_back(n);
  return UnknownName("class", cls, names);
}

std::string Schema::UnknownRelTypeMessage(std::string_view type) const {
  std::vector<std::string> names;
  for (const auto& [n, d] : rel_types_) names.push_back(n);
  return UnknownName("relationship type", type, names);
}

Status Schema::CheckInstantiable(std::string_view cls) const {
  const ClassDef* def = FindClass(cls);
  if (!def) {
    if (open_mode_) return Status::Ok();
    return Status::Schema(UnknownClassMessage(cls)).With("class", std::string(cls));
  }
  if (def->is_abstract)
    return Status::Schema("class '" + std::string(cls) + "' is abstract and cannot have CIs")
        .With("class", std::string(cls));
  return Status::Ok();
}

bool Schema::ApplyDefaults(std::string_view cls, AttrMap& attrs) const {
  bool added = false;
  for (const AttributeDef* a : AllAttributes(cls)) {
    if (a->default_value && !attrs.Has(a->name)) attrs.Set(a->name, *a->default_value), added = true;
  }
  return added;
}

Status Schema::ValidateCi(std::string_view cls, AttrMap& attrs) const {
  CMDB_RETURN_IF_ERROR(NormalizeAttrs(cls, attrs));
  return CheckNotNull(cls, attrs);
}

Status Schema::CheckNotNull(std::string_view cls, const AttrMap& attrs) const {
  if (open_mode_ && !FindClass(cls)) return Status::Ok();
  for (const AttributeDef* d : AllAttributes(cls)) {
    if (d->not_null && !attrs.Has(d->name))
      return Status::Schema(std::string(cls) + "." + d->name + " is NOT NULL but has no value")
          .With("class", std::string(cls))
          .With("attribute", d->name)
          .With("expected", d->TypeText());
  }
  return Status::Ok();
}

Status Schema::NormalizeAttrs(std::string_view cls, AttrMap& attrs) const {
  CMDB_RETURN_IF_ERROR(CheckInstantiable(cls));
  return NormalizeLookup(cls, attrs);
}

Status Schema::NormalizeLookup(std::string_view cls, AttrMap& attrs) const {
  if (!FindClass(cls) && !open_mode_)
    return Status::Schema(UnknownClassMessage(cls)).With("class", std::string(cls));
  CMDB_RETURN_IF_ERROR(CheckUtf8(cls, attrs));
  if (open_mode_ && !FindClass(cls)) return Status::Ok();
  auto defs = AllAttributes(cls);
  AttrMap::Builder normalized;
  for (const auto& [name, value] : attrs) {
    auto it = std::find_if(defs.begin(), defs.end(), [&name = name](auto* d) { return d->name == name; });
    if (it == defs.end()) {
      if (open_mode_) {
        normalized.Add(name, value);
        continue;
      }
      return Status::Schema("class '" + std::string(cls) + "' has no attribute '" + name + "'")
          .With("class", std::string(cls))
          .With("attribute", name);
    }
    Value v = value;
    CMDB_RETURN_IF_ERROR(NormalizeValue(cls, **it, v));
    normalized.Add(name, std::move(v));
  }
  attrs = normalized.Build();
  return Status::Ok();
}

Status Schema::ValidateRel(const RelTypeDef& type, std::string_view from_cls,
                           std::string_view to_cls, AttrMap& attrs) const {
  bool allowed = type.pairs.empty() && open_mode_;
  auto from_it = class_cache_.find(from_cls), to_it = class_cache_.find(to_cls);
  const ClassCache* from = from_it != class_cache_.end() ? &from_it->second : nullptr;
  const ClassCache* to = to_it != class_cache_.end() ? &to_it->second : nullptr;
  for (const auto& p : type.pairs) {
    if (IsA(from, from_cls, p.from) && IsA(to, to_cls, p.to)) {
      allowed = true;
      break;
    }
  }
  if (!allowed) {
    std::string list;
    for (const auto& p : type.pairs) list += (list.empty() ? "" : ", ") + p.from + " -> " + p.to;
    return Status::Schema("relationship type " + type.name + " does not connect " +
                          std::string(from_cls) + " -> " + std::string(to_cls) +
                          " (allowed: " + list + ")")
        .With("type", type.name);
  }
  CMDB_RETURN_IF_ERROR(CheckUtf8(type.name, attrs));
  AttrMap normalized;
  for (const auto& [name, value] : attrs) {
    auto it = std::find_if(type.attributes.begin(), type.attributes.end(),
                           [&name = name](const AttributeDef& d) { return d.name == name; });
    if (it == type.attributes.end()) {
      if (open_mode_) {
        normalized.Set(name, value);
        continue;
      }
      return Status::Schema("relationship type " + type.name + " has no attribute '" + name + "'")
          .With("type", type.name)
          .With("attribute", name);
    }
    Value v = value;
    CMDB_RETURN_IF_ERROR(NormalizeValue(type.name, *it, v));
    normalized.Set(name, std::move(v));
  }
  for (const auto& d : type.attributes) {
    if (!normalized.Has(d.name) && d.default_value) normalized.Set(d.name, *d.default_value);
    if (d.not_null && !normalized.Has(d.name))
      return Status::Schema(type.name + "." + d.name + " is NOT NULL but has no value")
          .With("type", type.name)
          .With("attribute", d.name);
  }
  attrs = std::move(normalized);
  return Status::Ok();
}

}  // namespace cmdb
