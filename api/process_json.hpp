// JSON pieces shared by the change and release handlers, and the JSON mapping of the process
// records' field tables (process/record_fields.hpp): a field declared in a record's table is
// rendered and read here by its type, so the handlers name only the fields with a shape of
// their own.
// Thread safety: pure functions.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_codec.hpp"
#include "process/change.hpp"
#include "process/diff.hpp"
#include "process/record_fields.hpp"

namespace cmdb::api {

// An ISO-8601 time, or null for 0 (unset).
Json TimeJson(int64_t micros);
// A record's journal: [{"time", "actor", "kind", "from"?, "to"?, "text"?}].
Json JournalJson(const std::vector<process::ChangeEvent>& events);
// [{"attribute", "before", "after"}].
Json AttrDiffsJson(const std::vector<process::AttrDiff>& diffs);

// The JSON of a stored field value by its type and form: a time as TimeJson, an empty string
// of a kNullWhenEmpty field as null, the rest as the value is.
Json FieldJson(process::FieldType type, process::JsonForm form, const Value& stored);
// The stored value of a field from a request's JSON `v`, or kInvalidArgument with
// details.field naming it: `"x" must be a string`, `"x" must be an ISO-8601 time such as
// 2026-11-21T22:00:00Z` (null clears a time), `"x" must be "a", "b" or "c"` (an enum),
// `"x" must be a list of ids` / `of CI ids` (positive integers), `of strings`.
Result<Value> FieldFromJson(std::string_view name, process::FieldType type,
                            const std::vector<std::string>& enum_values, const Json& v);
// kInvalidArgument `"x" must be "a", "b" or "c"` for an enum field.
Status EnumFieldError(std::string_view name, const std::vector<std::string>& enum_values);

// Adds the fields of `r` that the table renders plainly (JsonForm kPlain, kNullWhenEmpty) to
// the object `out`, under their names.
template <typename R>
void FieldsToJson(const process::FieldTable<R>& table, const R& r, Json& out) {
  for (const auto& f : table) {
    if (f.json != process::JsonForm::kOwn)
      out[std::string(f.name)] = FieldJson(f.type, f.json, f.get(r));
  }
}

// The names of a table's editable fields followed by `extra` (request keys of another shape).
template <typename R>
std::vector<std::string> EditableFieldNames(const process::FieldTable<R>& table,
                                            std::initializer_list<std::string_view> extra = {}) {
  std::vector<std::string> out;
  for (const auto& f : table) {
    if (f.editable) out.emplace_back(f.name);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// Reads the editable fields (except kTuples ones, which the caller reads in their own shape)
// that the object `body` holds into `r`, adding their names to `given` when set. With
// `creating`, a required enum field must be given (it has no empty value).
template <typename R>
Status FieldsFromJson(const process::FieldTable<R>& table, const Json& body, R& r,
                      std::set<std::string, std::less<>>* given = nullptr, bool creating = false) {
  for (const auto& f : table) {
    if (!f.editable || f.type == process::FieldType::kTuples) continue;
    std::string name(f.name);
    if (!body.contains(name)) {
      if (creating && f.required && f.type == process::FieldType::kEnum)
        return EnumFieldError(f.name, f.enum_values);
      continue;
    }
    auto v = FieldFromJson(f.name, f.type, f.enum_values, body[name]);
    if (!v.ok()) return v.status();
    f.set(r, *v);
    if (given) given->insert(name);
  }
  return Status::Ok();
}

}  // namespace cmdb::api
