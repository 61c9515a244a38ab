#include "bulk/json.hpp"

#include <algorithm>
#include <deque>
#include <unordered_set>
#include <vector>

#include "cmdb/suggest.hpp"

namespace cmdb::bulk {

namespace {

// One open object or array of the scan.
struct Frame {
  bool object = false;
  bool expecting_key = false;               // objects: the next string is a key
  std::vector<std::string_view> keys;       // objects: the keys so far (few: searched linearly)
  std::unordered_set<std::string_view> set; // objects: the keys, once there are many
};

constexpr size_t kLinearKeys = 16;

}  // namespace

std::optional<JsonShapeProblem> FindJsonShapeProblem(std::string_view text, int max_depth) {
  std::vector<Frame> stack;
  std::deque<std::string> unescaped;  // keys with escapes, decoded (views point here)
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t start = i++;
      bool escaped = false;
      for (; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') escaped = true, ++i;
      }
      if (stack.empty() || !stack.back().object || !stack.back().expecting_key) continue;
      Frame& f = stack.back();
      f.expecting_key = false;
      std::string_view key = text.substr(start + 1, std::min(i, text.size()) - start - 1);
      if (escaped) {
        try {
          unescaped.push_back(Json::parse(text.substr(start, i + 1 - start)).get<std::string>());
        } catch (const Json::exception&) {
          return std::nullopt;  // malformed: the parser reports it
        }
        key = unescaped.back();
      }
      bool repeated;
      if (f.keys.size() < kLinearKeys) {
        repeated = std::find(f.keys.begin(), f.keys.end(), key) != f.keys.end();
        f.keys.push_back(key);
        if (f.keys.size() == kLinearKeys) f.set.insert(f.keys.begin(), f.keys.end());
      } else {
        repeated = !f.set.insert(key).second;
      }
      if (repeated) return JsonShapeProblem{JsonShapeProblem::Kind::kDuplicateKey, start, std::string(key)};
    } else if (c == '{' || c == '[') {
      if (static_cast<int>(stack.size()) >= max_depth)
        return JsonShapeProblem{JsonShapeProblem::Kind::kTooDeep, i, ""};
      stack.emplace_back();
      stack.back().object = c == '{';
      stack.back().expecting_key = c == '{';
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
    } else if (c == ',') {
      if (!stack.empty() && stack.back().object) stack.back().expecting_key = true;
    } else if (c == '\0') {
      return JsonShapeProblem{JsonShapeProblem::Kind::kNulByte, i, ""};
    }
  }
  return std::nullopt;
}

Status CheckJsonFields(const Json& obj, const std::vector<std::string_view>& allowed,
                       const std::string& where) {
  if (!obj.is_object()) return Status::Ok();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    std::vector<std::string> names(allowed.begin(), allowed.end());
    std::string list;
    ValueList values;
    for (const auto& n : names) {
      list += (list.empty() ? "" : ", ") + n;
      values.emplace_back(n);
    }
    std::string in = where.empty() ? "" : " in \"" + where + "\"";
    return Status::Invalid("unknown field " + JsonText(Json(k)) + in + DidYouMean(k, names) +
                           "; allowed: " + list)
        .With("field", where.empty() ? k : where + "." + k)
        .With("allowed", Value(std::move(values)));
  }
  return Status::Ok();
}

Json ToJson(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return nullptr;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kInt: return v.as_int();
    case Value::Kind::kFloat: return v.as_float();
    case Value::Kind::kString: return v.as_string();
    case Value::Kind::kList: {
      Json a = Json::array();
      for (const Value& e : v.as_list()) a.push_back(ToJson(e));
      return a;
    }
  }
  return nullptr;
}

namespace {

Result<Value> FromJsonAt(const Json& j, const std::string& where, int depth) {
  switch (j.type()) {
    case Json::value_t::null: return Value();
    case Json::value_t::boolean: return Value(j.get<bool>());
    case Json::value_t::number_integer: return Value(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Status::Invalid(where + ": integer out of range");
      return Value(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float: return Value(j.get<double>());
    case Json::value_t::string: return Value(j.get<std::string>());
    case Json::value_t::array: {
      if (depth >= kMaxJsonDepth)
        return Status(StatusCode::kResourceExhausted,
                      where + ": lists nest deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels");
      ValueList list;
      for (size_t i = 0; i < j.size(); ++i) {
        auto e = FromJsonAt(j[i], where + "[" + std::to_string(i) + "]", depth + 1);
        if (!e.ok()) return e.status();
        list.push_back(std::move(*e));
      }
      return Value(std::move(list));
    }
    default:
      return Status::Invalid(where + ": objects are not attribute values");
  }
}

}  // namespace

Result<Value> FromJson(const Json& j, const std::string& where) { return FromJsonAt(j, where, 0); }

Json ToJson(const AttrMap& attrs) {
  Json o = Json::object();
  for (const auto& [k, v] : attrs) o[k] = ToJson(v);
  return o;
}

namespace {

// The value of member `k` of an attributes object: scalars directly; lists and errors through
// FromJson, which names the location.
Result<Value> MemberFromJson(const Json& v, const std::string& where, const std::string& k) {
  switch (v.type()) {
    case Json::value_t::null: return Value();
    case Json::value_t::boolean: return Value(v.get<bool>());
    case Json::value_t::number_integer: return Value(v.get<int64_t>());
    case Json::value_t::number_float: return Value(v.get<double>());
    case Json::value_t::string: return Value(v.get_ref<const std::string&>());
    default: return FromJson(v, where + "." + k);
  }
}

}  // namespace

Result<AttrPatch> PatchFromJson(const Json& j, const std::string& where) {
  if (!j.is_object()) return Status::Invalid(where + " must be a JSON object");
  AttrPatch out;
  out.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto val = MemberFromJson(*it, where, it.key());
    if (!val.ok()) return val.status();
    out.emplace_back(it.key(), std::move(*val));
  }
  return out;
}

Result<AttrMap> AttrsFromJson(const Json& j, const std::string& where) {
  if (j.is_null()) return AttrMap();
  if (!j.is_object()) return Status::Invalid(where + " must be a JSON object");
  AttrMap::Builder out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto val = MemberFromJson(*it, where, it.key());
    if (!val.ok()) return val.status();
    out.Add(it.key(), std::move(*val));
  }
  return out.Build();
}

std::string JsonErrorReason(const std::string& what) {
  std::string msg = what;
  // "[json.exception.parse_error.101] parse error at line 1, column 21: syntax error while parsing
  // object - unexpected end of input; expected '}'": the part after " - ".
  if (auto p = msg.find("parse error"); p != std::string::npos) {
    msg = msg.substr(p);
    if (auto dash = msg.find(" - "); dash != std::string::npos) msg = msg.substr(dash + 3);
  } else if (msg.rfind("[json.exception.", 0) == 0) {
    if (auto close = msg.find("] "); close != std::string::npos) msg = msg.substr(close + 2);
  }
  if (auto last = msg.find("; last read: '"); last != std::string::npos) {
    auto expected = msg.rfind("'; expected ");
    msg = expected != std::string::npos && expected > last
              ? msg.substr(0, last) + msg.substr(expected + 1)
              : msg.substr(0, last);
  }
  constexpr std::string_view kOverflow = "number overflow parsing ";
  if (msg.rfind(kOverflow, 0) == 0)
    msg = "number out of range (" + msg.substr(kOverflow.size()) + ")";
  return msg;
}

}  // namespace cmdb::bulk
