// Field tables: each process record type (change, window, baseline, release, audit) declares its
// stored fields once, in a FieldTable: the name, the type, whether it is required, the names of
// an enum's values and how to read and write it on the record. The codecs of this layer
// (ChangeToDoc, ChangeFromDoc, ...) and the JSON mapping at the api edge (api/process_json.hpp)
// are driven by the table, so adding a field is one line.
//
// Stored format: a record's body (DocRecord::body) maps each field's name to its value: strings,
// integers (times in micros since the epoch, ids), floats, booleans, lists of ids or strings, an
// enum as its value's name, and structures as lists ("tuples", see the record codecs). Reading
// is lenient: a missing or mistyped field leaves the record's default (bodies are only ever
// written by these codecs, and older bodies may lack newer fields).
// Thread safety: tables are immutable once built (the accessors of each record build theirs on
// first use, thread-safely); the functions here are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "process/doc_fields.hpp"

namespace cmdb::process {

// The type of a field, in the stored body and in the JSON of the api.
enum class FieldType {
  kString,
  kInt,
  kFloat,
  kBool,
  kTime,     // an integer of micros since the epoch; 0 is unset (JSON: ISO-8601 or null)
  kIds,      // a list of record ids
  kCiIds,    // a list of CI ids
  kStrings,  // a list of strings
  kEnum,     // one of `enum_values`, stored by name
  kTuples,   // a structure or list of structures in list form; the record's codec knows it
};

// How the api's generic JSON mapping treats a field.
enum class JsonForm {
  kPlain,          // rendered under its name, by its type
  kNullWhenEmpty,  // like kPlain, but an empty string renders as null
  kOwn,            // the api renders it itself (in another shape) or not at all
};

// One field of record type R. Built with the functions below.
template <typename R>
struct FieldDef {
  std::string_view name;  // the key in the stored body and in the JSON
  FieldType type = FieldType::kString;
  bool required = false;  // a record without a value (empty) is refused: see CheckRequired
  bool editable = false;  // requests may set it (the api reads it from request bodies)
  JsonForm json = JsonForm::kPlain;
  std::vector<std::string> enum_values;       // kEnum: the names, in enumerator order
  std::function<Value(const R&)> get;         // the stored value (a null Value is not stored)
  std::function<void(R&, const Value&)> set;  // from a stored value; ignores a mistyped one

  // Builder steps, for the tables: Field("name", &R::name).Required().Editable().
  FieldDef Required() && {
    required = true;
    return std::move(*this);
  }
  FieldDef Editable() && {
    editable = true;
    return std::move(*this);
  }
  FieldDef InJson(JsonForm form) && {
    json = form;
    return std::move(*this);
  }
};

// The fields of a record type, in a fixed order (the order of edits in a journal's "updated"
// line). Built once per record type; immutable after.
template <typename R>
using FieldTable = std::vector<FieldDef<R>>;

namespace field_internal {

template <typename T>
constexpr FieldType DefaultType() {
  if constexpr (std::is_same_v<T, std::string>)
    return FieldType::kString;
  else if constexpr (std::is_same_v<T, bool>)
    return FieldType::kBool;
  else if constexpr (std::is_integral_v<T>)
    return FieldType::kInt;
  else if constexpr (std::is_floating_point_v<T>)
    return FieldType::kFloat;
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
    return FieldType::kIds;
  else if constexpr (std::is_same_v<T, std::vector<std::string>>)
    return FieldType::kStrings;
  else
    static_assert(sizeof(T) == 0, "no field type for this member type; use TupleField");
}

template <typename T>
Value ToValue(const T& v) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
                std::is_floating_point_v<T>)
    return Value(v);
  else if constexpr (std::is_integral_v<T>)
    return Value(static_cast<int64_t>(v));
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
    return IntsValue(v);
  else
    return StrsValue(v);
}

// Leaves `out` as it is when `v` has another type.
template <typename T>
void FromValue(const Value& v, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (v.is_bool()) out = v.as_bool();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.is_string()) out = std::string(v.as_string());
  } else if constexpr (std::is_floating_point_v<T>) {
    if (v.is_float()) out = v.as_float();
    if (v.is_int()) out = static_cast<T>(v.as_int());
  } else if constexpr (std::is_integral_v<T>) {
    if (v.is_int()) out = static_cast<T>(v.as_int());
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    out.clear();
    if (!v.is_list()) return;
    for (const Value& e : v.as_list()) {
      if (e.is_int()) out.push_back(e.as_int());
    }
  } else {
    out.clear();
    if (!v.is_list()) return;
    for (const Value& e : v.as_list()) {
      if (e.is_string()) out.emplace_back(e.as_string());
    }
  }
}

}  // namespace field_internal

