#include "query/runtime/functions.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cmath>
#include <random>
#include <string_view>
#include <unordered_map>

#include "cmdb/time_util.hpp"
#include "cmdb/utf8.hpp"
#include "query/common/query_error.hpp"
#include "query/runtime/cmdb_functions.hpp"
#include "query/runtime/temporal.hpp"
#include "query/runtime/unicode_text.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;
using Args = std::vector<QValue>;

[[noreturn]] void BadArg(const FnEnv& env, const std::string& fn, const QValue& v, const char* wanted) {
  ThrowType("InvalidArgumentType",
            fn + "() expects " + wanted + ", got " + v.kind_name(), env.offset);
}

double Num(const FnEnv& env, const char* fn, const QValue& v) {
  if (!v.is_number()) BadArg(env, fn, v, "a number");
  return v.as_number();
}
const std::string& Str(const FnEnv& env, const char* fn, const QValue& v) {
  if (v.kind() != K::kString) BadArg(env, fn, v, "a string");
  return v.as_string();
}
int64_t Int(const FnEnv& env, const char* fn, const QValue& v) {
  if (v.kind() != K::kInt) BadArg(env, fn, v, "an integer");
  return v.as_int();
}

// An integer result that does not fit in 64 bits: an error, never a wrapped value.
[[noreturn]] void IntOverflow(const FnEnv& env, const std::string& what) {
  ThrowArgument("IntegerOverflow", what + " does not fit in a 64-bit integer", env.offset);
}

// The integer part of `d`, or an overflow error when it is outside the 64-bit range.
int64_t Truncate(const FnEnv& env, const char* fn, double d) {
  // -2^63 and 2^63 are exact as doubles; the integral doubles in [-2^63, 2^63) all fit.
  double t = std::trunc(d);
  if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
    IntOverflow(env, std::string(fn) + "(" + FormatFloat(d) + ")");
  return static_cast<int64_t>(t);
}

// The characters (code points) of valid UTF-8 text, each as its own string.
std::vector<std::string_view> Characters(const std::string& s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    size_t next = i + Utf8Offset(std::string_view(s).substr(i), 1);
    out.push_back(std::string_view(s).substr(i, next - i));
    i = next;
  }
  return out;
}

#define NULL_IN_NULL_OUT \
  for (const auto& a : args) if (a.is_null()) return QValue()

