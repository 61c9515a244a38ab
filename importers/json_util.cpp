#include "importers/json_util.hpp"

#include <algorithm>
#include <vector>

#include "cmdb/text_position.hpp"

namespace cmdb::importers {

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
    std::string msg = bulk::JsonErrorReason(e.what());
    return Status::Invalid("malformed " + what + " at line " + std::to_string(line) + ", column " +
                           std::to_string(column) + ": " + msg)
        .With("line", line)
        .With("column", column);
  } catch (const Json::exception& e) {  // e.g. a number too large for a double
    std::string msg = bulk::JsonErrorReason(e.what());
    return Status::Invalid("invalid " + what + ": " + msg);
  }
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

namespace {
thread_local TypeProblems* current_problems = nullptr;
}  // namespace

TypeProblems::TypeProblems() { current_problems = this; }
TypeProblems::~TypeProblems() { current_problems = nullptr; }

void TypeProblems::SetRecord(const std::string& location) {
  if (current_problems) current_problems->record_ = location;
}

void TypeProblems::Note(const char* key, const Json& value, const char* expected) {
  TypeProblems* p = current_problems;
  if (!p || value.is_null()) return;
  std::string message = "\"" + std::string(key) + "\" is " + (value.is_array() ? "a list" : value.is_object() ? "an object" : std::string("a ") + value.type_name()) +
                        " (" + JsonText(value).substr(0, 40) + "), not " + expected +
                        ": the value is ignored";
  std::pair<std::string, std::string> problem{p->record_.empty() ? "$" : p->record_,
                                              std::move(message)};
  if (std::find(p->problems_.begin(), p->problems_.end(), problem) == p->problems_.end())
    p->problems_.push_back(std::move(problem));
}

std::vector<std::pair<std::string, std::string>> TypeProblems::Take() {
  return std::move(problems_);
}

const Json& Member(const Json& j, const char* key) {
  static const Json kEmpty = Json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  if (it == j.end()) return kEmpty;
  if (!it->is_object()) {
    TypeProblems::Note(key, *it, "an object");
    return kEmpty;
  }
  return *it;
}

const Json& Field(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

const Json& Items(const Json& j, const char* key) {
  static const Json kEmpty = Json::array();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  if (it == j.end()) return kEmpty;
  if (!it->is_array()) {
    TypeProblems::Note(key, *it, "a list");
    return kEmpty;
  }
  return *it;
}

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (!it->is_string()) {
    TypeProblems::Note(key, *it, "a string");
    return "";
  }
  return it->get<std::string>();
}

void SetFrom(AttrMap& attrs, const std::string& name, const Json& j, const char* key) {
  if (!j.is_object()) return;
  auto it = j.find(key);
  if (it == j.end()) return;
  Value v = ValueOf(*it);
  if (v.is_null()) TypeProblems::Note(key, *it, "a value (a string, number, boolean or list of them)");
  if (v.is_null() || (v.is_string() && v.as_string().empty())) return;
  attrs.Set(name, std::move(v));
}

}  // namespace cmdb::importers
