#include "shell/commands.hpp"

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "shell/session.hpp"

namespace cmdb::shell {

namespace {

// One request; true with the parsed JSON answer (2xx), else the error printed and *code set.
bool Request(HttpClient& client, const std::string& method, const std::string& target,
             const std::string& body, const std::string& content_type, const CommandOutput& o,
             Json* answer, int* code,
             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  HttpAnswer a;
  std::string error;
  if (!client.Call(method, target, body, content_type, &a, &error, 600, headers)) {
    *o.err << error << std::endl;
    *code = kExitUnreachable;
    return false;
  }
  if (a.status < 200 || a.status >= 300) {
    *o.err << ErrorText(a.status, a.body, ErrorPlace{}) << std::endl;
    // Lists of located errors (imports, bulk lines) follow the message.
    Json parsed = Json::parse(a.body, nullptr, false);
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
      const Json& e = parsed["error"];
      const Json* list =
          e.contains("errors") ? &e["errors"]
          : e.contains("details") && e["details"].is_object() && e["details"].contains("errors")
              ? &e["details"]["errors"]
              : nullptr;
      if (list && list->is_array())
        for (const auto& item : *list) {
          if (!item.is_object()) continue;
          std::string where = item.contains("location") ? ValueText(item["location"])
                              : item.contains("line")   ? "line " + item["line"].dump()
                                                        : "";
          *o.err << "  " << (where.empty() ? "" : where + ": ")
                 << (item.contains("code") ? ValueText(item["code"]) + ": " : "")
                 << ValueText(item.value("message", Json(""))) << "\n";
        }
      o.err->flush();
    }
    *code = ExitCodeForStatus(a.status);
    return false;
  }
  *answer = Json::parse(a.body, nullptr, false);
  if (answer->is_discarded()) *answer = Json(a.body);  // not JSON (a Graphviz picture)
  return true;
}

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string Field(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "";
  return ValueText(obj[key]);
}

// Runs a read query with parameters; true with its rows.
bool QueryRows(HttpClient& client, const std::string& query, const Json& params,
               const CommandOutput& o, Json* rows, int* code) {
  Json answer;
  if (!Request(client, "POST", "/v1/query", Json{{"query", query}, {"parameters", params}}.dump(),
               "application/json", o, &answer, code))
    return false;
  *rows = answer.value("rows", Json::array());
  return true;
}

void Footer(std::ostream& out, const std::vector<std::string>& parts) {
  if (!parts.empty()) out << "(" << Join(parts, "; ") << ")\n";
}

}  // namespace

