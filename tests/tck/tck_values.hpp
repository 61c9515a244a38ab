// TCK value syntax (README section 4): parsing expected values and parameters, converting
// engine results, and a canonical text form for comparison.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/runtime/temporal.hpp"
#include "query/runtime/value.hpp"

namespace tck {

struct TValue {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList, kMap, kNode, kRel, kPath } kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                       // string; relationship type
  std::vector<TValue> items;           // list; path: node, rel, node, ...
  std::vector<bool> forward;           // path: direction of each rel
  std::map<std::string, TValue> map;   // map; properties
  std::vector<std::string> labels;
};

class Parser {
 public:
  explicit Parser(const std::string& text) : t_(text) {}
  std::optional<TValue> Parse() {
    auto v = Value();
    Ws();
    if (!v || p_ != t_.size()) return std::nullopt;
    return v;
  }

 private:
  void Ws() { while (p_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[p_]))) ++p_; }
  bool Eat(char c) {
    Ws();
    if (p_ < t_.size() && t_[p_] == c) return ++p_, true;
    return false;
  }
  bool Word(const char* w) {
    Ws();
    size_t n = std::char_traits<char>::length(w);
    if (t_.compare(p_, n, w) == 0 && (p_ + n >= t_.size() || !std::isalnum(static_cast<unsigned char>(t_[p_ + n])))) {
      p_ += n;
      return true;
    }
    return false;
  }
  std::string Ident() {
    Ws();
    size_t b = p_;
    while (p_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[p_])) || t_[p_] == '_')) ++p_;
    return t_.substr(b, p_ - b);
  }
  std::optional<std::map<std::string, TValue>> Map() {
    std::map<std::string, TValue> m;
    if (Eat('}')) return m;
    do {
      std::string k = Ident();
      if (k.empty() || !Eat(':')) return std::nullopt;
      auto v = Value();
      if (!v) return std::nullopt;
      if (v->kind != TValue::Kind::kNull) m[k] = *v;
    } while (Eat(','));
    if (!Eat('}')) return std::nullopt;
    return m;
  }
  std::optional<TValue> Node() {
    TValue n;
    n.kind = TValue::Kind::kNode;
    while (Eat(':')) n.labels.push_back(Ident());
    std::sort(n.labels.begin(), n.labels.end());
    if (Eat('{')) {
      auto m = Map();
      if (!m) return std::nullopt;
      n.map = *m;
    }
    if (!Eat(')')) return std::nullopt;
    return n;
  }
  std::optional<TValue> Rel() {
    TValue r;
    r.kind = TValue::Kind::kRel;
    if (!Eat(':')) return std::nullopt;
    r.s = Ident();
    if (Eat('{')) {
      auto m = Map();
      if (!m) return std::nullopt;
      r.map = *m;
    }
    if (!Eat(']')) return std::nullopt;
    return r;
  }
  std::optional<TValue> Value() {
    Ws();
    if (p_ >= t_.size()) return std::nullopt;
    char c = t_[p_];
    TValue v;
    if (Word("null")) return v;
    if (Word("true") || Word("false")) {
      v.kind = TValue::Kind::kBool;
      v.b = t_[p_ - 1] == 'e' && t_.compare(p_ - 4, 4, "true") == 0;
      return v;
    }
    if (Word("NaN")) return v.kind = TValue::Kind::kFloat, v.f = NAN, v;
    if (Word("Inf")) return v.kind = TValue::Kind::kFloat, v.f = INFINITY, v;
    if (t_.compare(p_, 4, "-Inf") == 0) return p_ += 4, v.kind = TValue::Kind::kFloat, v.f = -INFINITY, v;
    if (c == '\'') {
      ++p_;
      v.kind = TValue::Kind::kString;
      while (p_ < t_.size() && t_[p_] != '\'') {
        if (t_[p_] == '\\' && p_ + 1 < t_.size()) {
          char e = t_[++p_];
          v.s += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
          v.s += t_[p_];
        }
        ++p_;
      }
      if (p_ >= t_.size()) return std::nullopt;
      ++p_;
      return v;
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t b = p_;
      if (c == '-') ++p_;
      bool is_float = false;
      while (p_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[p_])) || t_[p_] == '.' || t_[p_] == 'e' ||
                                t_[p_] == 'E' || ((t_[p_] == '-' || t_[p_] == '+') && (t_[p_ - 1] == 'e' || t_[p_ - 1] == 'E')))) {
        if (t_[p_] == '.' || t_[p_] == 'e' || t_[p_] == 'E') is_float = true;
        ++p_;
      }
      std::string num = t_.substr(b, p_ - b);
      if (is_float) {
        v.kind = TValue::Kind::kFloat;
        v.f = std::strtod(num.c_str(), nullptr);
      } else {
        v.kind = TValue::Kind::kInt;
        v.i = std::strtoll(num.c_str(), nullptr, 10);
      }
      return v;
    }
    if (Eat('[')) {
      v.kind = TValue::Kind::kList;
      if (Eat(']')) return v;
      if (t_[p_] == ':') {  // a relationship
        return Rel();
      }
      do {
        auto item = Value();
        if (!item) return std::nullopt;
        v.items.push_back(*item);
      } while (Eat(','));
      if (!Eat(']')) return std::nullopt;
      return v;
    }
    if (Eat('{')) {
      auto m = Map();
      if (!m) return std::nullopt;
      v.kind = TValue::Kind::kMap;
      v.map = *m;
      return v;
    }
    if (Eat('(')) return Node();
    if (Eat('<')) {
      v.kind = TValue::Kind::kPath;
      if (!Eat('(')) return std::nullopt;
      auto n = Node();
      if (!n) return std::nullopt;
      v.items.push_back(*n);
      while (!Eat('>')) {
        bool fwd;
        if (Eat('<')) {
          if (!Eat('-') || !Eat('[')) return std::nullopt;
          fwd = false;
        } else if (Eat('-')) {
          if (!Eat('[')) return std::nullopt;
          fwd = true;
        } else {
          return std::nullopt;
        }
        auto r = Rel();
        if (!r) return std::nullopt;
        if (!Eat('-')) return std::nullopt;
        if (fwd && !Eat('>')) return std::nullopt;
        if (!Eat('(')) return std::nullopt;
        auto m = Node();
        if (!m) return std::nullopt;
        v.items.push_back(*r);
        v.items.push_back(*m);
        v.forward.push_back(fwd);
      }
      return v;
    }
    return std::nullopt;
  }

  const std::string& t_;
  size_t p_ = 0;
};

