#include "process/doc_fields.hpp"

namespace cmdb::process {
namespace {

std::vector<int64_t> IntsOf(const Value& v) {
  std::vector<int64_t> out;
  if (!v.is_list()) return out;
  out.reserve(v.as_list().size());
  for (const Value& e : v.as_list()) {
    if (e.is_int()) out.push_back(e.as_int());
  }
  return out;
}

}  // namespace

Value IntsValue(const std::vector<int64_t>& ids) {
  ValueList list;
  list.reserve(ids.size());
  for (int64_t id : ids) list.emplace_back(id);
  return Value(std::move(list));
}

Value StrsValue(const std::vector<std::string>& items) {
  ValueList list;
  list.reserve(items.size());
  for (const auto& s : items) list.emplace_back(s);
  return Value(std::move(list));
}

std::string StrAt(const ValueList& tuple, size_t i) {
  return std::string(i < tuple.size() && tuple[i].is_string() ? tuple[i].as_string() : std::string_view());
}

int64_t IntAt(const ValueList& tuple, size_t i) {
  return i < tuple.size() && tuple[i].is_int() ? tuple[i].as_int() : 0;
}

double FloatAt(const ValueList& tuple, size_t i) {
  if (i < tuple.size() && tuple[i].is_float()) return tuple[i].as_float();
  return static_cast<double>(IntAt(tuple, i));
}

std::vector<int64_t> IntsAt(const ValueList& tuple, size_t i) {
  return i < tuple.size() ? IntsOf(tuple[i]) : std::vector<int64_t>{};
}

Status ForbiddenTransition(const std::string& subject, const std::string& from,
                           const std::string& to, const std::vector<std::string>& allowed) {
  ValueList names;
  std::string list;
  for (const auto& a : allowed) {
    names.emplace_back(a);
    list += (list.empty() ? "" : ", ") + a;
  }
  return Status::Conflict(subject + " in state " + from + " cannot move to " + to + "; " +
                          (allowed.empty() ? std::string("it is final") : "allowed: " + list))
      .With("state", from)
      .With("allowed", Value(std::move(names)))
      .WithType("forbidden_transition");
}

}  // namespace cmdb::process
