// QValue: a value of the query language — null, boolean, integer, float, string, list, map,
// node, relationship or path — with the language's comparison rules.
//
// Lists, maps and paths are shared immutable payloads, so rows copy values cheaply. Nodes and
// relationships are ids; the executor reads their records through its GraphAccess and the engine
// attaches the records to the final result.
// Thread safety: values are immutable once built; share freely.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cmdb/graph.hpp"
#include "cmdb/value.hpp"

namespace cmdb::gql {

struct QValue;
using QList = std::vector<QValue>;
using QMap = std::map<std::string, QValue>;
struct ListPayload;
struct MapPayload;

// How deeply lists and maps may nest in a value the query builds at run time, and in a query
// parameter (deeper: kResourceExhausted). Freeing, hashing, comparing and rendering a value
// recurse once per level.
inline constexpr size_t kMaxValueDepth = 100;

struct NodeRef {
  CiId id = 0;
  CiPtr record;  // set on final results only
};
struct RelRef {
  RelId id = 0;
  RelPtr record;  // set on final results only
};
struct PathValue {
  std::vector<NodeRef> nodes;
  std::vector<RelRef> rels;  // rels[i] joins nodes[i] and nodes[i + 1]
};

// Which temporal value a Temporal is (query/runtime/temporal.hpp has what they do).
enum class TemporalType { kDate, kLocalTime, kTime, kLocalDateTime, kDateTime, kDuration };

// A temporal value. Instants hold their local date (`days` since 1970-01-01) and local time of
// day (`nanos`), and zoned ones their UTC offset in seconds; durations hold months, days,
// seconds and nanos (0..999,999,999, added to the seconds).
struct Temporal {
  TemporalType type = TemporalType::kDate;
  int64_t days = 0;
  int64_t nanos = 0;
  int32_t offset = 0;
  int64_t months = 0;
  int64_t seconds = 0;
  // A DATETIME's named time zone ("Europe/Berlin"; `offset` is the zone's at this time), or ""
  // for a fixed offset (query/runtime/time_zones.hpp).
  std::string zone;
};

struct QValue {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList, kMap, kNode, kRel, kPath, kTemporal };
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string, std::shared_ptr<const ListPayload>,
                               std::shared_ptr<const MapPayload>, NodeRef, RelRef, std::shared_ptr<const PathValue>,
                               std::shared_ptr<const Temporal>>;

  QValue() = default;
  QValue(bool b) : v(b) {}          // NOLINT
  QValue(int64_t i) : v(i) {}       // NOLINT
  QValue(int i) : v(int64_t(i)) {}  // NOLINT
  QValue(double d) : v(d) {}        // NOLINT
  QValue(std::string s) : v(std::move(s)) {}  // NOLINT
  QValue(const char* s) : v(std::string(s)) {}  // NOLINT
  QValue(QList l);  // NOLINT
  QValue(QMap m);   // NOLINT
  QValue(NodeRef n) : v(std::move(n)) {}  // NOLINT
  QValue(RelRef r) : v(std::move(r)) {}   // NOLINT
  QValue(PathValue p) : v(std::make_shared<const PathValue>(std::move(p))) {}  // NOLINT
  QValue(Temporal t) : v(std::make_shared<const Temporal>(t)) {}  // NOLINT

  Kind kind() const { return static_cast<Kind>(v.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_number() const { return kind() == Kind::kInt || kind() == Kind::kFloat; }
  bool as_bool() const { return std::get<bool>(v); }
  int64_t as_int() const { return std::get<int64_t>(v); }
  double as_float() const { return std::get<double>(v); }
  double as_number() const { return kind() == Kind::kInt ? double(as_int()) : as_float(); }
  const std::string& as_string() const { return std::get<std::string>(v); }
  inline const QList& as_list() const;
  inline const QMap& as_map() const;
  const NodeRef& as_node() const { return std::get<NodeRef>(v); }
  const RelRef& as_rel() const { return std::get<RelRef>(v); }
  const PathValue& as_path() const { return *std::get<std::shared_ptr<const PathValue>>(v); }
  const Temporal& as_temporal() const { return *std::get<std::shared_ptr<const Temporal>>(v); }

  // The bytes of this value written out in full: every list and map element, string byte and
  // path step, shared payloads counted each time they appear (so at least what copying,
  // hashing or rendering it costs; saturates at SIZE_MAX). O(1): lists and maps carry theirs.
  size_t tree_bytes() const;
  // How deeply lists and maps nest in it: 0 for a scalar, 1 for a list of scalars. O(1).
  size_t depth() const;

  // "INTEGER", "STRING", "NODE", ... for error messages ("TEMPORAL" for any temporal kind).
  static const char* KindName(Kind k);
  // The value's type for messages: KindName, or "DATE", "DURATION", ... for a temporal value.
  const char* kind_name() const;

  Storage v;
};

// A list or map payload with its figures, computed once when it is built from the elements'
// own figures (building stays linear; nothing is walked again later).
struct ListPayload {
  QList items;
  size_t tree_bytes = 0;
  size_t depth = 1;
};
struct MapPayload {
  QMap items;
  size_t tree_bytes = 0;
  size_t depth = 1;
};
inline const QList& QValue::as_list() const { return std::get<std::shared_ptr<const ListPayload>>(v)->items; }
inline const QMap& QValue::as_map() const { return std::get<std::shared_ptr<const MapPayload>>(v)->items; }

// Ternary equality: true, false, or nullopt (null) when the answer is unknown.
std::optional<bool> Equals(const QValue& a, const QValue& b);
// Ternary ordering comparison for <, <=, >, >=: nullopt when incomparable (different types,
// nulls, NaN). Otherwise <0, 0, >0.
std::optional<int> CompareForPredicate(const QValue& a, const QValue& b);
// Total order for ORDER BY (maps < nodes < rels < lists < paths < strings < booleans < numbers
// < null).
int CompareForSort(const QValue& a, const QValue& b);
// Equivalence used by DISTINCT and grouping (null equals null, 1 equals 1.0).
bool Equivalent(const QValue& a, const QValue& b);
// A hash consistent with Equivalent.
size_t Hash(const QValue& v);

// Conversions with stored attribute values.
QValue FromValue(const Value& v);
// Fails for maps, nodes, relationships, paths and lists holding them (not storable).
std::optional<Value> ToValue(const QValue& v);

// The literal form used by toString() for numbers and in messages.
std::string FormatFloat(double d);

}  // namespace cmdb::gql