// A field stored as the member `m` (string, integer, float, bool, list of ids or of strings);
// `type` refines the default (kTime for a time, kCiIds for CI ids).
template <typename R, typename T>
FieldDef<R> Field(std::string_view name, T R::*m,
                  FieldType type = field_internal::DefaultType<T>()) {
  FieldDef<R> f;
  f.name = name;
  f.type = type;
  f.get = [m](const R& r) { return field_internal::ToValue(r.*m); };
  f.set = [m](R& r, const Value& v) { field_internal::FromValue(v, r.*m); };
  return f;
}

// An enum member stored by name; `names` lists the names in enumerator order. An unknown name
// leaves the default.
template <typename R, typename E, size_t N>
FieldDef<R> EnumField(std::string_view name, E R::*m, const char* const (&names)[N]) {
  FieldDef<R> f;
  f.name = name;
  f.type = FieldType::kEnum;
  f.enum_values.assign(std::begin(names), std::end(names));
  f.get = [m, &names](const R& r) { return Value(names[static_cast<size_t>(r.*m)]); };
  f.set = [m, &names](R& r, const Value& v) {
    if (!v.is_string()) return;
    if (auto e = EnumByName<E>(names, v.as_string())) r.*m = *e;
  };
  return f;
}

// A field in list form with its own encoding (`get` may answer a null Value to store nothing).
template <typename R>
FieldDef<R> TupleField(std::string_view name, std::function<Value(const R&)> get,
                       std::function<void(R&, const Value&)> set) {
  FieldDef<R> f;
  f.name = name;
  f.type = FieldType::kTuples;
  f.json = JsonForm::kOwn;
  f.get = std::move(get);
  f.set = std::move(set);
  return f;
}

// The field named `name`, or nullptr.
template <typename R>
const FieldDef<R>* FindField(const FieldTable<R>& table, std::string_view name) {
  for (const auto& f : table) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Writes every field of `r` into `body`.
template <typename R>
void EncodeFields(const FieldTable<R>& table, const R& r, AttrMap& body) {
  AttrMap::Builder b;
  for (const auto& f : table) b.Add(f.name, f.get(r));
  body = b.Build();
}

// Reads the fields `body` holds into `r` (the others keep their value).
template <typename R>
void DecodeFields(const FieldTable<R>& table, const AttrMap& body, R& r) {
  for (const auto& f : table) {
    if (std::optional<Value> v = body.Find(f.name)) f.set(r, *v);
  }
}

// A record as the DocRecord of `kind` that stores it: its id (and version, when the record keeps
// one) and the body from its table. RecordFromDoc is the inverse (also taking updated_at when the
// record keeps it). Every process record's codec is these two with its table.
template <typename R>
DocRecord RecordToDoc(std::string_view kind, const FieldTable<R>& table, const R& r) {
  DocRecord d;
  d.kind = std::string(kind);
  d.id = r.id;
  if constexpr (requires { r.version; }) d.version = r.version;
  EncodeFields(table, r, d.body);
  return d;
}
template <typename R>
R RecordFromDoc(const FieldTable<R>& table, const DocRecord& d) {
  R r;
  r.id = d.id;
  if constexpr (requires { r.version; }) r.version = d.version;
  if constexpr (requires { r.updated_at; }) r.updated_at = d.updated_at;
  DecodeFields(table, d.body, r);
  return r;
}

// True when the field holds its type's empty value ("", 0, an empty list).
bool IsEmptyValue(const Value& v);

// OK when every required field of `r` has a value; otherwise kInvalidArgument
// `a <subject> needs a "<field>"` with details.field.
template <typename R>
Status CheckRequired(const FieldTable<R>& table, const R& r, std::string_view subject) {
  for (const auto& f : table) {
    if (f.required && IsEmptyValue(f.get(r)))
      return Status::Invalid("a " + std::string(subject) + " needs a \"" + std::string(f.name) +
                             "\"")
          .With("field", std::string(f.name));
  }
  return Status::Ok();
}

// `"a", "b" or "c"`: the values of an enum field, for messages.
std::string QuotedChoices(const std::vector<std::string>& values);

}  // namespace cmdb::process
