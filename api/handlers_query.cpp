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
  if (std::optional<ExportFormat> format = ExportFormatOf(req)) {
    return StreamQuery(std::move(request), *format);
  }
  auto result = engine_.Run(request);
  if (!result.ok()) return ErrorResponse(result.status());
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

// A query's rows rendered as CSV (a header of the column names, a string as its text, anything
// else as its JSON, null as nothing) or NDJSON (one object per row, column name -> value) into
// a buffer that Flush hands to the answer's writer. Used by one query on its thread.
class ExportWriter : public gql::RowStream {
 public:
  static constexpr size_t kChunk = 64 << 10;  // bytes sent at once

  ExportWriter(ExportFormat format, const HttpResponse::Writer& write)
      : format_(format), write_(write) {}

  void Columns(const std::vector<std::string>& columns) override {
    columns_ = columns;
    if (format_ != ExportFormat::kCsv) return;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i) out_ += ',';
      CsvField(out_, columns_[i]);
    }
    out_ += "\r\n";
  }
  void Row(std::vector<QValue>& row) override {
    if (format_ == ExportFormat::kCsv) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) out_ += ',';
        if (row[i].kind() == K::kString) {
          CsvField(out_, row[i].as_string());
        } else if (!row[i].is_null()) {
          CsvField(out_, QToJson(row[i]).dump());
        }
      }
      out_ += "\r\n";
    } else {
      Json line = Json::object();
      for (size_t i = 0; i < row.size() && i < columns_.size(); ++i)
        line[columns_[i]] = QToJson(row[i]);
      out_ += line.dump();
      out_ += '\n';
    }
  }
  bool WantsFlush() const override { return out_.size() >= kChunk; }
  bool Flush() override {
    if (out_.empty()) return true;
    sent_ = true;
    bool ok = write_(out_);
    out_.clear();
    return ok;
  }
  // The query failed after rows went out: NDJSON gets a last line {"error": {...}} (as an
  // error answer's body); CSV nothing (the cut-off answer says it).
  void Fail(const Status& st) {
    if (format_ == ExportFormat::kNdjson) {
      out_ += ErrorJson(st).dump();
      out_ += '\n';
    }
  }
  // Whether any byte went to the writer.
  bool sent() const { return sent_; }

 private:
  ExportFormat format_;
  const HttpResponse::Writer& write_;
  std::vector<std::string> columns_;
  std::string out_;
  bool sent_ = false;
};

// Gives back a query admission slot when the last copy of the stream that holds it goes.
struct AdmissionSlot {
  std::function<void()> release;
  ~AdmissionSlot() { release(); }
};

}  // namespace

HttpResponse Api::StreamQuery(gql::QueryRequest request, ExportFormat format) {
  HttpResponse r;
  r.content_type =
      format == ExportFormat::kCsv ? "text/csv; charset=utf-8" : "application/x-ndjson";
  // Dispatch gives its slot back when the handler returns; the query runs later, in the stream.
  running_queries_.fetch_add(1);
  auto slot = std::make_shared<AdmissionSlot>(AdmissionSlot{[this] { ReleaseQuery(); }});
  auto early = std::make_shared<HttpResponse>();  // the answer when it fails before any byte
  auto shared = std::make_shared<gql::QueryRequest>(std::move(request));
  gql::QueryEngine& engine = engine_;
  HistogramFamily& seconds = api_metrics_.query_seconds;
  r.stream = [&engine, &seconds, shared, format, early, slot](const HttpResponse::Writer& write) {
    ExportWriter out(format, write);
    shared->stream = &out;
    auto start = std::chrono::steady_clock::now();
    Result<gql::QueryResult> result = engine.Run(*shared);
    seconds.With({}).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    shared->stream = nullptr;
    if (result.ok()) return out.Flush();
    if (!out.sent()) {
      *early = ErrorResponse(result.status());
      return false;
    }
    out.Fail(result.status());
    out.Flush();
    return false;  // no last chunk: the answer is incomplete
  };
  r.fallback = [early] { return *early; };
  return r;
}

}  // namespace cmdb::api
