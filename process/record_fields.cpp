#include "process/record_fields.hpp"

namespace cmdb::process {

bool IsEmptyValue(const Value& v) {
  if (v.is_null()) return true;
  if (v.is_string()) return v.as_string().empty();
  if (v.is_int()) return v.as_int() == 0;
  if (v.is_list()) return v.as_list().empty();
  return false;
}

std::string QuotedChoices(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += i + 1 == values.size() ? " or " : ", ";
    out += "\"" + values[i] + "\"";
  }
  return out;
}

}  // namespace cmdb::process
