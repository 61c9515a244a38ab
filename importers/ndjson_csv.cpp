// Our own NDJSON (the bulk format, read by the bulk reader) and CSV with a mapping file.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "bulk/bulk.hpp"
#include "bulk/bulk_reader.hpp"
#include "cmdb/suggest.hpp"
#include "cmdb/text_position.hpp"
#include "cmdb/utf8.hpp"
#include "importers/formats.hpp"
#include "importers/import.hpp"
#include "importers/json_util.hpp"

namespace cmdb::importers {
namespace {

// Turns the lines the bulk reader accepted into candidates, named by their index in out.cis: a
// "ci" line is a candidate (with "id": that CI, whatever identification would find); an endpoint
// naming a CI by id or by {"class", "key"} a reference-only candidate, one per CI named however
// many lines name it; a "rel" line a candidate relationship. The reader resolves refs, so a
// candidate's ref is its location ("line 12") or what it names ("id:42", "key:Rack:{...}").
//
// With a database (its committed state, read through one view per batch of lines, yielding to
// writers as reads do), the sink refuses what the
// bulk loader's sink (bulk.cpp) refuses when it stages a line, in the same order and with the
// same texts, so that the line is refused by the reader (and its ref left undefined) as POST
// /v1/bulk refuses it: a CI named by
// "id" must exist, keep its class and take the attributes given; a {"class", "key"} endpoint
// must name a CI (of the graph, or a new CI of an earlier line); a relationship's type must exist
// and an id endpoint name a CI (Txn::CreateRel's texts). Conflicts of KEY and UNIQUE values and
// the relationship rules of the schema are left to the import's steps (identification decides
// which CI a line names), whose errors keep their codes (SourceErrorOf).
class CandidateSink : public bulk::BulkSink {
 public:
  CandidateSink(const Schema& schema, const Database* db, CandidateSet& out)
      : schema_(schema), db_(db), out_(out) {}

  Result<CiId> Ci(bulk::BulkLine& line) override {
    if (db_ && line.has_id) {
      const CiRecord* ci = Graph().FindCi(*line.id);
      CMDB_RETURN_IF_ERROR(bulk::CheckNamedCi(ci, *line.id, line.cls));
      AttrMap after = ci->attrs;  // as Txn::UpdateCi checks the patch
      for (const auto& [k, v] : *line.attrs) after.Set(k, v);
      CMDB_RETURN_IF_ERROR(schema_.ValidateCi(ci->class_name, after));
    }
    if (db_ && !line.has_id && line.cls) {  // a new CI's KEY entry, for later key endpoints
      if (auto key = KeyIndexKey(schema_, *line.cls, *line.attrs)) new_keys_.insert(*key);
    }
    Candidate c;
    c.location = "line " + std::to_string(line.line_no);
    c.ref = c.location;
    if (line.has_id) c.id = *line.id;
    if (line.cls) c.class_name = *line.cls;
    c.attrs = std::move(*line.attrs);
    out_.cis.push_back(std::move(c));
    return static_cast<CiId>(out_.cis.size() - 1);
  }

  Result<CiId> Endpoint(const bulk::BulkLine& line, const bulk::BulkEndpoint& e,
                        const char* field) override {
    Candidate c;
    c.location = "line " + std::to_string(line.line_no);
    c.reference_only = true;
    if (e.kind == bulk::BulkEndpoint::Kind::kId) {
      c.id = e.id;
      c.ref = "id:" + std::to_string(e.id);
    } else {
      if (db_ && !(e.index_key && (Graph().LookupIndex(*e.index_key, schema_) ||
                                   new_keys_.count(*e.index_key))))
        return bulk::NoCiWithKey(e, field);
      c.class_name = e.name;
      c.attrs = e.key;
      c.ref = "key:" + e.name + ":" + JsonText(bulk::ToJson(e.key));
    }
    auto [at, added] = named_.emplace(c.ref, out_.cis.size());
    if (added) out_.cis.push_back(std::move(c));
    return static_cast<CiId>(at->second);
  }

  Status Rel(bulk::BulkLine& line, CiId from, CiId to) override {
    if (db_) {
      if (!schema_.open_mode() && !schema_.FindRelType(*line.type))
        return Status::Schema(schema_.UnknownRelTypeMessage(*line.type)).With("type", *line.type);
      CMDB_RETURN_IF_ERROR(EndpointExists(line.from, "source"));
      CMDB_RETURN_IF_ERROR(EndpointExists(line.to, "target"));
    }
    out_.rels.push_back({*line.type, out_.cis[from].ref, out_.cis[to].ref, std::move(*line.attrs),
                         "line " + std::to_string(line.line_no)});
    auto ref = [](const bulk::BulkEndpoint& e) {
      return e.kind == bulk::BulkEndpoint::Kind::kRef ? e.name : std::string();
    };
    out_.rel_refs.push_back({ref(line.from), ref(line.to), static_cast<size_t>(from),
                             static_cast<size_t>(to)});
    return Status::Ok();
  }

