#include "api/impact_request.hpp"

#include <limits>

namespace cmdb::api {
namespace {

analysis::ImpactOptionValue OptionValue(const Json& j) {
  if (j.is_null()) return std::monostate{};
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_unsigned()) {
    uint64_t n = j.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return analysis::OtherOptionValue{};
    return static_cast<int64_t>(n);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_string()) return j.get<std::string>();
  if (j.is_array()) {
    std::vector<std::string> names;
    for (const Json& e : j) {
      if (!e.is_string()) return analysis::OtherOptionValue{};
      names.push_back(e.get<std::string>());
    }
    return names;
  }
  return analysis::OtherOptionValue{};
}

}  // namespace

std::vector<analysis::ImpactOption> ImpactOptionsFromJson(
    const Json& object, const std::vector<std::pair<std::string, std::string>>& names) {
  std::vector<analysis::ImpactOption> out;
  for (const auto& [member, option] : names) {
    auto it = object.find(member);
    if (it != object.end()) out.push_back({option, OptionValue(*it)});
  }
  return out;
}

}  // namespace cmdb::api