inline std::optional<TValue> ParseValue(const std::string& text) { return Parser(text).Parse(); }

inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "'";
}

inline std::string Canonical(const TValue& v, bool ignore_list_order) {
  using K = TValue::Kind;
  auto props = [&](const std::map<std::string, TValue>& m) {
    std::string out = "{";
    for (const auto& [k, x] : m) out += k + ":" + Canonical(x, ignore_list_order) + ",";
    return out + "}";
  };
  switch (v.kind) {
    case K::kNull: return "null";
    case K::kBool: return v.b ? "true" : "false";
    case K::kInt: return std::to_string(v.i);
    case K::kFloat: return "f" + cmdb::gql::FormatFloat(v.f == 0 ? 0.0 : v.f);  // -0.0 equals 0.0 (README §4)
    case K::kString: return Quote(v.s);
    case K::kList: {
      std::vector<std::string> parts;
      for (const auto& x : v.items) parts.push_back(Canonical(x, ignore_list_order));
      if (ignore_list_order) std::sort(parts.begin(), parts.end());
      std::string out = "[";
      for (const auto& p : parts) out += p + ",";
      return out + "]";
    }
    case K::kMap: return props(v.map);
    case K::kNode: {
      std::string out = "(";
      for (const auto& l : v.labels) out += ":" + l;
      return out + props(v.map) + ")";
    }
    case K::kRel: return "[:" + v.s + props(v.map) + "]";
    case K::kPath: {
      std::string out = "<" + Canonical(v.items[0], ignore_list_order);
      for (size_t i = 1; i + 1 < v.items.size(); i += 2) {
        bool fwd = v.forward[i / 2];
        out += (fwd ? "-" : "<-") + Canonical(v.items[i], ignore_list_order) + (fwd ? "->" : "-") +
               Canonical(v.items[i + 1], ignore_list_order);
      }
      return out + ">";
    }
  }
  return "?";
}

