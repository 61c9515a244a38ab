#include "api/process_json.hpp"

#include <algorithm>

#include "cmdb/time_util.hpp"

namespace cmdb::api {

using process::FieldType;

Json TimeJson(int64_t micros) { return micros ? Json(FormatTimestamp(micros)) : Json(nullptr); }

Json JournalJson(const std::vector<process::ChangeEvent>& events) {
  Json out = Json::array();
  for (const auto& e : events) {
    Json j{{"time", FormatTimestamp(e.time)},
           {"actor", e.actor},
           {"kind", process::EventKindName(e.kind)}};
    if (!e.from.empty()) j["from"] = e.from;
    if (!e.to.empty()) j["to"] = e.to;
    if (!e.text.empty()) j["text"] = e.text;
    out.push_back(std::move(j));
  }
  return out;
}

Json AttrDiffsJson(const std::vector<process::AttrDiff>& diffs) {
  Json out = Json::array();
  for (const auto& d : diffs)
    out.push_back(
        Json{{"attribute", d.name}, {"before", ToJson(d.before)}, {"after", ToJson(d.after)}});
  return out;
}

Json FieldJson(FieldType type, process::JsonForm form, const Value& stored) {
  if (type == FieldType::kTime) return TimeJson(stored.is_int() ? stored.as_int() : 0);
  if (form == process::JsonForm::kNullWhenEmpty && stored.is_string() && stored.as_string().empty())
    return nullptr;
  return ToJson(stored);
}

Status EnumFieldError(std::string_view name, const std::vector<std::string>& enum_values) {
  return Status::Invalid("\"" + std::string(name) + "\" must be " +
                         process::QuotedChoices(enum_values))
      .With("field", std::string(name));
}

Result<Value> FieldFromJson(std::string_view name, FieldType type,
                            const std::vector<std::string>& enum_values, const Json& v) {
  std::string field(name);
  auto refuse = [&](const std::string& what) {
    return Status::Invalid("\"" + field + "\" must be " + what).With("field", field);
  };
  switch (type) {
    case FieldType::kString:
      if (!v.is_string()) return refuse("a string");
      return Value(v.get<std::string>());
    case FieldType::kInt:
      if (!v.is_number_integer()) return refuse("an integer");
      return Value(v.get<int64_t>());
    case FieldType::kFloat:
      if (!v.is_number()) return refuse("a number");
      return Value(v.get<double>());
    case FieldType::kBool:
      if (!v.is_boolean()) return refuse("true or false");
      return Value(v.get<bool>());
    case FieldType::kTime: {
      if (v.is_null()) return Value(int64_t{0});
      std::optional<int64_t> t =
          v.is_string() ? ParseTimestamp(v.get<std::string>()) : std::nullopt;
      if (!t) return refuse("an ISO-8601 time such as 2026-11-21T22:00:00Z");
      return Value(*t);
    }
    case FieldType::kEnum:
      if (!v.is_string() || std::find(enum_values.begin(), enum_values.end(),
                                      v.get<std::string>()) == enum_values.end())
        return EnumFieldError(name, enum_values);
      return Value(v.get<std::string>());
    case FieldType::kIds:
    case FieldType::kCiIds: {
      const char* what = type == FieldType::kIds ? "a list of ids" : "a list of CI ids";
      if (!v.is_array()) return refuse(what);
      ValueList ids;
      for (const Json& id : v) {
        if (!id.is_number_integer() || id.get<int64_t>() <= 0) return refuse(what);
        ids.emplace_back(id.get<int64_t>());
      }
      return Value(std::move(ids));
    }
    case FieldType::kStrings: {
      if (!v.is_array()) return refuse("a list of strings");
      ValueList items;
      for (const Json& s : v) {
        if (!s.is_string()) return refuse("a list of strings");
        items.emplace_back(s.get<std::string>());
      }
      return Value(std::move(items));
    }
    case FieldType::kTuples:
      break;
  }
  return Status::Internal("field \"" + field + "\" has its own JSON shape");
}

}  // namespace cmdb::api
