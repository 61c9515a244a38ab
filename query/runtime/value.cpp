#include "query/runtime/value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

#include "query/runtime/temporal.hpp"

namespace cmdb::gql {
namespace {

size_t SatAdd(size_t a, size_t b) {
  size_t r;
  return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

}  // namespace

QValue::QValue(QList l) {
  auto p = std::make_shared<ListPayload>();
  size_t bytes = sizeof(QValue) + 32, depth = 0;
  for (const QValue& e : l) {
    bytes = SatAdd(bytes, e.tree_bytes());
    depth = std::max(depth, e.depth());
  }
  p->items = std::move(l);
  p->tree_bytes = bytes;
  p->depth = depth + 1;
  v = std::shared_ptr<const ListPayload>(std::move(p));
}

QValue::QValue(QMap m) {
  auto p = std::make_shared<MapPayload>();
  size_t bytes = sizeof(QValue) + 32, depth = 0;
  for (const auto& [k, e] : m) {
    bytes = SatAdd(bytes, SatAdd(64 + k.size(), e.tree_bytes()));
    depth = std::max(depth, e.depth());
  }
  p->items = std::move(m);
  p->tree_bytes = bytes;
  p->depth = depth + 1;
  v = std::shared_ptr<const MapPayload>(std::move(p));
}

size_t QValue::tree_bytes() const {
  switch (kind()) {
    case Kind::kString: return sizeof(QValue) + as_string().size();
    case Kind::kList: return std::get<std::shared_ptr<const ListPayload>>(v)->tree_bytes;
    case Kind::kMap: return std::get<std::shared_ptr<const MapPayload>>(v)->tree_bytes;
    case Kind::kPath: {
      const PathValue& p = as_path();
      return sizeof(QValue) + 64 + p.nodes.size() * sizeof(NodeRef) + p.rels.size() * sizeof(RelRef);
    }
    default: return sizeof(QValue);
  }
}

size_t QValue::depth() const {
  switch (kind()) {
    case Kind::kList: return std::get<std::shared_ptr<const ListPayload>>(v)->depth;
    case Kind::kMap: return std::get<std::shared_ptr<const MapPayload>>(v)->depth;
    default: return 0;
  }
}

const char* QValue::KindName(Kind k) {
  switch (k) {
    case Kind::kNull: return "NULL";
    case Kind::kBool: return "BOOLEAN";
    case Kind::kInt: return "INTEGER";
    case Kind::kFloat: return "FLOAT";
    case Kind::kString: return "STRING";
    case Kind::kList: return "LIST";
    case Kind::kMap: return "MAP";
    case Kind::kNode: return "NODE";
    case Kind::kRel: return "RELATIONSHIP";
    case Kind::kPath: return "PATH";
    case Kind::kTemporal: return "TEMPORAL";
  }
  return "?";
}

const char* QValue::kind_name() const {
  return kind() == Kind::kTemporal ? TemporalTypeName(as_temporal().type) : KindName(kind());
}

std::string FormatFloat(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::optional<bool> Equals(const QValue& a, const QValue& b) {
  using K = QValue::Kind;
  if (a.is_null() || b.is_null()) return std::nullopt;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == K::kInt && b.kind() == K::kInt) return a.as_int() == b.as_int();
    return a.as_number() == b.as_number();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kBool: return a.as_bool() == b.as_bool();
    case K::kString: return a.as_string() == b.as_string();
    case K::kNode: return a.as_node().id == b.as_node().id;
    case K::kRel: return a.as_rel().id == b.as_rel().id;
    case K::kList: {
      const QList &x = a.as_list(), &y = b.as_list();
      if (x.size() != y.size()) return false;
      bool unknown = false;
      for (size_t i = 0; i < x.size(); ++i) {
        auto e = Equals(x[i], y[i]);
        if (!e) unknown = true;
        else if (!*e) return false;
      }
      return unknown ? std::nullopt : std::optional<bool>(true);
    }
    case K::kMap: {
      const QMap &x = a.as_map(), &y = b.as_map();
      if (x.size() != y.size()) return false;
      bool unknown = false;
      for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
        if (i->first != j->first) return false;
        auto e = Equals(i->second, j->second);
        if (!e) unknown = true;
        else if (!*e) return false;
      }
      return unknown ? std::nullopt : std::optional<bool>(true);
    }
    case K::kPath: {
      const PathValue &x = a.as_path(), &y = b.as_path();
      if (x.nodes.size() != y.nodes.size()) return false;
      for (size_t i = 0; i < x.nodes.size(); ++i) if (x.nodes[i].id != y.nodes[i].id) return false;
      for (size_t i = 0; i < x.rels.size(); ++i) if (x.rels[i].id != y.rels[i].id) return false;
      return true;
    }
    case K::kTemporal: return TemporalEquals(a.as_temporal(), b.as_temporal());
    default: return false;
  }
}

