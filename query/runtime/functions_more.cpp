// The conversion functions that answer null instead of failing (toIntegerOrNull, ...), the list
// conversions (toIntegerList, ...) and a few more text and list functions (isEmpty, btrim,
// char_length, lower, upper). Registered into the catalogue by functions.cpp.
#include "query/common/query_error.hpp"
#include "query/runtime/functions.hpp"
#include "query/runtime/unicode_text.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;
using Args = std::vector<QValue>;

// Calls the catalogue's function `name` with `args`; an argument it refuses, or a value it
// cannot convert, gives null.
QValue OrNull(const char* name, const Args& args, const FnEnv& env) {
  const FunctionDef* fn = FindFunction(name);
  try {
    return fn->scalar(args, env);
  } catch (const QueryError& e) {
    if (e.type == "ResourceExhausted" || e.type == "TransientError") throw;
    return QValue();
  }
}
QValue ToIntegerOrNull(const Args& a, const FnEnv& e) { return OrNull("toInteger", a, e); }
QValue ToFloatOrNull(const Args& a, const FnEnv& e) { return OrNull("toFloat", a, e); }
QValue ToBooleanOrNull(const Args& a, const FnEnv& e) { return OrNull("toBoolean", a, e); }
QValue ToStringOrNull(const Args& a, const FnEnv& e) { return OrNull("toString", a, e); }

// Each element converted with the ...OrNull function; null for null, an error for no list.
QValue ListOf(const char* fn, const char* convert, const Args& args, const FnEnv& env) {
  if (args[0].is_null()) return QValue();
  if (args[0].kind() != K::kList)
    ThrowType("InvalidArgumentType", std::string(fn) + "() expects a list, got " + args[0].kind_name(), env.offset);
  const QList& in = args[0].as_list();
  env.Charge(CopyBytes(in.data(), in.data() + in.size()), fn);
  QList out;
  out.reserve(in.size());
  for (const QValue& v : in) out.push_back(OrNull(convert, Args{v}, env));
  return QValue(std::move(out));
}
QValue ToIntegerList(const Args& a, const FnEnv& e) { return ListOf("toIntegerList", "toInteger", a, e); }
QValue ToFloatList(const Args& a, const FnEnv& e) { return ListOf("toFloatList", "toFloat", a, e); }
QValue ToBooleanList(const Args& a, const FnEnv& e) { return ListOf("toBooleanList", "toBoolean", a, e); }
QValue ToStringList(const Args& a, const FnEnv& e) { return ListOf("toStringList", "toString", a, e); }

// isEmpty(list | map | string)
QValue IsEmpty(const Args& args, const FnEnv& env) {
  const QValue& v = args[0];
  switch (v.kind()) {
    case K::kNull: return QValue();
    case K::kList: return QValue(v.as_list().empty());
    case K::kMap: return QValue(v.as_map().empty());
    case K::kString: return QValue(v.as_string().empty());
    default:
      ThrowType("InvalidArgumentType", std::string("isEmpty() expects a list, map or string, got ") + v.kind_name(),
                env.offset);
  }
}

// The same as the catalogue's `name`, under another name.
QValue Alias(const char* name, const Args& args, const FnEnv& env) { return FindFunction(name)->scalar(args, env); }
QValue CharLength(const Args& a, const FnEnv& e) {
  if (!a[0].is_null() && a[0].kind() != K::kString)
    ThrowType("InvalidArgumentType", std::string("char_length() expects a string, got ") + a[0].kind_name(), e.offset);
  return Alias("size", a, e);
}
QValue Lower(const Args& a, const FnEnv& e) { return Alias("toLower", a, e); }
QValue Upper(const Args& a, const FnEnv& e) { return Alias("toUpper", a, e); }
QValue BTrim(const Args& a, const FnEnv& e) { return Alias("trim", a, e); }

FunctionDef Scalar(const char* name, int min, int max, ScalarFn fn) {
  FunctionDef d;
  d.name = name;
  d.min_args = min;
  d.max_args = max;
  d.scalar = fn;
  return d;
}

}  // namespace

std::vector<FunctionDef> MoreScalarFunctions() {
  std::vector<FunctionDef> out;
  out.push_back(Scalar("toIntegerOrNull", 1, 1, ToIntegerOrNull));
  out.push_back(Scalar("toFloatOrNull", 1, 1, ToFloatOrNull));
  out.push_back(Scalar("toBooleanOrNull", 1, 1, ToBooleanOrNull));
  out.push_back(Scalar("toStringOrNull", 1, 1, ToStringOrNull));
  out.push_back(Scalar("toIntegerList", 1, 1, ToIntegerList));
  out.push_back(Scalar("toFloatList", 1, 1, ToFloatList));
  out.push_back(Scalar("toBooleanList", 1, 1, ToBooleanList));
  out.push_back(Scalar("toStringList", 1, 1, ToStringList));
  out.push_back(Scalar("isEmpty", 1, 1, IsEmpty));
  out.push_back(Scalar("char_length", 1, 1, CharLength));
  out.push_back(Scalar("character_length", 1, 1, CharLength));
  out.push_back(Scalar("lower", 1, 1, Lower));
  out.push_back(Scalar("upper", 1, 1, Upper));
  out.push_back(Scalar("btrim", 1, 1, BTrim));
  return out;
}

}  // namespace cmdb::gql