 void BatchDone() override { view_.reset(); }

 private:
  // The committed graph, through a view held until the batch ends (BatchDone); no pointer into
  // it is kept from one call to the next, so it may yield to a writer at every call.
  const cmdb::Graph& Graph() {
    if (!view_) view_.emplace(db_->Read());
    else view_->Yield();
    return view_->graph();
  }

  // An id endpoint names a CI of the graph (Txn::CreateRel's text: the loader's sink leaves the
  // check to it).
  Status EndpointExists(const bulk::BulkEndpoint& e, const char* role) {
    if (e.kind != bulk::BulkEndpoint::Kind::kId || Graph().FindCi(e.id))
      return Status::Ok();
    return Status::NotFound(std::string("relationship ") + role + " CI " + std::to_string(e.id) +
                            " does not exist");
  }

  const Schema& schema_;
  const Database* db_;
  std::optional<ReadView> view_;
  CandidateSet& out_;
  std::unordered_map<std::string, size_t> named_;  // a reference-only candidate's ref -> index
  std::unordered_set<std::string> new_keys_;       // KEY index entries of new CIs' lines
};

}  // namespace

Status ParseNdjson(std::string_view text, const Schema& schema, const Database* db,
                   CandidateSet& out) {
  CandidateSink sink(schema, db, out);
  out.covers.push_back({kRootClass, "", Value()});  // a full scan: the file could hold anything
  out.strict_types = true;                          // a bad value refuses its line, as in bulk
  bulk::BulkResult result;
  result.max_listed_errors = SIZE_MAX;  // every refused line, as the other formats list them
  CMDB_RETURN_IF_ERROR(
      bulk::ReadBulk(bulk::StringReader(text), text.size(), schema, sink, result));
  for (const bulk::BulkError& e : result.errors)
    out.errors.push_back(SourceErrorOf("line " + std::to_string(e.line), e.status));
  out.lines = result.lines;
  return Status::Ok();
}

namespace {

// The line number of an ndjson location ("line 12"; 0 for anything else).
int64_t LineOf(const std::string& location) {
  return location.rfind("line ", 0) == 0 ? std::stoll(location.substr(5)) : 0;
}

}  // namespace

Status NdjsonRefusal(const CandidateSet& set, const ImportReport& report,
                     std::vector<bulk::BulkError>& errors, int64_t& error_count) {
  std::map<int64_t, Status> by_line;  // the first error of each line
  for (const SourceError& e : report.errors) {
    Status st(e.code, e.message);
    for (const auto& [k, v] : e.details) st.With(k, v);
    by_line.emplace(LineOf(e.location), std::move(st));
  }
  // A load stages a line's CI before later lines use its ref; refused, the ref is undefined and
  // those lines are refused for naming it (their first such endpoint), whatever else they do.
  for (size_t i = 0; i < set.rels.size() && i < set.rel_refs.size(); ++i) {
    const CandidateSet::RefUse& use = set.rel_refs[i];
    for (auto [name, ci, field] : {std::tuple(&use.from, use.from_ci, "from"),
                                   std::tuple(&use.to, use.to_ci, "to")}) {
      if (name->empty() || !by_line.count(LineOf(set.cis[ci].location))) continue;
      by_line.insert_or_assign(LineOf(set.rels[i].location),
                               bulk::BulkUnknownRef(field, JsonText(Json(*name))));
      break;
    }
  }
  errors.clear();
  error_count = static_cast<int64_t>(by_line.size());
  for (auto& [line, st] : by_line) {
    if (errors.size() == bulk::BulkResult::kMaxListedErrors) break;
    errors.push_back({line, std::move(st)});
  }
  if (errors.empty()) return Status::Ok();
  return bulk::LinesRefused(errors.front(), error_count, set.lines);
}

namespace {

// Splits CSV text into records of fields (RFC 4180: quotes, doubled quotes, newlines in quotes).
// Returns an error naming the line of an unterminated quote.
Status SplitCsv(std::string_view text,
                std::vector<std::pair<size_t, std::vector<std::string>>>& rows) {
  std::vector<std::string> fields(1);
  bool quoted = false, any = false;
  size_t line = 1, record_line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        fields.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
      continue;
    }
    if (c == '"' && fields.back().empty())
      quoted = true, any = true;
    else if (c == ',')
      fields.emplace_back(), any = true;
    else if (c == '\r')
      continue;
    else if (c == '\n') {
      if (any || !fields.back().empty()) rows.emplace_back(record_line, std::move(fields));
      fields.assign(1, "");
      any = false;
      record_line = ++line;
    } else {
      fields.back() += c, any = true;
    }
  }
  if (quoted)
    return Status::Invalid("malformed CSV: the quoted field opened on line " +
                           std::to_string(record_line) + " never ends")
        .With("line", static_cast<int64_t>(record_line));
  if (any || !fields.back().empty()) rows.emplace_back(record_line, std::move(fields));
  return Status::Ok();
}