int ImpactCommand(HttpClient& client, const ImpactArgs& args, const CommandOutput& o) {
  int code = kExitOk;
  Json ids = Json::array();
  for (const auto& ci : args.cis) {
    if (IsNumber(ci)) {
      ids.push_back(std::stoll(ci));
      continue;
    }
    Json rows;
    if (!QueryRows(client, "MATCH (n) WHERE n.name = $name RETURN id(n) ORDER BY id(n)",
                   Json{{"name", ci}}, o, &rows, &code))
      return code;
    if (rows.empty()) {
      *o.err << "no CI is named '" << ci << "'" << std::endl;
      return kExitFailed;
    }
    if (rows.size() > 1) {
      std::vector<std::string> found;
      for (const auto& r : rows) found.push_back(r[0].dump());
      *o.err << "'" << ci << "' names " << rows.size() << " CIs (ids " << Join(found, ", ")
             << "); give an id" << std::endl;
      return kExitFailed;
    }
    ids.push_back(rows[0][0]);
  }
  Json body{{"cis", ids}, {"direction", args.direction}};
  if (args.max_depth > 0) body["max_depth"] = args.max_depth;
  if (!args.types.empty()) body["types"] = args.types;
  if (!args.classes.empty()) body["classes"] = args.classes;
  if (args.dot) body["format"] = "dot";
  Json answer;
  if (!Request(client, "POST", "/v1/impact", body.dump(), "application/json", o, &answer, &code))
    return code;
  std::ostream& out = *o.out;
  if (args.dot || answer.is_string()) {
    out << (answer.is_string() ? answer.get<std::string>() : answer.dump());
    out.flush();
    return kExitOk;
  }
  if (o.format == Format::kJson) {
    out << answer.dump() << "\n";
    return kExitOk;
  }
  std::map<long long, std::string> names;
  for (const char* list : {"seeds", "impacted"})
    for (const auto& c : answer.value(list, Json::array()))
      if (c.contains("id") && c["id"].is_number_integer())
        names[c["id"].get<long long>()] = Field(c, "name");
  if (args.paths) {  // CIs on the paths that a class filter left out of the answer: by name too
    Json unknown = Json::array();
    for (const auto& c : answer.value("impacted", Json::array()))
      if (c.contains("path") && c["path"].is_object())
        for (const auto& id : c["path"].value("cis", Json::array()))
          if (id.is_number_integer() && !names.count(id.get<long long>())) {
            names[id.get<long long>()] = "";
            unknown.push_back(id);
          }
    Json rows;
    if (!unknown.empty() && !QueryRows(client, "MATCH (n) WHERE id(n) IN $ids RETURN id(n), n.name",
                                       Json{{"ids", unknown}}, o, &rows, &code))
      return code;
    if (rows.is_array())
      for (const auto& r : rows)
        if (r[0].is_number_integer() && r[1].is_string())
          names[r[0].get<long long>()] = r[1].get<std::string>();
  }
  Json columns = Json::array({"id", "class", "name", "distance", "state"});
  if (args.paths) columns.push_back("path");
  Json rows = Json::array();
  for (const auto& c : answer.value("impacted", Json::array())) {
    Json row =
        Json::array({c.value("id", Json()), c.value("class", Json()), c.value("name", Json()),
                     c.value("distance", Json()), c.value("state", Json())});
    if (args.paths) {
      std::vector<std::string> steps;
      if (c.contains("path") && c["path"].is_object())
        for (const auto& id : c["path"].value("cis", Json::array())) {
          auto it = id.is_number_integer() ? names.find(id.get<long long>()) : names.end();
          steps.push_back(it != names.end() && !it->second.empty() ? it->second : id.dump());
        }
      row.push_back(Join(steps, " > "));
    }
    rows.push_back(row);
  }
  WriteRows(out, o.format, columns, rows, o.style);
  if (o.format == Format::kTable) {
    std::vector<std::string> seeds;
    for (const auto& s : answer.value("seeds", Json::array()))
      seeds.push_back(Field(s, "name") + " (" + Field(s, "id") + ")");
    std::vector<std::string> parts{
        std::to_string(rows.size()) + (rows.size() == 1 ? " CI " : " CIs ") +
        (args.direction == "depends_on" ? "depended on by " : "impacted by ") + Join(seeds, ", ")};
    std::vector<std::string> services;
    for (const auto& s : answer.value("services", Json::array()))
      services.push_back(Field(s, "name") + " (" + Field(s, "criticality") + ")");
    if (!services.empty()) parts.push_back("business services: " + Join(services, ", "));
    if (answer.value("depth_limited", false))
      parts.push_back(
          "stopped at depth " +
          (answer.contains("max_depth") ? answer["max_depth"].dump() : std::string("limit")) +
          "; --depth goes further");
    if (answer.contains("tx")) parts.push_back("tx " + answer["tx"].dump());
    Footer(out, parts);
  }
  out.flush();
  return kExitOk;
}

