#include "importers/config.hpp"

#include <fstream>
#include <sstream>

#include "importers/json_util.hpp"

namespace cmdb::importers {

Result<ImportConfig> LoadImportConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read import configuration " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto j = ParseJson(text.str(), "import configuration " + path);
  if (!j.ok()) return j.status();
  if (!j->is_object())
    return Status::Invalid(path + ": the import configuration must be a JSON object");
  if (Status st = CheckJsonFields(*j, {"_comment", "precedence", "per_attribute", "max_age_days"}, "");
      !st.ok())
    return Status::Invalid(path + ": " + st.message());
  ImportConfig config;
  auto strings = [&](const Json& list, const std::string& field,
                     std::vector<std::string>& out) -> Status {
    if (!list.is_array())
      return Status::Invalid(path + ": \"" + field + "\" must be a list of source names");
    for (const Json& s : list) {
      if (!s.is_string())
        return Status::Invalid(path + ": \"" + field + "\" must be a list of source names");
      out.push_back(s);
    }
    return Status::Ok();
  };
  if (j->contains("precedence"))
    CMDB_RETURN_IF_ERROR(strings((*j)["precedence"], "precedence", config.precedence.order));
  if (j->contains("per_attribute")) {
    if (!(*j)["per_attribute"].is_object())
      return Status::Invalid(path + ": \"per_attribute\" must be an object");
    for (const auto& [attr, list] : (*j)["per_attribute"].items())
      CMDB_RETURN_IF_ERROR(
          strings(list, "per_attribute." + attr, config.precedence.per_attribute[attr]));
  }
  if (j->contains("max_age_days")) {
    if (!(*j)["max_age_days"].is_number() || (*j)["max_age_days"].get<double>() < 0)
      return Status::Invalid(path + ": \"max_age_days\" must be a non-negative number");
    config.max_age_micros =
        static_cast<int64_t>((*j)["max_age_days"].get<double>() * 24 * 3600 * 1e6);
  }
  return config;
}

}  // namespace cmdb::importers
