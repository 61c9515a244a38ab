#include "query/runtime/procedures.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace cmdb::gql {
namespace {

const std::vector<ProcedureDef>& Catalogue() {
  static const std::vector<ProcedureDef> kProcedures = {
      {"impact", 1, 2, {"ci", "distance", "state", "path"}, "impact(seeds [, options])"},
      {"db.labels", 0, 0, {"label"}, "db.labels()"},
      {"db.relationshipTypes", 0, 0, {"relationshipType"}, "db.relationshipTypes()"},
      {"db.propertyKeys", 0, 0, {"propertyKey"}, "db.propertyKeys()"},
      {"db.schema.classes", 0, 0,
       {"class", "parent", "abstract", "attributes", "key", "outgoing", "incoming"}, "db.schema.classes()"},
  };
  return kProcedures;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Every CI of the graph, then every relationship (through its start CI), with `tick` between.
void ScanAll(const GraphAccess& graph, const std::function<void()>& tick, const std::function<void(const CiRecord&)>& ci,
             const std::function<void(const RelRecord&)>& rel) {
  std::vector<CiId> ids;
  graph.ScanLabel("", [&](CiId id) { ids.push_back(id); });
  size_t n = 0;
  for (CiId id : ids) {
    if (++n % 1024 == 0) tick();
    if (const CiRecord* c = graph.Node(id)) ci(*c);
    if (!rel) continue;
    std::vector<RelId> rels;
    graph.Expand(id, Direction::kOut, {}, [&](RelId r, CiId) { rels.push_back(r); });
    for (RelId r : rels) {
      if (std::optional<RelRecord> rec = graph.Rel(r)) rel(*rec);
    }
  }
}

std::vector<std::vector<QValue>> Column(const std::set<std::string>& names) {
  std::vector<std::vector<QValue>> out;
  for (const auto& n : names) out.push_back({QValue(n)});
  return out;
}

QValue AttributeMap(const AttributeDef& a, const std::string& declared_by, bool key) {
  QMap m;
  m["name"] = QValue(a.name);
  m["type"] = QValue(a.TypeText());
  m["key"] = QValue(key);
  m["unique"] = QValue(a.unique);
  m["not_null"] = QValue(a.not_null);
  m["declared_by"] = QValue(declared_by);
  return QValue(std::move(m));
}

std::vector<std::vector<QValue>> Classes(const Schema& schema) {
  std::vector<std::vector<QValue>> out;
  for (const auto& [name, cls] : schema.classes()) {
    std::vector<std::string> key = schema.KeyAttributes(name, nullptr);
    QList attrs;
    for (const AttributeDef* a : schema.AllAttributes(name)) {
      std::string declared_by = schema.DeclaringClass(name, a->name);
      attrs.push_back(AttributeMap(*a, declared_by, std::find(key.begin(), key.end(), a->name) != key.end()));
    }
    QList outgoing, incoming;
    for (const auto& [type, def] : schema.rel_types()) {
      for (const EndpointPair& p : def.pairs) {
        if (schema.IsA(name, p.from)) outgoing.push_back(QValue(QMap{{"type", QValue(type)}, {"to", QValue(p.to)}}));
        if (schema.IsA(name, p.to)) incoming.push_back(QValue(QMap{{"type", QValue(type)}, {"from", QValue(p.from)}}));
      }
    }
    QList key_list(key.begin(), key.end());
    out.push_back({QValue(name), cls.parent.empty() ? QValue() : QValue(cls.parent), QValue(cls.is_abstract),
                   QValue(std::move(attrs)), QValue(std::move(key_list)), QValue(std::move(outgoing)),
                   QValue(std::move(incoming))});
  }
  return out;
}

}  // namespace

const ProcedureDef* FindProcedure(std::string_view name) {
  std::string key = Lower(name);
  if (key == "cmdb.impact") key = "impact";
  for (const auto& p : Catalogue()) {
    if (Lower(p.name) == key) return &p;
  }
  return nullptr;
}

std::vector<std::string> ProcedureNames() {
  std::vector<std::string> out;
  for (const auto& p : Catalogue()) out.push_back(p.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::vector<QValue>> CatalogueRows(const ProcedureDef& procedure, const GraphAccess& graph,
                                               const std::function<void()>& tick) {
  const Schema& schema = graph.schema();
  const bool open = schema.open_mode();
  std::set<std::string> names;
  if (procedure.name == "db.labels") {
    for (const auto& [name, cls] : schema.classes()) names.insert(name);
    if (open) ScanAll(graph, tick, [&](const CiRecord& c) { names.insert(c.class_name.str()); }, nullptr);
    return Column(names);
  }
  if (procedure.name == "db.relationshipTypes") {
    for (const auto& [name, def] : schema.rel_types()) names.insert(name);
    if (open) ScanAll(graph, tick, [](const CiRecord&) {}, [&](const RelRecord& r) { names.insert(r.type.str()); });
    return Column(names);
  }
  if (procedure.name == "db.propertyKeys") {
    for (const auto& [name, cls] : schema.classes()) {
      for (const AttributeDef& a : cls.attributes) names.insert(a.name);
    }
    for (const auto& [name, def] : schema.rel_types()) {
      for (const AttributeDef& a : def.attributes) names.insert(a.name);
    }
    if (open) {
      ScanAll(graph, tick, [&](const CiRecord& c) { for (const auto& [k, v] : c.attrs) names.insert(std::string(k)); },
              [&](const RelRecord& r) { for (const auto& [k, v] : r.attrs) names.insert(std::string(k)); });
    }
    return Column(names);
  }
  return Classes(schema);  // db.schema.classes
}

}  // namespace cmdb::gql
