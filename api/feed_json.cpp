#include "api/feed_json.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "cmdb/time_util.hpp"

namespace cmdb::api {

using process::FeedEntry;
using process::FeedFilter;
using process::FeedTx;

namespace {

Json OrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json EntryToJson(const FeedEntry& e) {
  Json changes = Json::object();
  for (const process::AttrDiff& d : e.changes) {
    changes[d.name] = Json{{"before", ToJson(d.before)}, {"after", ToJson(d.after)}};
  }
  Json j{{"op", process::FeedOpName(e.op)},
         {"kind", e.relationship ? "relationship" : "ci"},
         {"id", e.id}};
  if (e.relationship) {
    j["type"] = e.class_or_type;
    j["from"] = e.from;
    j["to"] = e.to;
  } else {
    j["class"] = e.class_or_type;
  }
  j["version"] = e.version;
  j["changes"] = std::move(changes);
  return j;
}

// The list members of a filter, by name.
std::vector<std::string>* ListOf(FeedFilter& f, std::string_view name) {
  if (name == "class") return &f.classes;
  if (name == "type") return &f.types;
  if (name == "source") return &f.sources;
  if (name == "actor") return &f.actors;
  if (name == "not_actor") return &f.not_actors;
  if (name == "not_source") return &f.not_sources;
  return nullptr;
}

void SplitInto(const std::string& text, std::vector<std::string>& out) {
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

// Names checked (non-empty, defined) and classes widened to their subclasses.
Status CheckFilter(FeedFilter& f, const Schema* schema) {
  for (std::string_view name : kFeedFilterNames) {
    std::vector<std::string>* list = ListOf(f, name);
    if (!list) continue;
    for (const std::string& v : *list) {
      if (v.empty()) {
        return Status::Invalid("filter '" + std::string(name) + "' has an empty name")
            .With("parameter", std::string(name));
      }
    }
  }
  if (!schema || schema->open_mode()) return Status::Ok();
  std::vector<std::string> classes;
  for (const std::string& c : f.classes) {
    if (!schema->FindClass(c)) {
      return Status::Invalid(schema->UnknownClassMessage(c) + " in filter 'class'")
          .With("parameter", "class");
    }
    for (std::string& d : schema->ClassAndDescendants(c)) {
      if (std::find(classes.begin(), classes.end(), d) == classes.end()) classes.push_back(d);
    }
  }
  f.classes = std::move(classes);
  for (const std::string& t : f.types) {
    if (!schema->FindRelType(t)) {
      return Status::Invalid(schema->UnknownRelTypeMessage(t) + " in filter 'type'")
          .With("parameter", "type");
    }
  }
  return Status::Ok();
}

}  // namespace

Json FeedTxToJson(const FeedTx& tx) {
  Json entries = Json::array();
  for (const FeedEntry& e : tx.entries) entries.push_back(EntryToJson(e));
  Json j{{"tx", tx.id},
         {"time", FormatTimestamp(tx.time)},
         {"actor", tx.actor},
         {"source", tx.source},
         {"change_ref", OrNull(tx.change_ref)},
         {"message", OrNull(tx.message)},
         {"prev_hash", OrNull(tx.prev_hash)},
         {"hash", OrNull(tx.hash)}};
  if (tx.schema_version) j["schema_version"] = tx.schema_version;
  j["entries"] = std::move(entries);
  return j;
}

Result<FeedFilter> FeedFilterFromParams(const HttpRequest& req, const Schema* schema) {
  FeedFilter f;
  for (std::string_view name : kFeedFilterNames) {
    auto it = req.query.find(std::string(name));
    if (it == req.query.end()) continue;
    if (std::vector<std::string>* list = ListOf(f, name)) {
      SplitInto(it->second, *list);
    } else if (it->second.empty()) {
      return Status::Invalid("filter 'change' has an empty name").With("parameter", "change");
    } else {
      f.change_ref = it->second;
    }
  }
  CMDB_RETURN_IF_ERROR(CheckFilter(f, schema));
  return f;
}

Result<FeedFilter> FeedFilterFromJson(const Json& j, const std::string& where,
                                      const Schema* schema) {
  if (!j.is_object()) return Status::Invalid("\"" + where + "\" must be an object").With("field", where);
  CMDB_RETURN_IF_ERROR(CheckFields(
      j, {"class", "type", "source", "actor", "not_actor", "not_source", "change"}, where));
  FeedFilter f;
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string path = where.empty() ? it.key() : where + "." + it.key();
    if (it.key() == "change") {
      if (!it->is_string() || it->get<std::string>().empty()) {
        return Status::Invalid("\"" + path + "\" must be a non-empty string").With("field", path);
      }
      f.change_ref = it->get<std::string>();
      continue;
    }
    std::vector<std::string>* list = ListOf(f, it.key());
    if (it->is_string()) {
      list->push_back(it->get<std::string>());
      continue;
    }
    bool strings = it->is_array();
    for (const Json& v : *it) strings = strings && v.is_string();
    if (!strings) {
      return Status::Invalid("\"" + path + "\" must be a string or an array of strings")
          .With("field", path);
    }
    for (const Json& v : *it) list->push_back(v.get<std::string>());
  }
  CMDB_RETURN_IF_ERROR(CheckFilter(f, schema));
  return f;
}

Json FeedFilterToJson(const FeedFilter& filter) {
  Json j = Json::object();
  FeedFilter copy = filter;
  for (std::string_view name : kFeedFilterNames) {
    std::vector<std::string>* list = ListOf(copy, name);
    if (list && !list->empty()) j[std::string(name)] = *list;
  }
  if (!filter.change_ref.empty()) j["change"] = filter.change_ref;
  return j;
}

}  // namespace cmdb::api