QValue Abs(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() == K::kInt) {
    int64_t x = args[0].as_int();
    if (x == INT64_MIN) IntOverflow(env, "abs(" + std::to_string(x) + ")");
    return QValue(x < 0 ? -x : x);
  }
  return QValue(std::fabs(Num(env, "abs", args[0])));
}
QValue Ceil(const Args& args, const FnEnv& env) { NULL_IN_NULL_OUT; return QValue(std::ceil(Num(env, "ceil", args[0]))); }
QValue Floor(const Args& args, const FnEnv& env) { NULL_IN_NULL_OUT; return QValue(std::floor(Num(env, "floor", args[0]))); }
QValue Round(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  double x = Num(env, "round", args[0]);
  if (args.size() >= 2) {
    double p = std::pow(10.0, static_cast<double>(Int(env, "round", args[1])));
    return QValue(std::round(x * p) / p);
  }
  return QValue(std::floor(x + 0.5));
}
QValue Sign(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  double x = Num(env, "sign", args[0]);
  return QValue(int64_t(x > 0 ? 1 : x < 0 ? -1 : 0));
}
#define MATH1(NAME, EXPR) \
  QValue NAME(const Args& args, const FnEnv& env) { NULL_IN_NULL_OUT; double x = Num(env, #NAME, args[0]); return QValue(EXPR); }
MATH1(Sqrt, std::sqrt(x))
MATH1(Exp, std::exp(x))
MATH1(Log, std::log(x))
MATH1(Log10, std::log10(x))
MATH1(Sin, std::sin(x))
MATH1(Cos, std::cos(x))
MATH1(Tan, std::tan(x))
MATH1(Asin, std::asin(x))
MATH1(Acos, std::acos(x))
MATH1(Atan, std::atan(x))
MATH1(Degrees, x * 180.0 / M_PI)
MATH1(Radians, x * M_PI / 180.0)
QValue Atan2(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  return QValue(std::atan2(Num(env, "atan2", args[0]), Num(env, "atan2", args[1])));
}
QValue Pi(const Args&, const FnEnv&) { return QValue(M_PI); }
QValue E(const Args&, const FnEnv&) { return QValue(M_E); }
QValue Rand(const Args&, const FnEnv&) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return QValue(std::uniform_real_distribution<double>(0, 1)(rng));
}

QValue ToInteger(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const QValue& v = args[0];
  switch (v.kind()) {
    case K::kInt: return v;
    case K::kFloat: {
      double d = v.as_float();
      if (std::isnan(d)) return QValue();
      return QValue(Truncate(env, "toInteger", d));
    }
    case K::kBool: return QValue(int64_t(v.as_bool() ? 1 : 0));
    case K::kString: {
      const std::string& s = v.as_string();
      // Digits only (with a sign): exact, or an overflow error when too long.
      size_t digits_from = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
      if (s.size() > digits_from && s.find_first_not_of("0123456789", digits_from) == std::string::npos) {
        errno = 0;
        long long i = std::strtoll(s.c_str(), nullptr, 10);
        if (errno == ERANGE) IntOverflow(env, "toInteger('" + s + "')");
        return QValue(int64_t(i));
      }
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);  // past the double range: +-HUGE_VAL
      if (s.empty() || end != s.c_str() + s.size() || std::isnan(d)) return QValue();
      return QValue(Truncate(env, "toInteger", d));
    }
    default: BadArg(env, "toInteger", v, "a number, boolean or string");
  }
}
QValue ToFloat(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const QValue& v = args[0];
  switch (v.kind()) {
    case K::kInt: return QValue(double(v.as_int()));
    case K::kFloat: return v;
    case K::kString: {
      try {
        size_t pos;
        double d = std::stod(v.as_string(), &pos);
        if (pos == v.as_string().size()) return QValue(d);
      } catch (...) {
      }
      return QValue();
    }
    default: BadArg(env, "toFloat", v, "a number or string");
  }
}
QValue ToBoolean(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const QValue& v = args[0];
  if (v.kind() == K::kBool) return v;
  if (v.kind() == K::kString) {
    std::string s = v.as_string();
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true") return QValue(true);
    if (s == "false") return QValue(false);
    return QValue();
  }
  if (v.kind() == K::kInt) return QValue(v.as_int() != 0);
  BadArg(env, "toBoolean", v, "a boolean, integer or string");
}
QValue ToStringFn(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const QValue& v = args[0];
  switch (v.kind()) {
    case K::kString: return v;
    case K::kInt: return QValue(std::to_string(v.as_int()));
    case K::kFloat: return QValue(FormatFloat(v.as_float()));
    case K::kBool: return QValue(v.as_bool() ? "true" : "false");
    case K::kTemporal: return QValue(FormatTemporal(v.as_temporal()));
    default: BadArg(env, "toString", v, "a number, boolean or string");
  }
}