int ImportCommand(HttpClient& client, const ImportArgs& args, const CommandOutput& o) {
  std::stringstream body;
  if (args.file == "-") {
    body << std::cin.rdbuf();
  } else {
    std::ifstream in(args.file, std::ios::binary);
    if (!in) {
      *o.err << "cannot read " << args.file << std::endl;
      return kExitUsage;
    }
    body << in.rdbuf();
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!args.mapping_file.empty()) {
    std::ifstream in(args.mapping_file);
    if (!in) {
      *o.err << "cannot read " << args.mapping_file << std::endl;
      return kExitUsage;
    }
    std::stringstream m;
    m << in.rdbuf();
    std::string text = m.str();
    for (char& c : text)  // one header line: line breaks and other control characters as spaces
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    headers.emplace_back("X-Import-Mapping", text);
  }
  if (!args.change.empty()) headers.emplace_back("X-Change-Id", args.change);
  std::string target = "/v1/imports?format=" + UrlEncode(args.format) +
                       "&mode=" + (args.dry_run ? "dry-run" : "apply") +
                       (args.full ? "&full=true" : "");
  if (!args.source.empty()) target += "&source=" + UrlEncode(args.source);
  if (!args.mapping.empty()) target += "&mapping=" + UrlEncode(args.mapping);
  if (!args.cluster.empty()) target += "&cluster=" + UrlEncode(args.cluster);
  if (!args.account.empty()) target += "&account=" + UrlEncode(args.account);
  if (!args.region.empty()) target += "&region=" + UrlEncode(args.region);
  Json answer;
  int code = kExitOk;
  if (!Request(client, "POST", target, body.str(), "application/octet-stream", o, &answer, &code,
               headers))
    return code;
  std::ostream& out = *o.out;
  if (o.format == Format::kJson) {
    out << answer.dump() << "\n";
    return kExitOk;
  }
  // What it would change (a dry run) or changed: one row per CI or relationship written.
  Json columns = Json::array({"op", "id", "class", "name", "attributes"});
  Json rows = Json::array();
  for (const auto& c : answer.value("changes", Json::array())) {
    std::vector<std::string> attrs;
    for (const auto& a : c.value("attributes", Json::array())) {
      std::string before =
          a.contains("before") && !a["before"].is_null() ? LiteralText(a["before"]) + " -> " : "";
      attrs.push_back(Field(a, "attribute") + ": " + before +
                      LiteralText(a.value("after", Json())));
    }
    rows.push_back(Json::array({c.value("op", Json()), c.value("id", Json()),
                                c.contains("class") ? c["class"] : c.value("type", Json()),
                                c.value("name", Json()), Join(attrs, ", ")}));
  }
  if (args.dry_run || o.format == Format::kCsv) WriteRows(out, o.format, columns, rows, o.style);
  if (o.format != Format::kTable) return kExitOk;
  auto counts = [&](const char* what) {
    std::vector<std::string> parts;
    if (answer.contains(what) && answer[what].is_object())
      for (const auto& [k, v] : answer[what].items()) parts.push_back(v.dump() + " " + k);
    return Join(parts, ", ");
  };
  out << answer.value("format", Json(args.format)).get<std::string>() << " import from source '"
      << Field(answer, "source") << "'"
      << (args.dry_run ? ", dry run: nothing was applied"
          : answer.contains("tx") && answer["tx"].is_number()
              ? ", applied in tx " + answer["tx"].dump()
              : ": nothing to change")
      << (answer.value("full_scan", false) ? " (full scan)" : "") << "\n"
      << "CIs: " << counts("cis") << "\n"
      << "relationships: " << counts("relationships") << "\n";
  // Every list of the report that is not empty, one item a line; past the listed ones, how
  // many more the server counted.
  for (const char* list :
       {"coverage", "conflicts", "identity_conflicts", "merges", "skipped", "dangling"}) {
    const Json items = answer.value(list, Json::array());
    if (items.empty()) continue;
    out << list << ":\n";
    for (const auto& item : items) out << "  " << LiteralText(item) << "\n";
    const Json count = answer.value(std::string(list) + "_count", Json());
    if (count.is_number_unsigned() && count.get<size_t>() > items.size())
      out << "  ... and " << count.get<size_t>() - items.size() << " more\n";
  }
  out.flush();
  return kExitOk;
}

int BaselineDiffCommand(HttpClient& client, const DiffArgs& args, const CommandOutput& o) {
  std::string target = "/v1/baselines/" + UrlEncode(args.baseline) + "/diff?";
  std::string against = args.against;
  if (against.empty() || against == "now" || against == "current") {
    // the current state: no parameter
  } else if (against.size() >= 10 && std::isdigit(static_cast<unsigned char>(against[0])) &&
             against[4] == '-') {
    target += "as_of=" + UrlEncode(against) + "&";
  } else {
    target += "against=" + UrlEncode(against) + "&";
  }
  if (args.include_new) target += "include_new=true&";
  Json first, entries = Json::array();
  int code = kExitOk;
  for (long long offset = 0;;) {
    Json page;
    if (!Request(client, "GET", target + "limit=1000&offset=" + std::to_string(offset), "", "", o,
                 &page, &code))
      return code;
    if (first.is_null()) first = page;
    Json items = page.value("entries", Json::array());
    for (auto& e : items) entries.push_back(e);
    offset += static_cast<long long>(items.size());
    if (items.empty() || offset >= page.value("total", 0LL)) break;
  }
  std::ostream& out = *o.out;
  if (o.format == Format::kJson) {
    first["entries"] = entries;
    first.erase("offset");
    out << first.dump() << "\n";
    return kExitOk;
  }
  Json columns = Json::array({"what", "change", "id", "class", "name", "attributes"});
  Json rows = Json::array();
  for (const auto& e : entries) {
    std::vector<std::string> attrs;
    for (const auto& a : e.value("attributes", Json::array()))
      attrs.push_back(Field(a, "attribute") + ": " + LiteralText(a.value("before", Json())) +
                      " -> " + LiteralText(a.value("after", Json())));
    std::string name = Field(e, "name");
    if (name.empty() && e.contains("from")) name = Field(e, "from") + " -> " + Field(e, "to");
    rows.push_back(Json::array(
        {e.value("what", Json()), e.value("change", Json()), e.value("id", Json()),
         e.contains("class") ? e["class"] : e.value("type", Json()), name, Join(attrs, ", ")}));
  }
  WriteRows(out, o.format, columns, rows, o.style);
  if (o.format == Format::kTable) {
    const Json summary = first.value("summary", Json::object());
    auto part = [&](const char* what) {
      const Json s = summary.value(what, Json::object());
      return std::string(what) + " " + s.value("added", Json(0)).dump() + " added, " +
             s.value("removed", Json(0)).dump() + " removed, " +
             s.value("changed", Json(0)).dump() + " changed";
    };
    Footer(out, {"baseline " + Field(first, "baseline") + " (tx " + Field(first, "from_tx") +
                     ") against " + Field(first, "against") +
                     (first.contains("to_tx") && !first["to_tx"].is_null()
                          ? " (tx " + Field(first, "to_tx") + ")"
                          : ""),
                 part("cis"), part("relationships")});
  }
  out.flush();
  return kExitOk;
}

