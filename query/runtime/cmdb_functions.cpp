#include "query/runtime/cmdb_functions.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "query/common/query_error.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;
using Args = std::vector<QValue>;

// What the functions read of a CI or a relationship: a copy of its system fields.
struct Entity {
  bool relationship = false;
  int64_t id = 0;
  std::string class_name;  // the class, or the relationship's type
  int64_t version = 0;
  bool retired = false;
  int64_t created_at = 0, updated_at = 0;
  int64_t tx = 0;  // the transaction that wrote this version
};

[[noreturn]] void NotEntity(const char* fn, const QValue& v, const FnEnv& env) {
  ThrowType("InvalidArgumentType", std::string(fn) + "() expects a node or relationship, got " + v.kind_name(),
            env.offset);
}

Entity Read(const char* fn, const QValue& v, const FnEnv& env) {
  Entity e;
  if (v.kind() == K::kNode) {
    const CiRecord* ci = env.graph.Node(v.as_node().id);
    if (!ci) ThrowSemantic("DeletedEntityAccess", "the node was deleted", env.offset);
    e = {false, ci->id, ci->class_name.str(), ci->version, ci->retired, ci->created_at, ci->updated_at,
         static_cast<int64_t>(ci->valid_from)};
  } else if (v.kind() == K::kRel) {
    std::optional<RelRecord> r = env.graph.Rel(v.as_rel().id);
    if (!r) ThrowSemantic("DeletedEntityAccess", "the relationship was deleted", env.offset);
    e = {true, r->id, r->type.str(), r->version, r->retired, r->created_at, r->updated_at,
         static_cast<int64_t>(r->valid_from)};
  } else {
    NotEntity(fn, v, env);
  }
  return e;
}

const std::vector<Provenance>& ProvenanceOf(const Entity& e, const FnEnv& env) {
  return env.graph.committed_graph().provenance().Of(e.relationship, e.id);
}

// A time the CMDB keeps as micros since the epoch, as a ZONED DATETIME in UTC. 0 (never) is null.
QValue Time(int64_t micros) {
  if (!micros) return QValue();
  constexpr int64_t kMicrosPerDay = 86'400'000'000;
  Temporal t;
  t.type = TemporalType::kDateTime;
  t.days = micros / kMicrosPerDay - (micros % kMicrosPerDay < 0);
  t.nanos = (micros - t.days * kMicrosPerDay) * 1000;
  return QValue(t);
}

#define NULL_IN_NULL_OUT \
  for (const auto& a : args) if (a.is_null()) return QValue()

QValue Id(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return QValue(Read("cmdb.id", args[0], env).id);
}
QValue Class(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return QValue(Read("cmdb.class", args[0], env).class_name);
}
QValue Version(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return QValue(Read("cmdb.version", args[0], env).version);
}
QValue Retired(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return QValue(Read("cmdb.retired", args[0], env).retired);
}
QValue CreatedAt(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return Time(Read("cmdb.created_at", args[0], env).created_at);
}
QValue UpdatedAt(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return Time(Read("cmdb.updated_at", args[0], env).updated_at);
}
QValue UpdatedTx(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return QValue(Read("cmdb.updated_tx", args[0], env).tx);
}
// cmdb.created_tx(x): the transaction that created it. Version 1 is its creation; a later
// version's creation is the oldest stored version's transaction (read from the store).
QValue CreatedTx(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  Entity e = Read("cmdb.created_tx", args[0], env);
  if (e.version == 1) return e.tx == kNoTx ? QValue() : QValue(e.tx);
  if (!env.store) return QValue();
  int64_t first = 0;
  auto oldest = [&](const auto& history) {
    if (!history.ok())
      throw QueryError("InternalError", "StoreFailed",
                       "cmdb.created_tx(): " + history.status().message(), env.offset);
    for (const auto& v : *history)
      if (v.valid_from != kNoTx && (first == 0 || v.valid_from < first)) first = v.valid_from;
  };
  if (e.relationship)
    oldest(env.store->RelHistory(e.id));
  else
    oldest(env.store->CiHistory(e.id));
  return first == 0 ? QValue() : QValue(first);
}

// cmdb.sources(x): the import sources that reported it, by name.
QValue Sources(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  Entity e = Read("cmdb.sources", args[0], env);
  std::vector<std::string> names;
  for (const Provenance& p : ProvenanceOf(e, env)) names.push_back(p.source);
  std::sort(names.begin(), names.end());
  QList out(names.begin(), names.end());
  return QValue(std::move(out));
}

// cmdb.last_seen(x [, source]): when an import (of `source`) last reported it; null if none did.
QValue LastSeen(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  Entity e = Read("cmdb.last_seen", args[0], env);
  if (args.size() > 1 && args[1].kind() != K::kString)
    ThrowType("InvalidArgumentType", std::string("cmdb.last_seen() expects a source name, got ") + args[1].kind_name(),
              env.offset);
  int64_t latest = 0;
  for (const Provenance& p : ProvenanceOf(e, env)) {
    if (args.size() > 1 && p.source != args[1].as_string()) continue;
    latest = std::max(latest, p.last_seen);
  }
  return Time(latest);
}

// cmdb.provenance(x): one map per source, {source, last_seen, stale, attributes: {name:
// confirmed}}; cmdb.provenance(x, 'attr'): {source, confirmed} of the source that set that
// attribute last (owns it), or null when no import did.
QValue ProvenanceFn(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  Entity e = Read("cmdb.provenance", args[0], env);
  if (args.size() > 1) {
    if (args[1].kind() != K::kString)
      ThrowType("InvalidArgumentType",
                std::string("cmdb.provenance() expects an attribute name, got ") + args[1].kind_name(), env.offset);
    for (const Provenance& p : ProvenanceOf(e, env)) {
      Value when = p.owned.Get(args[1].as_string());
      if (!when.is_int()) continue;
      QMap m;
      m["source"] = QValue(p.source);
      m["confirmed"] = Time(when.as_int());
      return QValue(std::move(m));
    }
    return QValue();
  }
  QList out;
  for (const Provenance& p : ProvenanceOf(e, env)) {
    QMap m;
    m["source"] = QValue(p.source);
    m["last_seen"] = Time(p.last_seen);
    m["stale"] = QValue(p.stale);
    QMap owned;
    for (const auto& [name, when] : p.owned) owned[name] = when.is_int() ? Time(when.as_int()) : QValue();
    m["attributes"] = QValue(std::move(owned));
    out.push_back(QValue(std::move(m)));
  }
  std::sort(out.begin(), out.end(), [](const QValue& a, const QValue& b) {
    return a.as_map().at("source").as_string() < b.as_map().at("source").as_string();
  });
  return QValue(std::move(out));
}

}  // namespace

void AddCmdbFunctions(const std::function<void(const char*, int, int, ScalarFn)>& add) {
  add("cmdb.id", 1, 1, Id);
  add("cmdb.class", 1, 1, Class);
  add("cmdb.version", 1, 1, Version);
  add("cmdb.retired", 1, 1, Retired);
  add("cmdb.created_at", 1, 1, CreatedAt);
  add("cmdb.updated_at", 1, 1, UpdatedAt);
  add("cmdb.updated_tx", 1, 1, UpdatedTx);
  add("cmdb.created_tx", 1, 1, CreatedTx);
  add("cmdb.sources", 1, 1, Sources);
  add("cmdb.last_seen", 1, 2, LastSeen);
  add("cmdb.provenance", 1, 2, ProvenanceFn);
}

}  // namespace cmdb::gql