// Characters, not bytes: simple Unicode case mappings and Unicode white space (unicode_text.hpp).
QValue ToUpper(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const std::string& s = Str(env, "toUpper", args[0]);
  env.Charge(s.size() * 3 / 2, "toUpper()");  // a mapped character can take one more byte
  return QValue(ToUpperText(s));
}
QValue ToLower(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const std::string& s = Str(env, "toLower", args[0]);
  env.Charge(s.size() * 3 / 2, "toLower()");
  return QValue(ToLowerText(s));
}
QValue TrimImpl(const Args& args, const FnEnv& env, const char* fn, bool left, bool right) {
  NULL_IN_NULL_OUT;
  std::string_view t = TrimText(Str(env, fn, args[0]), left, right);
  env.Charge(t.size(), fn);
  return QValue(std::string(t));
}
QValue Trim(const Args& a, const FnEnv& e) { return TrimImpl(a, e, "trim", true, true); }
QValue LTrim(const Args& a, const FnEnv& e) { return TrimImpl(a, e, "ltrim", true, false); }
QValue RTrim(const Args& a, const FnEnv& e) { return TrimImpl(a, e, "rtrim", false, true); }
QValue Replace(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const std::string& s = Str(env, "replace", args[0]);
  const std::string& from = Str(env, "replace", args[1]);
  const std::string& to = Str(env, "replace", args[2]);
  if (from.empty()) {
    env.Charge(s.size(), "replace()");
    return QValue(s);
  }
  size_t hits = 0;  // the result's size, charged before it is built
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + from.size())) ++hits;
  size_t size = s.size() - hits * from.size();
  if (to.size() && hits > (env.max_bytes - std::min(size, env.max_bytes)) / to.size())
    ThrowByteBudget("replace()", env.max_bytes, env.offset);
  env.Charge(size + hits * to.size(), "replace()");
  std::string out;
  out.reserve(size + hits * to.size());
  for (size_t pos = 0;;) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) {
      out += s.substr(pos);
      break;
    }
    out.append(s, pos, hit - pos).append(to);
    if (out.size() > env.max_bytes) ThrowByteBudget("replace()", env.max_bytes, env.offset);
    pos = hit + from.size();
  }
  return QValue(out);
}
QValue Substring(const Args& args, const FnEnv& env) {
  if (args[0].is_null()) return QValue();
  const std::string& s = Str(env, "substring", args[0]);
  int64_t start = Int(env, "substring", args[1]);
  if (start < 0) ThrowArgument("NegativeIntegerArgument", "substring() start must not be negative", env.offset);
  // Positions and lengths count characters, not bytes.
  size_t from = Utf8Offset(s, static_cast<size_t>(start));
  if (args.size() > 2) {
    int64_t len = Int(env, "substring", args[2]);
    if (len < 0) ThrowArgument("NegativeIntegerArgument", "substring() length must not be negative", env.offset);
    size_t to = from + Utf8Offset(std::string_view(s).substr(from), static_cast<size_t>(len));
    env.Charge(to - from, "substring()");
    return QValue(s.substr(from, to - from));
  }
  env.Charge(s.size() - from, "substring()");
  return QValue(s.substr(from));
}
QValue Left(const Args& args, const FnEnv& env) {
  if (args[0].is_null()) return QValue();
  if (args[1].is_null()) ThrowArgument("InvalidArgumentValue", "left() length must not be null", env.offset);
  int64_t n = Int(env, "left", args[1]);
  if (n < 0) ThrowArgument("NegativeIntegerArgument", "left() length must not be negative", env.offset);
  const std::string& s = Str(env, "left", args[0]);
  return QValue(s.substr(0, Utf8Offset(s, static_cast<size_t>(n))));
}
QValue Right(const Args& args, const FnEnv& env) {
  if (args[0].is_null()) return QValue();
  if (args[1].is_null()) ThrowArgument("InvalidArgumentValue", "right() length must not be null", env.offset);
  int64_t n = Int(env, "right", args[1]);
  if (n < 0) ThrowArgument("NegativeIntegerArgument", "right() length must not be negative", env.offset);
  const std::string& s = Str(env, "right", args[0]);
  size_t chars = Utf8Length(s);
  return QValue(size_t(n) >= chars ? s : s.substr(Utf8Offset(s, chars - static_cast<size_t>(n))));
}
QValue Split(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  const std::string& s = Str(env, "split", args[0]);
  const std::string& sep = Str(env, "split", args[1]);
  QList out;
  size_t bytes = 0;  // what the list holds, against the byte budget
  auto add = [&](std::string piece) {
    bytes += sizeof(QValue) + piece.size();
    if (bytes > env.max_bytes) ThrowByteBudget("split()", env.max_bytes, env.offset);
    env.Charge(sizeof(QValue) + piece.size(), "split()");
    out.emplace_back(std::move(piece));
  };
  if (sep.empty()) {
    for (std::string_view c : Characters(s)) add(std::string(c));
    return QValue(std::move(out));
  }
  for (size_t pos = 0;;) {
    size_t hit = s.find(sep, pos);
    add(s.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos));
    if (hit == std::string::npos) break;
    pos = hit + sep.size();
  }
  return QValue(std::move(out));
}
QValue Reverse(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() == K::kString) {
    env.Charge(args[0].as_string().size() * (1 + sizeof(std::string_view)), "reverse()");
    std::vector<std::string_view> chars = Characters(args[0].as_string());
    std::string s;
    s.reserve(args[0].as_string().size());
    for (auto c = chars.rbegin(); c != chars.rend(); ++c) s += *c;
    return QValue(s);
  }
  if (args[0].kind() == K::kList) {
    const QList& in = args[0].as_list();
    env.Charge(CopyBytes(in.data(), in.data() + in.size()), "reverse()");
    QList l(in.rbegin(), in.rend());
    return QValue(std::move(l));
  }
  BadArg(env, "reverse", args[0], "a string or list");
}
QValue Size(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() == K::kString) return QValue(int64_t(Utf8Length(args[0].as_string())));
  if (args[0].kind() == K::kList) return QValue(int64_t(args[0].as_list().size()));
  if (args[0].kind() == K::kMap) return QValue(int64_t(args[0].as_map().size()));
  BadArg(env, "size", args[0], "a string or list");
}
QValue Length(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() == K::kPath) return QValue(int64_t(args[0].as_path().rels.size()));
  BadArg(env, "length", args[0], "a path");
}
QValue Head(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kList) BadArg(env, "head", args[0], "a list");
  return args[0].as_list().empty() ? QValue() : args[0].as_list().front();
}
QValue Last(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kList) BadArg(env, "last", args[0], "a list");
  return args[0].as_list().empty() ? QValue() : args[0].as_list().back();
}
QValue Tail(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kList) BadArg(env, "tail", args[0], "a list");
  const QList& l = args[0].as_list();
  if (l.empty()) return QValue(QList{});
  env.Charge(CopyBytes(l.data() + 1, l.data() + l.size()), "tail()");
  return QValue(QList(l.begin() + 1, l.end()));
}
QValue Range(const Args& args, const FnEnv& env) {
  int64_t from = Int(env, "range", args[0]), to = Int(env, "range", args[1]);
  int64_t step = args.size() > 2 ? Int(env, "range", args[2]) : 1;
  if (step == 0) ThrowArgument("NumberOutOfRange", "range() step must not be zero", env.offset);
  // The length first, in unsigned 64-bit arithmetic (the distance between two int64 values
  // always fits), so the list is charged and allocated once, before it is built.
  uint64_t count = 0;
  if (step > 0 ? from <= to : from >= to) {
    uint64_t span = step > 0 ? static_cast<uint64_t>(to) - static_cast<uint64_t>(from)
                             : static_cast<uint64_t>(from) - static_cast<uint64_t>(to);
    uint64_t stride = step > 0 ? static_cast<uint64_t>(step) : static_cast<uint64_t>(-(step + 1)) + 1;
    uint64_t steps = span / stride;
    count = steps >= 10'000'000 ? 10'000'001 : steps + 1;
  }
  if (count > 10'000'000) ThrowArgument("NumberOutOfRange", "range() is too long", env.offset);
  size_t n = static_cast<size_t>(count);
  if (n * sizeof(QValue) > env.max_bytes) ThrowByteBudget("range()", env.max_bytes, env.offset);
  env.Charge(n * sizeof(QValue) + 80, "range()");
  QList out;
  out.reserve(n);
  int64_t i = from;
  for (size_t k = 0; k < n; ++k, i = k < n ? i + step : i) out.emplace_back(i);
  return QValue(std::move(out));
}
QValue Coalesce(const Args& args, const FnEnv&) {
  for (const auto& a : args) if (!a.is_null()) return a;
  return QValue();
}
QValue Id(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() == K::kNode) return QValue(args[0].as_node().id);
  if (args[0].kind() == K::kRel) return QValue(args[0].as_rel().id);
  BadArg(env, "id", args[0], "a node or relationship");
}
QValue Labels(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kNode) BadArg(env, "labels", args[0], "a node");
  const CiRecord* ci = env.graph.Node(args[0].as_node().id);
  if (!ci) ThrowSemantic("DeletedEntityAccess", "the node was deleted", env.offset);
  QList out;
  if (!ci->class_name.empty()) out.emplace_back(ci->class_name);
  return QValue(out);
}
QValue Type(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kRel) BadArg(env, "type", args[0], "a relationship");
  std::optional<RelRecord> r = env.graph.Rel(args[0].as_rel().id);
  // A relationship this query deleted keeps its type (openCypher): the committed graph still
  // has it. Under AS OF there are no writes, and the present is no answer for the past.
  if (!r && !env.graph.past_graph()) r = env.graph.committed_graph().FindRel(args[0].as_rel().id);
  if (!r) ThrowSemantic("DeletedEntityAccess", "the relationship was deleted", env.offset);
  return QValue(r->type);
}
std::optional<AttrMap> AttrsOf(const QValue& v, const FnEnv& env, const char* fn) {
  if (v.kind() == K::kNode) {
    const CiRecord* ci = env.graph.Node(v.as_node().id);
    return ci ? std::optional<AttrMap>(ci->attrs) : std::nullopt;
  }
  if (v.kind() == K::kRel) {
    std::optional<RelRecord> r = env.graph.Rel(v.as_rel().id);
    return r ? std::optional<AttrMap>(std::move(r->attrs)) : std::nullopt;
  }
  BadArg(env, fn, v, "a node, relationship or map");
}
QValue Keys(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  QList out;
  if (args[0].kind() == K::kMap) {
    for (const auto& [k, v] : args[0].as_map()) out.emplace_back(k);
    return QValue(out);
  }
  if (std::optional<AttrMap> a = AttrsOf(args[0], env, "keys")) for (const auto& [k, v] : *a) out.emplace_back(k);
  return QValue(out);
}
QValue Properties(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() == K::kMap) return args[0];
  QMap out;
  if (std::optional<AttrMap> a = AttrsOf(args[0], env, "properties")) for (const auto& [k, v] : *a) out[k] = FromValue(v);
  return QValue(out);
}
QValue Nodes(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kPath) BadArg(env, "nodes", args[0], "a path");
  QList out;
  for (const auto& n : args[0].as_path().nodes) out.emplace_back(n);
  return QValue(out);
}
QValue Relationships(const Args& args, const FnEnv& env) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kPath) BadArg(env, "relationships", args[0], "a path");
  QList out;
  for (const auto& r : args[0].as_path().rels) out.emplace_back(r);
  return QValue(out);
}
QValue EndpointNode(const Args& args, const FnEnv& env, bool start) {
  NULL_IN_NULL_OUT;
  if (args[0].kind() != K::kRel) BadArg(env, start ? "startNode" : "endNode", args[0], "a relationship");
  std::optional<RelRecord> r = env.graph.Rel(args[0].as_rel().id);
  if (!r) ThrowSemantic("DeletedEntityAccess", "the relationship was deleted", env.offset);
  return QValue(NodeRef{start ? r->from : r->to, nullptr});
}
QValue StartNode(const Args& a, const FnEnv& e) { return EndpointNode(a, e, true); }
QValue EndNode(const Args& a, const FnEnv& e) { return EndpointNode(a, e, false); }
QValue Timestamp(const Args&, const FnEnv& env) { return QValue(env.now_micros / 1000); }

