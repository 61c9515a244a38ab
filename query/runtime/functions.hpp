// The function catalogue: scalar functions and aggregates, looked up by name (case-insensitive).
// Thread safety: the catalogue is immutable; aggregators are per query.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/store.hpp"
#include "query/runtime/graph_access.hpp"
#include "query/runtime/value.hpp"

namespace cmdb::gql {

// Where a function charges the memory of the value it is about to build (the per-query and
// server-wide budgets): Charge throws a ResourceExhausted QueryError when they cannot take it.
class BuildAccount {
 public:
  virtual ~BuildAccount() = default;
  virtual void ChargeBuilt(size_t bytes, const char* what, size_t offset) = 0;
};

struct FnEnv {
  const GraphAccess& graph;
  size_t offset;  // of the call, for errors
  // The byte budget: a function whose result would need more (range(), split(), replace())
  // throws the ByteBudget QueryError while building it, before the memory is taken.
  size_t max_bytes = static_cast<size_t>(-1);
  // Charged before a function builds a list or string from others (null: no account).
  BuildAccount* account = nullptr;
  // The query's time (microseconds since the epoch), read once from the database's clock.
  int64_t now_micros = 0;
  // The store, for what only the stored history holds (cmdb.created_tx of a changed CI); null:
  // such functions answer null. Read concurrently with writers (Store's own thread safety).
  Store* store = nullptr;

  // Charges `bytes` the function named `what` is about to allocate: the byte budget of one value
  // and the account. Throws before anything is allocated.
  void Charge(size_t bytes, const char* what) const;
};

// What copying these values into a new list allocates: a slot each plus the bytes of their
// strings (strings are copied; lists, maps and paths are shared).
size_t CopyBytes(const QValue* first, const QValue* last);

using ScalarFn = QValue (*)(const std::vector<QValue>& args, const FnEnv& env);

// Accumulates one aggregate over a group.
class Aggregator {
 public:
  virtual ~Aggregator() = default;
  virtual void Add(const std::vector<QValue>& args, const FnEnv& env) = 0;
  // The aggregate's value; called once, last (it may hand over its state instead of copying).
  virtual QValue Result() = 0;
};

struct FunctionDef {
  std::string name;   // canonical spelling, lower case
  int min_args = 0;
  int max_args = 0;   // -1: any
  ScalarFn scalar = nullptr;
  bool aggregate = false;
  std::unique_ptr<Aggregator> (*make_aggregator)() = nullptr;
};

const FunctionDef* FindFunction(std::string_view name);
// The conversions that answer null (toIntegerOrNull, ...), the list conversions (toIntegerList,
// ...) and isEmpty, char_length, lower, upper, btrim (functions_more.cpp); part of the catalogue.
std::vector<FunctionDef> MoreScalarFunctions();
// Names for did-you-mean suggestions.
std::vector<std::string> FunctionNames();

}  // namespace cmdb::gql
