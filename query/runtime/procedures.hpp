// The procedure catalogue of CALL: impact (the impact engine, run by the executor) and the
// catalogue procedures that describe the schema and the data for tools and the console
// (db.labels, db.relationshipTypes, db.propertyKeys, db.schema.classes).
// Thread safety: the catalogue is immutable; CatalogueRows reads the graph it is given.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "query/runtime/graph_access.hpp"
#include "query/runtime/value.hpp"

namespace cmdb::gql {

struct ProcedureDef {
  std::string name;  // canonical spelling: "impact", "db.labels", ...
  int min_args = 0;
  int max_args = 0;
  std::vector<std::string> fields;  // what it yields, in order
  std::string signature;            // for messages: "db.labels()"
};

// The procedure called `name` (case-insensitive; "cmdb.impact" is impact), or nullptr.
const ProcedureDef* FindProcedure(std::string_view name);
// Every procedure's canonical name, sorted (for messages).
std::vector<std::string> ProcedureNames();

// The rows of a catalogue procedure (every procedure but impact), one value per field of its
// definition, sorted by the first. In the closed mode they describe the schema; in the open mode
// (no schema) the names in use, found by reading every CI and relationship, calling `tick` every
// 1,024 of them (the caller's deadline check).
std::vector<std::vector<QValue>> CatalogueRows(const ProcedureDef& procedure, const GraphAccess& graph,
                                               const std::function<void()>& tick);

}  // namespace cmdb::gql