// Aggregates.
class CountAgg : public Aggregator {
 public:
  void Add(const Args& a, const FnEnv&) override { if (a.empty() || !a[0].is_null()) ++n_; }
  QValue Result() override { return QValue(n_); }
 private:
  int64_t n_ = 0;
};
class SumAgg : public Aggregator {
 public:
  void Add(const Args& a, const FnEnv& env) override {
    if (a[0].is_null()) return;
    if (!a[0].is_number()) BadArg(env, "sum", a[0], "numbers");
    if (a[0].kind() == K::kFloat) is_float_ = true;
    if (a[0].kind() == K::kInt && !__builtin_add_overflow(i_, a[0].as_int(), &i_)) {
    } else if (a[0].kind() == K::kInt) {
      ThrowArgument("IntegerOverflow", "sum() overflows a 64-bit integer", env.offset);
    }
    d_ += a[0].as_number();
  }
  QValue Result() override { return is_float_ ? QValue(d_) : QValue(i_); }
 private:
  bool is_float_ = false;
  int64_t i_ = 0;
  double d_ = 0;
};
class AvgAgg : public Aggregator {
 public:
  void Add(const Args& a, const FnEnv& env) override {
    if (a[0].is_null()) return;
    if (!a[0].is_number()) BadArg(env, "avg", a[0], "numbers");
    sum_ += a[0].as_number();
    ++n_;
  }
  QValue Result() override { return n_ ? QValue(sum_ / n_) : QValue(); }
 private:
  double sum_ = 0;
  int64_t n_ = 0;
};
template <bool kMax>
class MinMaxAgg : public Aggregator {
 public:
  void Add(const Args& a, const FnEnv&) override {
    if (a[0].is_null()) return;
    if (best_.is_null()) {
      best_ = a[0];
      return;
    }
    int c = CompareForSort(a[0], best_);
    if (kMax ? c > 0 : c < 0) best_ = a[0];
  }
  QValue Result() override { return best_; }
 private:
  QValue best_;
};
class CollectAgg : public Aggregator {
 public:
  void Add(const Args& a, const FnEnv&) override { if (!a[0].is_null()) items_.push_back(a[0]); }
  QValue Result() override { return QValue(std::move(items_)); }
 private:
  QList items_;
};
template <bool kSample>
class StDevAgg : public Aggregator {
 public:
  void Add(const Args& a, const FnEnv& env) override {
    if (a[0].is_null()) return;
    if (!a[0].is_number()) BadArg(env, "stDev", a[0], "numbers");
    xs_.push_back(a[0].as_number());
  }
  QValue Result() override {
    size_t n = xs_.size();
    if (n < (kSample ? 2u : 1u)) return QValue(0.0);
    double mean = 0;
    for (double x : xs_) mean += x;
    mean /= n;
    double ss = 0;
    for (double x : xs_) ss += (x - mean) * (x - mean);
    return QValue(std::sqrt(ss / (kSample ? n - 1 : n)));
  }
 private:
  std::vector<double> xs_;
};
template <bool kCont>
class PercentileAgg : public Aggregator {
 public:
  void Add(const Args& a, const FnEnv& env) override {
    if (a[1].is_null() || !a[1].is_number())
      ThrowArgument("InvalidArgumentValue", "percentile must be a number", env.offset);
    p_ = a[1].as_number();
    if (p_ < 0 || p_ > 1) ThrowArgument("NumberOutOfRange", "percentile must be between 0.0 and 1.0", env.offset);
    if (a[0].is_null()) return;
    if (!a[0].is_number()) BadArg(env, "percentile", a[0], "numbers");
    xs_.push_back(a[0]);
  }
  QValue Result() override {
    if (xs_.empty()) return QValue();
    std::vector<QValue> s = xs_;
    std::sort(s.begin(), s.end(), [](const QValue& x, const QValue& y) { return x.as_number() < y.as_number(); });
    if (!kCont) {
      size_t idx = p_ == 0 ? 0 : static_cast<size_t>(std::ceil(p_ * s.size())) - 1;
      return s[std::min(idx, s.size() - 1)];
    }
    double pos = p_ * (s.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos)), hi = static_cast<size_t>(std::ceil(pos));
    double frac = pos - lo;
    return QValue(s[lo].as_number() + (s[hi].as_number() - s[lo].as_number()) * frac);
  }
 private:
  double p_ = 0;
  std::vector<QValue> xs_;
};

