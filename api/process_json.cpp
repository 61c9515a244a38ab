#include "api/process_json.hpp"

#include "cmdb/time_util.hpp"

namespace cmdb::api {

Json TimeJson(int64_t micros) { return micros ? Json(FormatTimestamp(micros)) : Json(nullptr); }

Json JournalJson(const std::vector<process::ChangeEvent>& events) {
  Json out = Json::array();
  for (const auto& e : events) {
    Json j{{"time", FormatTimestamp(e.time)}, {"actor", e.actor}, {"kind", e.kind}};
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

}  // namespace cmdb::api