std::optional<int> CompareForPredicate(const QValue& a, const QValue& b) {
  using K = QValue::Kind;
  if (a.is_null() || b.is_null()) return std::nullopt;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == K::kInt && b.kind() == K::kInt) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    double x = a.as_number(), y = b.as_number();
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return x < y ? -1 : x > y;
  }
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case K::kString: {
      int c = a.as_string().compare(b.as_string());
      return c < 0 ? -1 : c > 0;
    }
    case K::kBool: return int(a.as_bool()) - int(b.as_bool());
    case K::kList: {
      const QList &x = a.as_list(), &y = b.as_list();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        auto c = CompareForPredicate(x[i], y[i]);
        if (!c) return std::nullopt;
        if (*c) return c;
      }
      return x.size() < y.size() ? -1 : x.size() > y.size();
    }
    case K::kTemporal: return TemporalCompare(a.as_temporal(), b.as_temporal());
    default: return std::nullopt;
  }
}

static int SortRank(const QValue& v) {
  using K = QValue::Kind;
  switch (v.kind()) {
    case K::kMap: return 0;
    case K::kNode: return 1;
    case K::kRel: return 2;
    case K::kList: return 3;
    case K::kPath: return 4;
    case K::kTemporal: return 5;
    case K::kString: return 6;
    case K::kBool: return 7;
    case K::kInt:
    case K::kFloat: return 8;
    case K::kNull: return 9;
  }
  return 10;
}

int CompareForSort(const QValue& a, const QValue& b) {
  using K = QValue::Kind;
  int ra = SortRank(a), rb = SortRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.kind()) {
    case K::kNull: return 0;
    case K::kInt:
    case K::kFloat: {
      if (a.kind() == K::kInt && b.kind() == K::kInt) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
      double x = a.as_number(), y = b.as_number();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) == std::isnan(y) ? 0 : (std::isnan(x) ? 1 : -1);
      return x < y ? -1 : x > y;
    }
    case K::kString: {
      int c = a.as_string().compare(b.as_string());
      return c < 0 ? -1 : c > 0;
    }
    case K::kBool: return int(a.as_bool()) - int(b.as_bool());
    case K::kNode: return a.as_node().id < b.as_node().id ? -1 : a.as_node().id > b.as_node().id;
    case K::kRel: return a.as_rel().id < b.as_rel().id ? -1 : a.as_rel().id > b.as_rel().id;
    case K::kList: {
      const QList &x = a.as_list(), &y = b.as_list();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (int c = CompareForSort(x[i], y[i])) return c;
      }
      return x.size() < y.size() ? -1 : x.size() > y.size();
    }
    case K::kMap: {
      const QMap &x = a.as_map(), &y = b.as_map();
      auto i = x.begin();
      auto j = y.begin();
      for (; i != x.end() && j != y.end(); ++i, ++j) {
        if (int c = i->first.compare(j->first)) return c < 0 ? -1 : 1;
        if (int c = CompareForSort(i->second, j->second)) return c;
      }
      return x.size() < y.size() ? -1 : x.size() > y.size();
    }
    case K::kPath: {
      const PathValue &x = a.as_path(), &y = b.as_path();
      for (size_t i = 0; i < x.nodes.size() && i < y.nodes.size(); ++i) {
        if (x.nodes[i].id != y.nodes[i].id) return x.nodes[i].id < y.nodes[i].id ? -1 : 1;
      }
      return x.nodes.size() < y.nodes.size() ? -1 : x.nodes.size() > y.nodes.size();
    }
    case K::kTemporal: return TemporalSortCompare(a.as_temporal(), b.as_temporal());
  }
  return 0;
}

