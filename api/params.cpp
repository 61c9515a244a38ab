#include "api/params.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include "cmdb/suggest.hpp"

namespace cmdb::api {
namespace {

bool IsInt(const std::string& text, int64_t min) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && p == text.data() + text.size() && v >= min;
}

Status Refuse(const std::string& message, const std::string& parameter) {
  return Status::Invalid(message).With("parameter", parameter);
}

}  // namespace

Status CheckParams(const HttpRequest& req, std::span<const ParamSpec> params) {
  const std::string route = req.method + " " + req.path;
  for (auto it = req.query.begin(); it != req.query.end(); ++it) {
    const std::string& name = it->first;
    const std::string& value = it->second;
    if (name.empty()) return Refuse("a query parameter of " + route + " has no name", name);
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& p : params) {
      if (p.prefix ? name.compare(0, p.name.size(), p.name) == 0 : name == p.name) {
        spec = &p;
        break;
      }
    }
    if (!spec || !spec->refused.empty()) {
      std::vector<std::string> names;
      std::string list;
      for (const ParamSpec& p : params) {
        if (!p.refused.empty()) continue;
        names.emplace_back(p.name);
        list += (list.empty() ? "" : ", ") + std::string(p.name) + (p.prefix ? "<attribute>" : "");
      }
      std::string why = spec ? " (" + std::string(spec->refused) + ")" : DidYouMean(name, names);
      return Refuse("unknown parameter '" + name + "' for " + route + why +
                        "; allowed: " + (list.empty() ? "none" : list),
                    name);
    }
    if (spec->prefix && name.size() == spec->name.size())
      return Refuse("parameter '" + name + "' of " + route + " names nothing after '" +
                        std::string(spec->name) + "'",
                    name);
    if (size_t n = req.query.count(name); n > 1 && !spec->repeatable)
      return Refuse("parameter '" + name + "' is given " + std::to_string(n) +
                        " times; give it once",
                    name);
    std::string expected;
    switch (spec->kind) {
      case ParamKind::kText: break;
      case ParamKind::kPositiveInt:
        if (!IsInt(value, 1)) expected = "a positive integer";
        break;
      case ParamKind::kNonNegativeInt:
        if (!IsInt(value, 0)) expected = "a non-negative integer";
        break;
      case ParamKind::kBool:
        if (value != "true" && value != "false") expected = "true or false";
        break;
    }
    if (!expected.empty())
      return Refuse("invalid " + name + " '" + value + "': expected " + expected, name);
  }
  return Status::Ok();
}

}  // namespace cmdb::api