// A CSV cell as a value: empty is null; integers and decimals are numbers, true/false booleans.
Value CellValue(const std::string& s, const std::string& type) {
  if (s.empty()) return Value();
  if (type == "string") return Value(s);
  char* end = nullptr;
  if (type == "int" ||
      (type.empty() && s.find_first_not_of("-0123456789") == std::string::npos && s != "-")) {
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (*end == 0) return Value(static_cast<int64_t>(v));
  }
  if (type == "float") {
    double d = std::strtod(s.c_str(), &end);
    if (*end == 0) return Value(d);
  }
  if (type == "bool" || type.empty()) {
    if (s == "true") return Value(true);
    if (s == "false") return Value(false);
  }
  if (type == "us_date") {  // M/D/YY or M/D/YYYY -> YYYY-MM-DD (two-digit years are 20YY)
    int m = 0, d = 0, y = 0;
    char tail = 0;
    if (std::sscanf(s.c_str(), "%d/%d/%d%c", &m, &d, &y, &tail) == 3 && m >= 1 && m <= 12 &&
        d >= 1 && d <= 31 && y >= 0) {
      if (y < 100) y += 2000;
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
      return Value(std::string(buf));
    }
    return Value(s);  // left for the schema to refuse with its message
  }
  if (type == "list") {
    ValueList items;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ';');) items.emplace_back(item);
    return Value(std::move(items));
  }
  return Value(s);
}

// The column types CellValue knows ("" is the default).
const std::vector<std::string>& ColumnTypes() {
  static const std::vector<std::string> kTypes = {"string", "int", "float", "bool", "list", "us_date"};
  return kTypes;
}