template <typename T>
std::unique_ptr<Aggregator> Make() {
  return std::make_unique<T>();
}

const std::unordered_map<std::string, FunctionDef>& Catalogue() {
  static const auto* kCatalogue = [] {
    auto* m = new std::unordered_map<std::string, FunctionDef>();
    auto scalar = [&](const char* name, int min, int max, ScalarFn fn) {
      FunctionDef d;
      d.name = name;
      d.min_args = min;
      d.max_args = max;
      d.scalar = fn;
      std::string key = name;
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      (*m)[key] = std::move(d);
    };
    auto aggregate = [&](const char* name, int args, std::unique_ptr<Aggregator> (*make)()) {
      FunctionDef d;
      d.name = name;
      d.min_args = d.max_args = args;
      d.aggregate = true;
      d.make_aggregator = make;
      std::string key = name;
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      (*m)[key] = std::move(d);
    };
    scalar("abs", 1, 1, Abs); scalar("ceil", 1, 1, Ceil); scalar("floor", 1, 1, Floor);
    scalar("round", 1, 2, Round); scalar("sign", 1, 1, Sign); scalar("sqrt", 1, 1, Sqrt);
    scalar("exp", 1, 1, Exp); scalar("log", 1, 1, Log); scalar("log10", 1, 1, Log10);
    scalar("sin", 1, 1, Sin); scalar("cos", 1, 1, Cos); scalar("tan", 1, 1, Tan);
    scalar("asin", 1, 1, Asin); scalar("acos", 1, 1, Acos); scalar("atan", 1, 1, Atan);
    scalar("atan2", 2, 2, Atan2); scalar("degrees", 1, 1, Degrees); scalar("radians", 1, 1, Radians);
    scalar("pi", 0, 0, Pi); scalar("e", 0, 0, E); scalar("rand", 0, 0, Rand);
    scalar("toInteger", 1, 1, ToInteger); scalar("toFloat", 1, 1, ToFloat);
    scalar("toBoolean", 1, 1, ToBoolean); scalar("toString", 1, 1, ToStringFn);
    scalar("toUpper", 1, 1, ToUpper); scalar("toLower", 1, 1, ToLower); scalar("trim", 1, 1, Trim);
    scalar("ltrim", 1, 1, LTrim); scalar("rtrim", 1, 1, RTrim); scalar("replace", 3, 3, Replace);
    scalar("substring", 2, 3, Substring); scalar("left", 2, 2, Left); scalar("right", 2, 2, Right);
    scalar("split", 2, 2, Split); scalar("reverse", 1, 1, Reverse); scalar("size", 1, 1, Size);
    scalar("length", 1, 1, Length); scalar("head", 1, 1, Head); scalar("last", 1, 1, Last);
    scalar("tail", 1, 1, Tail); scalar("range", 2, 3, Range); scalar("coalesce", 1, -1, Coalesce);
    scalar("id", 1, 1, Id); scalar("labels", 1, 1, Labels); scalar("type", 1, 1, Type);
    scalar("keys", 1, 1, Keys); scalar("properties", 1, 1, Properties); scalar("nodes", 1, 1, Nodes);
    scalar("relationships", 1, 1, Relationships); scalar("startNode", 1, 1, StartNode);
    scalar("endNode", 1, 1, EndNode); scalar("timestamp", 0, 0, Timestamp);
    AddCmdbFunctions(scalar);
    AddTemporalFunctions(scalar);
    aggregate("count", 1, Make<CountAgg>); aggregate("sum", 1, Make<SumAgg>);
    aggregate("avg", 1, Make<AvgAgg>); aggregate("min", 1, Make<MinMaxAgg<false>>);
    aggregate("max", 1, Make<MinMaxAgg<true>>); aggregate("collect", 1, Make<CollectAgg>);
    aggregate("stDev", 1, Make<StDevAgg<true>>); aggregate("stDevP", 1, Make<StDevAgg<false>>);
    aggregate("percentileDisc", 2, Make<PercentileAgg<false>>);
    aggregate("percentileCont", 2, Make<PercentileAgg<true>>);
    for (FunctionDef& d : MoreScalarFunctions()) {
      std::string key = d.name;
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      (*m)[key] = std::move(d);
    }
    return m;
  }();
  return *kCatalogue;
}

}  // namespace

void FnEnv::Charge(size_t bytes, const char* what) const {
  if (bytes > max_bytes) ThrowByteBudget(what, max_bytes, offset);
  if (account) account->ChargeBuilt(bytes, what, offset);
}

size_t CopyBytes(const QValue* first, const QValue* last) {
  size_t bytes = static_cast<size_t>(last - first) * sizeof(QValue) + 80;  // + the payload's header
  for (const QValue* v = first; v != last; ++v)
    if (v->kind() == K::kString) bytes += v->as_string().size();
  return bytes;
}

const FunctionDef* FindFunction(std::string_view name) {
  std::string key(name);
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = Catalogue().find(key);
  return it == Catalogue().end() ? nullptr : &it->second;
}

std::vector<std::string> FunctionNames() {
  std::vector<std::string> out;
  for (const auto& [k, d] : Catalogue()) out.push_back(d.name);
  return out;
}

}  // namespace cmdb::gql
