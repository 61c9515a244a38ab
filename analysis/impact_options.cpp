#include "analysis/impact_options.hpp"

#include <algorithm>

#include "cmdb/suggest.hpp"

namespace cmdb::analysis {
namespace {

Status Refuse(const std::string& option, const std::string& message) {
  return Status::Invalid(message).With("option", option);
}

// The names of a types or classes option, or nullptr when the value is not a list of names.
const std::vector<std::string>* Names(const ImpactOptionValue& v) {
  return std::get_if<std::vector<std::string>>(&v);
}

}  // namespace

const std::vector<std::string>& ImpactOptionNames() {
  static const std::vector<std::string> kNames = {"direction", "max_depth", "types", "classes",
                                                  "redundancy"};
  return kNames;
}

Status ApplyImpactOptions(const std::vector<ImpactOption>& options, ImpactRequest& request) {
  const std::vector<std::string>& known = ImpactOptionNames();
  for (const ImpactOption& o : options) {
    const ImpactOptionValue& v = o.value;
    if (std::find(known.begin(), known.end(), o.name) == known.end()) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      return Refuse(o.name, "unknown impact option '" + o.name + "'" + DidYouMean(o.name, known) +
                                "; options: " + list);
    }
    if (std::holds_alternative<std::monostate>(v)) continue;  // null: as if not given
    if (o.name == "direction") {
      const std::string* s = std::get_if<std::string>(&v);
      if (s && *s == "impacted") {
        request.direction = ImpactDirection::kImpacted;
      } else if (s && *s == "depends_on") {
        request.direction = ImpactDirection::kDependsOn;
      } else {
        return Refuse(o.name, std::string("direction must be \"impacted\" or \"depends_on\"") +
                                  (s ? ", not \"" + *s + "\"" : ""));
      }
    } else if (o.name == "max_depth") {
      const int64_t* n = std::get_if<int64_t>(&v);
      if (!n || *n < 0 || *n > kMaxImpactDepth)
        return Refuse(o.name,
                      "max_depth must be an integer from 0 to " + std::to_string(kMaxImpactDepth));
      request.max_depth = static_cast<int>(*n);
    } else if (o.name == "types" || o.name == "classes") {
      const std::vector<std::string>* names = Names(v);
      if (!names) return Refuse(o.name, o.name + " must be a list of names");
      (o.name == "types" ? request.types : request.classes) = *names;
    } else if (o.name == "redundancy") {
      const bool* b = std::get_if<bool>(&v);
      if (!b) return Refuse(o.name, "redundancy must be true or false");
      request.redundancy = *b;
    }
  }
  return Status::Ok();
}

Status CheckImpactNames(const ImpactRequest& request, const Schema& schema) {
  if (schema.open_mode()) return Status::Ok();
  for (const auto& t : request.types) {
    if (!schema.FindRelType(t)) return Status::Invalid(schema.UnknownRelTypeMessage(t)).With("type", t);
  }
  for (const auto& c : request.classes) {
    if (!schema.FindClass(c)) return Status::Invalid(schema.UnknownClassMessage(c)).With("class", c);
  }
  return Status::Ok();
}

}  // namespace cmdb::analysis