inline TValue FromQValue(const cmdb::gql::QValue& q) {
  using QK = cmdb::gql::QValue::Kind;
  TValue v;
  auto attrs = [](const cmdb::AttrMap& a) {
    std::map<std::string, TValue> m;
    for (const auto& [k, x] : a) m[k] = FromQValue(cmdb::gql::FromValue(x));
    return m;
  };
  auto node = [&](const cmdb::gql::NodeRef& n) {
    TValue t;
    t.kind = TValue::Kind::kNode;
    if (n.record) {
      if (!n.record->class_name.empty()) t.labels.push_back(n.record->class_name);
      t.map = attrs(n.record->attrs);
    }
    return t;
  };
  auto rel = [&](const cmdb::gql::RelRef& r) {
    TValue t;
    t.kind = TValue::Kind::kRel;
    if (r.record) {
      t.s = r.record->type;
      t.map = attrs(r.record->attrs);
    }
    return t;
  };
  switch (q.kind()) {
    case QK::kNull: break;
    case QK::kBool: v.kind = TValue::Kind::kBool, v.b = q.as_bool(); break;
    case QK::kInt: v.kind = TValue::Kind::kInt, v.i = q.as_int(); break;
    case QK::kFloat: v.kind = TValue::Kind::kFloat, v.f = q.as_float(); break;
    case QK::kString: v.kind = TValue::Kind::kString, v.s = q.as_string(); break;
    case QK::kList:
      v.kind = TValue::Kind::kList;
      for (const auto& x : q.as_list()) v.items.push_back(FromQValue(x));
      break;
    case QK::kMap:
      v.kind = TValue::Kind::kMap;
      for (const auto& [k, x] : q.as_map()) if (!x.is_null()) v.map[k] = FromQValue(x);
      break;
    case QK::kNode: v = node(q.as_node()); break;
    case QK::kRel: v = rel(q.as_rel()); break;
    case QK::kTemporal:  // the TCK writes temporal results as their ISO-8601 text
      v.kind = TValue::Kind::kString, v.s = cmdb::gql::FormatTemporal(q.as_temporal());
      break;
    case QK::kPath: {
      v.kind = TValue::Kind::kPath;
      const auto& p = q.as_path();
      v.items.push_back(node(p.nodes[0]));
      for (size_t i = 0; i < p.rels.size(); ++i) {
        v.items.push_back(rel(p.rels[i]));
        v.items.push_back(node(p.nodes[i + 1]));
        v.forward.push_back(p.rels[i].record && p.rels[i].record->from == p.nodes[i].id);
      }
      break;
    }
  }
  return v;
}

inline cmdb::gql::QValue ToQValue(const TValue& v) {
  using K = TValue::Kind;
  switch (v.kind) {
    case K::kBool: return cmdb::gql::QValue(v.b);
    case K::kInt: return cmdb::gql::QValue(v.i);
    case K::kFloat: return cmdb::gql::QValue(v.f);
    case K::kString: return cmdb::gql::QValue(v.s);
    case K::kList: {
      cmdb::gql::QList l;
      for (const auto& x : v.items) l.push_back(ToQValue(x));
      return cmdb::gql::QValue(std::move(l));
    }
    case K::kMap: {
      cmdb::gql::QMap m;
      for (const auto& [k, x] : v.map) m[k] = ToQValue(x);
      return cmdb::gql::QValue(std::move(m));
    }
    default: return cmdb::gql::QValue();
  }
}

}  // namespace tck