int ChangeShowCommand(HttpClient& client, const std::string& id_text, const CommandOutput& o) {
  std::string id = id_text;
  if (id.size() > 4 && (id.compare(0, 4, "CHG-") == 0 || id.compare(0, 4, "chg-") == 0))
    id = id.substr(4);
  if (!IsNumber(id)) {
    *o.err << "change show: '" << id_text << "' is not a change id (42 or CHG-42)" << std::endl;
    return kExitUsage;
  }
  Json change;
  int code = kExitOk;
  if (!Request(client, "GET", "/v1/changes/" + id, "", "", o, &change, &code)) return code;
  std::ostream& out = *o.out;
  if (o.format == Format::kJson) {
    out << change.dump() << "\n";
    return kExitOk;
  }
  // The affected CIs by name.
  std::vector<std::string> affected;
  Json ids = change.value("affected", Json::array());
  Json named;
  if (!ids.empty() &&
      !QueryRows(client,
                 "MATCH (n) WHERE id(n) IN $ids RETURN id(n), labels(n)[0], n.name ORDER BY id(n)",
                 Json{{"ids", ids}}, o, &named, &code))
    return code;
  std::map<long long, std::string> label;
  if (named.is_array())
    for (const auto& r : named)
      label[r[0].get<long long>()] = ValueText(r[2]) + " (" + ValueText(r[1]) + ")";
  for (const auto& a : ids) {
    auto it = a.is_number_integer() ? label.find(a.get<long long>()) : label.end();
    affected.push_back(a.dump() + (it != label.end() ? " " + it->second : " (retired)"));
  }
  std::vector<std::string> next;
  for (const auto& t : change.value("allowed_transitions", Json::array()))
    next.push_back(ValueText(t));
  auto line = [&](const std::string& key, const std::string& value) {
    if (!value.empty())
      out << key << std::string(key.size() < 12 ? 12 - key.size() : 1, ' ') << value << "\n";
  };
  out << Field(change, "ref") << "  " << Field(change, "title") << "\n";
  line("state:",
       Field(change, "state") + (next.empty() ? "" : " (next: " + Join(next, ", ") + ")"));
  line("type:", Field(change, "type"));
  line("risk:", Field(change, "risk"));
  std::string start = Field(change, "planned_start"), end = Field(change, "planned_end");
  if (!start.empty() || !end.empty()) line("planned:", start + " .. " + end);
  line("requester:", Field(change, "requester"));
  line("description:", Field(change, "description"));
  line("affected:", Join(affected, ", "));
  line("version:", Field(change, "version"));
  const Json assessments = change.value("assessments", Json::array());
  if (!assessments.empty()) {
    const Json& a = assessments.back();
    std::vector<std::string> services;
    for (const auto& s : a.value("services", Json::array()))
      services.push_back(Field(s, "name") + " (" + Field(s, "criticality") + ")");
    const Json risk = a.value("risk", Json::object());
    out << "assessment " << Field(a, "number") << " of " << assessments.size() << " (tx "
        << Field(a, "tx") << ", " << Field(a, "time") << "): " << Field(a, "impacted_count")
        << " impacted, " << Field(a, "degraded_count") << " degraded; risk " << Field(risk, "score")
        << " " << Field(risk, "level") << "\n";
    if (!services.empty()) out << "  business services: " << Join(services, ", ") << "\n";
    if (risk.contains("explanation")) out << "  " << Field(risk, "explanation") << "\n";
  }
  Json rows = Json::array();
  for (const auto& j : change.value("journal", Json::array()))
    rows.push_back(Json::array({Field(j, "time"), Field(j, "actor"), Field(j, "kind"),
                                Field(j, "from"), Field(j, "to"), Field(j, "comment")}));
  if (!rows.empty()) {
    out << "journal:\n";
    WriteRows(out, o.format, Json::array({"time", "actor", "kind", "from", "to", "comment"}), rows,
              o.style);
  }
  out.flush();
  return kExitOk;
}

}  // namespace cmdb::shell
