// POST /v1/query: the graph query language over HTTP (and schema DDL through the same door).
#include "api/api.hpp"
#include "api/ddl_text.hpp"
#include "cmdb/time_util.hpp"
#include "query/ddl/ddl_parser.hpp"
#include "query/engine.hpp"
#include "query/runtime/temporal.hpp"

namespace cmdb::api {
namespace {

using gql::QValue;
using K = QValue::Kind;

Json QToJson(const QValue& v);

Json NodeJson(const gql::NodeRef& n) {
  if (!n.record) return Json{{"id", n.id}, {"class", nullptr}, {"attributes", Json::object()}};
  return Json{{"id", n.id}, {"class", n.record->class_name}, {"attributes", ToJson(n.record->attrs)}};
}

Json RelJson(const gql::RelRef& r) {
  if (!r.record) return Json{{"id", r.id}, {"type", nullptr}, {"from", nullptr}, {"to", nullptr}, {"attributes", Json::object()}};
  return Json{{"id", r.id}, {"type", r.record->type}, {"from", r.record->from}, {"to", r.record->to},
              {"attributes", ToJson(r.record->attrs)}};
}

Json QToJson(const QValue& v) {
  switch (v.kind()) {
    case K::kNull: return nullptr;
    case K::kBool: return v.as_bool();
    case K::kInt: return v.as_int();
    case K::kFloat: return v.as_float();
    case K::kString: return v.as_string();
    case K::kList: {
      Json a = Json::array();
      for (const auto& e : v.as_list()) a.push_back(QToJson(e));
      return a;
    }
    case K::kMap: {
      Json o = Json::object();
      for (const auto& [k, e] : v.as_map()) o[k] = QToJson(e);
      return o;
    }
    case K::kNode: return NodeJson(v.as_node());
    case K::kRel: return RelJson(v.as_rel());
    case K::kPath: {
      Json nodes = Json::array(), rels = Json::array();
      for (const auto& n : v.as_path().nodes) nodes.push_back(NodeJson(n));
      for (const auto& r : v.as_path().rels) rels.push_back(RelJson(r));
      return Json{{"nodes", nodes}, {"relationships", rels}};
    }
    case K::kTemporal: return gql::FormatTemporal(v.as_temporal());  // ISO-8601 text
  }
  return nullptr;
}

QValue QFromJson(const Json& j) {
  switch (j.type()) {
    case Json::value_t::boolean: return QValue(j.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return QValue(j.get<int64_t>());
    case Json::value_t::number_float: return QValue(j.get<double>());
    case Json::value_t::string: return QValue(j.get<std::string>());
    case Json::value_t::array: {
      gql::QList l;
      for (const auto& e : j) l.push_back(QFromJson(e));
      return QValue(std::move(l));
    }
    case Json::value_t::object: {
      gql::QMap m;
      for (const auto& [k, e] : j.items()) m[k] = QFromJson(e);
      return QValue(std::move(m));
    }
    default: return QValue();
  }
}

}  // namespace

HttpResponse Api::Query(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object() || !(*body)["query"].is_string())
    return ErrorResponse(Status::Invalid("body must be {\"query\": \"MATCH ...\", \"parameters\": {...}}"));
  if (Status st = CheckFields(*body, {"query", "parameters", "timeout_ms", "change"}, ""); !st.ok())
    return ErrorResponse(st);
  std::string text = (*body)["query"];
  if (gql::IsDdl(text)) {
    if (auto denied = call.Require(Permission::kAdmin)) return *denied;
    std::shared_ptr<const Schema> current = db_.schema();
    Schema next = *current;
    Status st = ddl::ApplyDdl(text, next);
    if (!st.ok()) return ErrorResponse(st);
    if (SameSchema(next, *current))  // a change that changes nothing writes nothing
      return JsonResponse(200, Json{{"columns", Json::array()}, {"rows", Json::array()},
                                    {"stats", {{"rows", 0}, {"schema_version", current->version()},
                                               {"tx", nullptr}, {"changed", false}}}});
    auto tx = db_.ChangeSchema(MetaFor(req, who, "schema"), std::move(next));
    if (!tx.ok()) return ErrorResponse(tx.status());
    return JsonResponse(200, Json{{"columns", Json::array()}, {"rows", Json::array()},
                                  {"stats", {{"rows", 0}, {"schema_version", tx->schema_version}, {"tx", tx->id},
                                             {"changed", true}}}});
  }
  gql::QueryRequest request;
  request.text = std::move(text);
  request.meta = MetaFor(req, who, "query");
  if (body->contains("change")) {  // the change reference as a field, like X-Change-Id
    if (!(*body)["change"].is_string()) return ErrorResponse(Status::Invalid("\"change\" must be a change reference such as \"CHG-12\""));
    request.meta.change_ref = (*body)["change"];
  }
  request.allow_writes = call.Allows(Permission::kWriteCis);
  request.baselines = &baselines_;
  if (body->contains("parameters")) {
    if (!(*body)["parameters"].is_object()) return ErrorResponse(Status::Invalid("\"parameters\" must be an object"));
    for (const auto& [k, v] : (*body)["parameters"].items()) request.parameters[k] = QFromJson(v);
  }
  if (body->contains("timeout_ms")) {
    if (!(*body)["timeout_ms"].is_number_integer()) return ErrorResponse(Status::Invalid("\"timeout_ms\" must be an integer"));
    request.timeout_ms = (*body)["timeout_ms"].get<int64_t>();
  }
  auto result = engine_.Run(request);
  if (!result.ok()) return ErrorResponse(result.status());
  if (std::optional<ExportFormat> format = ExportFormatOf(req)) {
    return ExportRows(std::make_shared<gql::QueryResult>(std::move(*result)), *format);
  }
  Json rows = Json::array();
  for (const auto& row : result->rows) {
    Json r = Json::array();
    for (const auto& v : row) r.push_back(QToJson(v));
    rows.push_back(std::move(r));
  }
  const auto& s = result->stats;
  Json stats{{"rows", result->rows.size()},
             {"elapsed_ms", result->elapsed_ms},
             {"truncated", result->truncated},
             {"nodes_created", s.nodes_created},
             {"nodes_deleted", s.nodes_deleted},
             {"relationships_created", s.relationships_created},
             {"relationships_deleted", s.relationships_deleted},
             {"properties_set", s.properties_set},
             {"depth_capped", s.depth_capped},
             {"tx", result->tx ? Json(result->tx) : Json(nullptr)}};
  if (result->as_of_tx) stats["as_of_tx"] = result->as_of_tx;
  Json out{{"columns", result->columns}, {"rows", rows}, {"stats", stats}};
  if (result->mode != gql::QueryMode::kRun) out["plan"] = result->plan;  // EXPLAIN, PROFILE
  return JsonResponse(200, out);
}

namespace {

// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line end.
void CsvCell(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

// The rows of a query as CSV (a header of the column names, a string as its text, anything else
// as its JSON) or NDJSON (one object per row, column name -> value), written in chunks as they
// are rendered. The engine has materialized the rows already (within its row and byte budget).
HttpResponse Api::ExportRows(std::shared_ptr<gql::QueryResult> result, ExportFormat format) {
  HttpResponse r;
  r.content_type = format == ExportFormat::kCsv ? "text/csv; charset=utf-8" : "application/x-ndjson";
  r.headers.emplace_back("X-Cmdb-Truncated", result->truncated ? "true" : "false");
  r.stream = [result, format](const HttpResponse::Writer& write) {
    std::string out;
    const std::vector<std::string>& cols = result->columns;
    if (format == ExportFormat::kCsv) {
      for (size_t i = 0; i < cols.size(); ++i) {
        if (i) out += ',';
        CsvCell(out, cols[i]);
      }
      out += "\r\n";
    }
    for (const auto& row : result->rows) {
      if (format == ExportFormat::kCsv) {
        for (size_t i = 0; i < row.size(); ++i) {
          if (i) out += ',';
          Json v = QToJson(row[i]);
          if (v.is_string()) CsvCell(out, v.get<std::string>());
          else if (!v.is_null()) CsvCell(out, v.dump());
        }
        out += "\r\n";
      } else {
        Json line = Json::object();
        for (size_t i = 0; i < row.size() && i < cols.size(); ++i) line[cols[i]] = QToJson(row[i]);
        out += line.dump();
        out += '\n';
      }
      if (out.size() >= (64 << 10)) {
        if (!write(out)) return false;
        out.clear();
      }
    }
    return write(out);
  };
  return r;
}

}  // namespace cmdb::api
