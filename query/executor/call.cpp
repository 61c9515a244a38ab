// CALL impact(seeds [, options]) YIELD ci, distance, state, path — the impact engine as rows —
// and the catalogue procedures (db.labels() ..., query/runtime/procedures.hpp).
#include <algorithm>

#include "analysis/impact.hpp"
#include "analysis/impact_options.hpp"
#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"
#include "query/runtime/procedures.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;

void AddSeed(const QValue& v, std::vector<CiId>& seeds, size_t offset) {
  switch (v.kind()) {
    case K::kNull: return;
    case K::kNode: seeds.push_back(v.as_node().id); return;
    case K::kInt: seeds.push_back(v.as_int()); return;
    case K::kList:
      for (const auto& e : v.as_list()) AddSeed(e, seeds, offset);
      return;
    default:
      ThrowType("InvalidArgumentType", std::string("impact() seeds are CIs or CI ids, not ") + v.kind_name(), offset);
  }
}

// An option value of the query language as the impact options read it (impact_options.hpp).
analysis::ImpactOptionValue OptionValue(const QValue& v) {
  switch (v.kind()) {
    case K::kNull: return std::monostate{};
    case K::kBool: return v.as_bool();
    case K::kInt: return v.as_int();
    case K::kString: return std::string(v.as_string());
    case K::kList: {
      std::vector<std::string> names;
      for (const auto& e : v.as_list()) {
        if (e.kind() != K::kString) return analysis::OtherOptionValue{};
        names.push_back(e.as_string());
      }
      return names;
    }
    default: return analysis::OtherOptionValue{};
  }
}

}  // namespace

std::vector<Row> Executor::RunCall(std::vector<Row> in, const BoundCall& c) {
  std::vector<Row> out;
  if (c.procedure != "impact") {  // a catalogue procedure: the same rows for every input row
    const ProcedureDef* proc = FindProcedure(c.procedure);
    std::vector<std::vector<QValue>> rows = CatalogueRows(*proc, graph_, [this] { CheckTime(); });
    for (Row& row : in) {
      for (const auto& values : rows) {
        CheckTime();
        Row r = row;
        for (const auto& [field, slot] : c.yields) {
          size_t at = std::find(proc->fields.begin(), proc->fields.end(), field) - proc->fields.begin();
          r[slot] = values[at];
        }
        if (c.where && !IsTrue(*c.where, r)) continue;
        Charge(1, RowBytes(r));
        out.push_back(std::move(r));
      }
    }
    return out;
  }
  for (Row& row : in) {
    analysis::ImpactRequest request;
    AddSeed(Eval(c.args[0], row), request.seeds, c.args[0].offset);
    if (c.args.size() > 1) {
      QValue options = Eval(c.args[1], row);
      if (!options.is_null()) {
        if (options.kind() != K::kMap) ThrowType("InvalidArgumentType", "impact() options must be a map", c.args[1].offset);
        std::vector<analysis::ImpactOption> given;
        for (const auto& [k, v] : options.as_map()) given.push_back({k, OptionValue(v)});
        Status st = analysis::ApplyImpactOptions(given, request);
        if (st.ok()) st = analysis::CheckImpactNames(request, graph_.schema());
        if (!st.ok()) ThrowArgument("InvalidArgumentValue", st.message(), c.args[1].offset);
      }
    }
    if (request.seeds.empty()) continue;
    const PastGraph* past = graph_.past_graph();  // AS OF, USE BASELINE: the impact then
    auto result = past ? analysis::ComputeImpact(*past, graph_.schema(), request)
                       : analysis::ComputeImpact(graph_.committed_graph(), graph_.schema(), request);
    if (!result.ok()) throw StatusError(result.status());
    auto index = analysis::IndexOf(*result);
    for (const auto& ci : result->cis) {
      if (ci.state == analysis::ImpactState::kSeed) continue;
      Row r = row;
      for (const auto& [field, slot] : c.yields) {
        if (field == "ci") {
          r[slot] = QValue(NodeRef{ci.id, nullptr});
        } else if (field == "distance") {
          r[slot] = QValue(static_cast<int64_t>(ci.distance));
        } else if (field == "state") {
          r[slot] = QValue(analysis::ImpactStateName(ci.state));
        } else {
          PathValue path;
          analysis::ImpactPath p = analysis::PathOf(*result, index, ci.id);
          for (CiId id : p.cis) path.nodes.push_back(NodeRef{id, nullptr});
          for (RelId id : p.rels) path.rels.push_back(RelRef{id, nullptr});
          r[slot] = QValue(std::move(path));
        }
      }
      if (c.where && !IsTrue(*c.where, r)) continue;
      out.push_back(std::move(r));
    }
    CheckDeadline();
  }
  return out;
}

}  // namespace cmdb::gql
