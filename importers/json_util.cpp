#include "importers/json_util.hpp"

#include <algorithm>
#include <deque>
#include <unordered_set>
#include <vector>

#include "cmdb/suggest.hpp"
#include "cmdb/text_position.hpp"

namespace cmdb::importers {

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

Result<Json> ParseJson(std::string_view text, const std::string& what, int max_depth) {
  if (auto problem = FindJsonShapeProblem(text, max_depth)) {
    auto [line, column] = PositionAt(text, problem->offset);
    std::string at = " at line " + std::to_string(line) + ", column " + std::to_string(column);
    if (problem->kind == JsonShapeProblem::Kind::kNulByte)
      return Status::Invalid("malformed " + what + at + ": " + kNulByteMessage)
          .With("line", line)
          .With("column", column);
    if (problem->kind == JsonShapeProblem::Kind::kTooDeep)
      return Status(StatusCode::kResourceExhausted,
                    what + " nests deeper than " + std::to_string(max_depth) + " levels" + at)
          .With("line", line)
          .With("column", column)
          .With("limit", static_cast<int64_t>(max_depth));
    return Status::Invalid("duplicate key " + JsonText(Json(problem->key)) + " in " + what + at)
        .With("line", line)
        .With("column", column)
        .With("key", problem->key);
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    auto [line, column] = PositionAt(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string msg = e.what();
    if (auto p = msg.find("parse error"); p != std::string::npos) msg = msg.substr(p);
    return Status::Invalid("malformed " + what + " at line " + std::to_string(line) + ", column " +
                           std::to_string(column) + ": " + msg)
        .With("line", line)
        .With("column", column);
  } catch (const Json::exception& e) {  // e.g. a number too large for a double
    std::string msg = e.what();
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    return Status::Invalid("invalid " + what + ": " + msg);
  }
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

Status RefDefinedTwice(const std::string& ref, int64_t first_line, int64_t line) {
  return Status::Invalid("ref " + JsonText(Json(ref)) + " is defined twice, on lines " +
                         std::to_string(first_line) + " and " + std::to_string(line) +
                         " (a ref names one CI per request)")
      .With("ref", ref)
      .With("first_line", first_line);
}

Value ValueOf(const Json& j) {
  switch (j.type()) {
    case Json::value_t::boolean:
      return Value(j.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return Value(j.get<int64_t>());
    case Json::value_t::number_float:
      return Value(j.get<double>());
    case Json::value_t::string:
      return Value(j.get<std::string>());
    case Json::value_t::array: {
      ValueList list;
      for (const Json& e : j) {
        if (e.is_array() || e.is_object()) return Value();  // no nested lists (and no recursion)
        Value v = ValueOf(e);
        if (v.is_null()) return Value();
        list.push_back(std::move(v));
      }
      return Value(std::move(list));
    }
    default:
      return Value();
  }
}

const Json& Member(const Json& j, const char* key) {
  static const Json kEmpty = Json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it == j.end() ? kEmpty : *it;
}

const Json& Items(const Json& j, const char* key) {
  static const Json kEmpty = Json::array();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it == j.end() || !it->is_array() ? kEmpty : *it;
}

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

void SetFrom(AttrMap& attrs, const std::string& name, const Json& j, const char* key) {
  if (!j.is_object()) return;
  auto it = j.find(key);
  if (it == j.end()) return;
  Value v = ValueOf(*it);
  if (v.is_null() || (v.is_string() && v.as_string().empty())) return;
  attrs.Set(name, std::move(v));
}

}  // namespace cmdb::importers