bool Equivalent(const QValue& a, const QValue& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (a.is_number() && b.is_number()) {
    double x = a.as_number(), y = b.as_number();
    if (std::isnan(x) && std::isnan(y)) return true;
    if (a.kind() == QValue::Kind::kInt && b.kind() == QValue::Kind::kInt) return a.as_int() == b.as_int();
    return x == y;
  }
  if (a.kind() != b.kind()) return false;
  if (a.kind() == QValue::Kind::kList) {
    const QList &x = a.as_list(), &y = b.as_list();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) if (!Equivalent(x[i], y[i])) return false;
    return true;
  }
  if (a.kind() == QValue::Kind::kMap) {
    const QMap &x = a.as_map(), &y = b.as_map();
    if (x.size() != y.size()) return false;
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
      if (i->first != j->first || !Equivalent(i->second, j->second)) return false;
    }
    return true;
  }
  return CompareForSort(a, b) == 0;
}

size_t Hash(const QValue& v) {
  using K = QValue::Kind;
  switch (v.kind()) {
    case K::kNull: return 0x9e37;
    case K::kBool: return v.as_bool() ? 1231 : 1237;
    case K::kInt:
    case K::kFloat: {
      double d = v.as_number();
      if (d == std::floor(d) && std::abs(d) < 9e15) return std::hash<int64_t>()(static_cast<int64_t>(d));
      return std::hash<double>()(d);
    }
    case K::kString: return std::hash<std::string>()(v.as_string());
    case K::kNode: return std::hash<int64_t>()(v.as_node().id) * 31 + 1;
    case K::kRel: return std::hash<int64_t>()(v.as_rel().id) * 31 + 2;
    case K::kList: {
      size_t h = 17;
      for (const auto& e : v.as_list()) h = h * 31 + Hash(e);
      return h;
    }
    case K::kMap: {
      size_t h = 19;
      for (const auto& [k, e] : v.as_map()) h = h * 31 + std::hash<std::string>()(k) + Hash(e);
      return h;
    }
    case K::kPath: {
      size_t h = 23;
      for (const auto& n : v.as_path().nodes) h = h * 31 + std::hash<int64_t>()(n.id);
      return h;
    }
    case K::kTemporal: return TemporalHash(v.as_temporal());
  }
  return 0;
}

QValue FromValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return QValue();
    case Value::Kind::kBool: return QValue(v.as_bool());
    case Value::Kind::kInt: return QValue(v.as_int());
    case Value::Kind::kFloat: return QValue(v.as_float());
    case Value::Kind::kString: return QValue(std::string(v.as_string()));
    case Value::Kind::kList: {
      QList l;
      for (const auto& e : v.as_list()) l.push_back(FromValue(e));
      return QValue(std::move(l));
    }
  }
  return QValue();
}

std::optional<Value> ToValue(const QValue& v) {
  using K = QValue::Kind;
  switch (v.kind()) {
    case K::kNull: return Value();
    case K::kBool: return Value(v.as_bool());
    case K::kInt: return Value(v.as_int());
    case K::kFloat: return Value(v.as_float());
    case K::kString: return Value(v.as_string());
    case K::kList: {
      ValueList out;
      for (const auto& e : v.as_list()) {
        if (e.kind() == K::kList || e.kind() == K::kMap) return std::nullopt;
        auto x = ToValue(e);
        if (!x) return std::nullopt;
        out.push_back(std::move(*x));
      }
      return Value(std::move(out));
    }
    case K::kTemporal: return Value(FormatTemporal(v.as_temporal()));  // stored as ISO-8601 text
    default: return std::nullopt;
  }
}

}  // namespace cmdb::gql