// Refuses what a mapping names but nothing reads (a typo must not be ignored): unknown members of
// the mapping, of a column's {"attribute", "type"} and of a relationship, an unknown column type,
// a direction other than "in" or "out" and a "create_missing" that is not a boolean.
Status CheckMappingFields(const Json& m) {
  auto invalid = [](const std::string& message, const std::string& field) {
    return Status::Invalid(message).With("field", field);
  };
  CMDB_RETURN_IF_ERROR(
      CheckJsonFields(m, {"_comment", "class", "columns", "relationships"}, "mapping"));
  for (const auto& [name, spec] : m["columns"].items()) {
    std::string where = "mapping.columns." + name;
    CMDB_RETURN_IF_ERROR(CheckJsonFields(spec, {"attribute", "type"}, where));
    if (!spec.is_object() || !spec.contains("type")) continue;
    const Json& type = spec["type"];
    if (!type.is_string() || std::find(ColumnTypes().begin(), ColumnTypes().end(),
                                       type.get<std::string>()) == ColumnTypes().end()) {
      std::string given = JsonText(type), list;
      for (const auto& t : ColumnTypes()) list += (list.empty() ? "" : ", ") + t;
      return invalid("unknown column type " + given + " in \"" + where + "\"" +
                         (type.is_string() ? DidYouMean(type.get<std::string>(), ColumnTypes()) : "") +
                         "; types: " + list,
                     where + ".type");
    }
  }
  if (m.contains("relationships") && m["relationships"].is_array()) {
    for (size_t i = 0; i < m["relationships"].size(); ++i) {
      const Json& r = m["relationships"][i];
      std::string where = "mapping.relationships[" + std::to_string(i) + "]";
      CMDB_RETURN_IF_ERROR(CheckJsonFields(
          r, {"column", "type", "class", "key", "direction", "create_missing"}, where));
      if (!r.is_object()) continue;
      if (r.contains("direction") &&
          !(r["direction"] == Json("in") || r["direction"] == Json("out")))
        return invalid("\"" + where + ".direction\" must be \"in\" or \"out\", not " +
                           JsonText(r["direction"]),
                       where + ".direction");
      if (r.contains("create_missing") && !r["create_missing"].is_boolean())
        return invalid("\"" + where + ".create_missing\" must be true or false, not " +
                           JsonText(r["create_missing"]),
                       where + ".create_missing");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ParseCsv(std::string_view text, const std::string& mapping_text, CandidateSet& out) {
  if (mapping_text.empty())
    return Status::Invalid(
               "CSV imports need a mapping: {\"class\": ..., \"columns\": {\"<column>\": "
               "\"<attribute>\"}, ...}")
        .With("field", "mapping");
  auto mapping = ParseJson(mapping_text, "CSV mapping");
  if (!mapping.ok()) return mapping.status();
  const Json& m = *mapping;
  if (!m.is_object() || Str(m, "class").empty() || !m.contains("columns") ||
      !m["columns"].is_object())
    return Status::Invalid(
               "the CSV mapping needs \"class\" and \"columns\" ({\"<column>\": \"<attribute>\" or "
               "{\"attribute\", \"type\"}})")
        .With("field", "mapping");
  CMDB_RETURN_IF_ERROR(CheckMappingFields(m));
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
  if (auto bad = FirstInvalidUtf8(text)) {  // the write path refuses it too; here with a position
    auto [line, column] = PositionAt(text, *bad);
    return Status::Invalid("the CSV file is not valid UTF-8 at line " + std::to_string(line) +
                           ", column " + std::to_string(column) +
                           " (convert it, e.g. iconv -f latin1 -t utf-8)")
        .With("line", line)
        .With("column", column);
  }
  std::vector<std::pair<size_t, std::vector<std::string>>> rows;
  CMDB_RETURN_IF_ERROR(SplitCsv(text, rows));
  if (rows.empty())
    return Status::Invalid("the CSV file is empty (a header line is expected)")
        .With("line", int64_t(1));
  const auto& header = rows[0].second;
  auto column = [&](const std::string& name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  struct Col {
    int index;
    std::string attr, type;
  };
  std::vector<Col> cols;
  for (const auto& [name, spec] : m["columns"].items()) {
    int idx = column(name);
    if (idx < 0)
      return Status::Invalid("the mapping names column '" + name +
                             "', which the CSV header does not have")
          .With("line", int64_t(1));
    if (spec.is_string())
      cols.push_back({idx, spec.get<std::string>(), ""});
    else if (spec.is_object() && !Str(spec, "attribute").empty())
      cols.push_back({idx, Str(spec, "attribute"), Str(spec, "type")});
    else
      return Status::Invalid("mapping of column '" + name +
                             "' must be an attribute name or {\"attribute\", \"type\"}")
          .With("field", "mapping");
  }
  struct RelCol {
    int index;
    std::string type, target_class, target_attr;
    bool outgoing, create;
  };
  std::vector<RelCol> rel_cols;
  if (m.contains("relationships")) {
    if (!m["relationships"].is_array())
      return Status::Invalid("\"relationships\" must be a list").With("field", "mapping");
    for (const Json& r : m["relationships"]) {
      int idx = column(Str(r, "column"));
      if (idx < 0 || Str(r, "type").empty() || Str(r, "class").empty())
        return Status::Invalid(
                   "each relationship mapping needs an existing \"column\", a \"type\" and the "
                   "target \"class\"")
            .With("field", "mapping");
      rel_cols.push_back({idx, Str(r, "type"), Str(r, "class"),
                          Str(r, "key").empty() ? "name" : Str(r, "key"),
                          Str(r, "direction") != "in", r.value("create_missing", false)});
    }
  }
  std::string cls = Str(m, "class");
  std::unordered_set<std::string> targets;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& [line, fields] = rows[r];
    std::string where = "line " + std::to_string(line);
    if (fields.size() != header.size()) {
      out.errors.push_back({where, "has " + std::to_string(fields.size()) +
                                       " fields, the header has " + std::to_string(header.size())});
      continue;
    }
    Candidate c;
    c.class_name = cls;
    c.ref = where;
    c.location = where;
    AttrMap::Builder attrs;
    for (const Col& col : cols) {
      Value v = CellValue(fields[col.index], col.type);
      if (!v.is_null()) attrs.Add(col.attr, std::move(v));  // an empty cell sets nothing
    }
    c.attrs = attrs.Build();
    for (const RelCol& rc : rel_cols) {
      const std::string& target = fields[rc.index];
      if (target.empty()) continue;
      Candidate t;
      t.class_name = rc.target_class;
      t.attrs.Set(rc.target_attr, Value(target));
      t.ref = "key:" + rc.target_class + ":" + rc.target_attr + "=" + target;
      t.location = where + ", column '" + header[rc.index] + "'";
      t.reference_only = !rc.create;
      if (rc.create) t.attrs.Set("name", Value(target));
      CandidateRel rel{
          rc.type, rc.outgoing ? c.ref : t.ref, rc.outgoing ? t.ref : c.ref, {}, t.location};
      if (targets.insert(t.ref).second) out.cis.push_back(std::move(t));
      out.rels.push_back(std::move(rel));
    }
    out.cis.push_back(std::move(c));
  }
  // A full scan covers the rows' class: a target a column names (created when missing) is not
  // listed whole by the file, so the targets no row names any more are not stale.
  out.covers.push_back({cls, "", Value()});
  out.strict_types = true;  // a file made for the mapping: a bad value refuses its line
  return Status::Ok();
}

}  // namespace cmdb::importers
