// Handlers for CIs and relationships.
#include <algorithm>
#include <cstdint>
#include <queue>

#include "api/api.hpp"
#include "cmdb/past_graph.hpp"
#include "cmdb/time_util.hpp"

namespace cmdb::api {
namespace {

HttpResponse WithETag(HttpResponse r, int64_t version) {
  r.headers.emplace_back("ETag", "\"" + std::to_string(version) + "\"");
  return r;
}

// The text a query-string filter is compared with.
std::string FilterText(const Value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return v.ToLiteral();
}

bool Matches(const Value& v, const std::string& want) {
  if (v.is_list()) {
    return std::any_of(v.as_list().begin(), v.as_list().end(),
                       [&](const Value& e) { return FilterText(e) == want; });
  }
  return !v.is_null() && FilterText(v) == want;
}

}  // namespace

HttpResponse Api::PostCi(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object() || !body->contains("class") || !(*body)["class"].is_string())
    return ErrorResponse(Status::Invalid("body must be {\"class\": \"...\", \"attributes\": {...}}"));
  if (Status st = CheckFields(*body, {"class", "attributes"}, ""); !st.ok()) return ErrorResponse(st);
  auto attrs = AttrsFromJson(body->value("attributes", Json::object()), "attributes");
  if (!attrs.ok()) return ErrorResponse(attrs.status());
  std::string cls = (*body)["class"];
  CiRecord created;
  auto tx = db_.Write(MetaFor(req, who, "api"), [&](Txn& txn) -> Status {
    auto id = txn.CreateCi(cls, std::move(*attrs));
    if (!id.ok()) return id.status();
    created = *txn.GetCi(*id);
    return Status::Ok();
  });
  if (!tx.ok()) return ErrorResponse(tx.status());
  return WithETag(JsonResponse(201, CiToJson(created)), created.version);
}

HttpResponse Api::GetCi(const Call& call) {
  CiId id = call.id;
  {
    ReadView view = db_.Read();
    if (const CiRecord* ci = view.graph().FindCi(id)) return WithETag(JsonResponse(200, CiToJson(*ci)), ci->version);
  }
  auto latest = db_.store()->LatestCi(id);
  if (latest.ok() && *latest && (*latest)->retired)
    return ErrorResponse(Status::NotFound("CI " + std::to_string(id) + " was retired (deleted) in tx " +
                                          std::to_string((*latest)->valid_from) + "; its history remains")
                             .With("retired", true));
  return ErrorResponse(Status::NotFound("CI " + std::to_string(id) + " does not exist"));
}

HttpResponse Api::PatchCi(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  CiId id = call.id;
  auto expected = ParseIfMatch(req.Header("if-match"));
  if (!expected.ok()) return ErrorResponse(expected.status());
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  bool wrapped = body->is_object() && body->contains("attributes");
  const Json& attrs_json = wrapped ? (*body)["attributes"] : *body;
  std::optional<std::string> expected_class;
  if (wrapped) {
    if (Status st = CheckFields(*body, {"class", "attributes"}, ""); !st.ok()) return ErrorResponse(st);
    if (body->contains("class")) {
      if (!(*body)["class"].is_string())
        return ErrorResponse(Status::Invalid("\"class\" must be a string").With("field", "class"));
      expected_class = (*body)["class"].get<std::string>();
    }
  }
  auto patch = PatchFromJson(attrs_json, "attributes");
  if (!patch.ok()) return ErrorResponse(patch.status());
  CiRecord updated;
  auto tx = db_.Write(MetaFor(req, who, "api"), [&](Txn& txn) -> Status {
    if (expected_class) CMDB_RETURN_IF_ERROR(CheckClassOf(txn, id, *expected_class));
    CMDB_RETURN_IF_ERROR(txn.UpdateCi(id, *patch, *expected));
    updated = *txn.GetCi(id);
    return Status::Ok();
  });
  if (!tx.ok()) return ErrorResponse(tx.status());
  return WithETag(JsonResponse(200, CiToJson(updated)), updated.version);
}

HttpResponse Api::DeleteCi(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  CiId id = call.id;
  auto expected = ParseIfMatch(req.Header("if-match"));
  if (!expected.ok()) return ErrorResponse(expected.status());
  int64_t rels_ended = 0;
  auto tx = db_.Write(MetaFor(req, who, "api"), [&](Txn& txn) -> Status {
    rels_ended = static_cast<int64_t>(txn.RelsOf(id).size());
    return txn.RetireCi(id, *expected);
  });
  if (!tx.ok()) return ErrorResponse(tx.status());
  return JsonResponse(200, Json{{"id", id}, {"retired", true}, {"tx", tx->id},
                                {"relationships_ended", rels_ended}});
}

HttpResponse Api::ListCis(const Call& call) {
  const HttpRequest& req = call.req;
  if (std::optional<ExportFormat> format = ExportFormatOf(req)) return ExportCis(call, *format);
  auto limit = PageLimit(req);
  if (!limit.ok()) return ErrorResponse(limit.status());
  CiId after = 0;
  if (std::string c = req.Param("cursor"); !c.empty()) {
    auto v = ParseId(c, "cursor");
    if (!v.ok()) return ErrorResponse(v.status());
    after = *v;
  }
  std::vector<std::pair<std::string, std::string>> filters;
  for (const auto& [k, v] : req.query) {
    if (k.rfind("where.", 0) == 0) filters.emplace_back(k.substr(6), v);
  }
  ReadView view = db_.Read();
  const Graph& g = view.graph();
  std::string cls = req.Param("class");
  std::vector<std::span<const CiId>> extents;
  if (cls.empty()) {
    for (const auto& c : g.ClassesInUse()) extents.push_back(g.Extent(c));
  } else {
    if (!view.schema().FindClass(cls) && !view.schema().open_mode()) {
      return ErrorResponse(
          Status::Invalid(view.schema().UnknownClassMessage(cls)).With("parameter", "class"));
    }
    for (const auto& c : view.schema().ClassAndDescendants(cls)) extents.push_back(g.Extent(c));
  }
  // Merge the sorted extents from the cursor on, so pages are stable and in id order.
  using Pos = std::pair<CiId, size_t>;  // (id, extent index)
  std::priority_queue<Pos, std::vector<Pos>, std::greater<>> heap;
  std::vector<size_t> next(extents.size());
  for (size_t i = 0; i < extents.size(); ++i) {
    next[i] = std::upper_bound(extents[i].begin(), extents[i].end(), after) - extents[i].begin();
    if (next[i] < extents[i].size()) heap.emplace(extents[i][next[i]++], i);
  }
  Json items = Json::array();
  CiId last = 0;
  bool more = false;
  while (!heap.empty()) {
    auto [id, i] = heap.top();
    heap.pop();
    if (next[i] < extents[i].size()) heap.emplace(extents[i][next[i]++], i);
    const CiRecord* ci = g.FindCi(id);
    bool ok = std::all_of(filters.begin(), filters.end(),
                          [&](const auto& f) { return Matches(ci->attrs.Get(f.first), f.second); });
    if (!ok) continue;
    if (static_cast<int>(items.size()) == *limit) {
      more = true;
      break;
    }
    items.push_back(CiToJson(*ci));
    last = id;
  }
  return JsonResponse(200, Json{{"items", items},
                                {"next_cursor", more ? Json(std::to_string(last)) : Json(nullptr)}});
}

HttpResponse Api::CiHistory(const Call& call) {
  CiId id = call.id;
  auto history = db_.store()->CiHistory(id);
  if (!history.ok()) return ErrorResponse(history.status());
  if (history->empty()) return ErrorResponse(Status::NotFound("CI " + std::to_string(id) + " does not exist"));
  Json items = Json::array();
  for (const CiRecord& v : *history) {
    Json j = CiToJson(v);
    j["tx"] = v.valid_from;
    j["valid_to_tx"] = v.valid_to == kNoTx ? Json(nullptr) : Json(v.valid_to);
    j["retired"] = v.retired;
    items.push_back(std::move(j));
  }
  return JsonResponse(200, Json{{"id", id}, {"versions", items}});
}

HttpResponse Api::CiRelationships(const Call& call) {
  const HttpRequest& req = call.req;
  CiId id = call.id;
  std::string direction = req.Param("direction", "both");
  if (direction != "out" && direction != "in" && direction != "both")
    return ErrorResponse(Status::Invalid("direction must be out, in or both, not '" + direction + "'")
                             .With("parameter", "direction"));
  std::string type = req.Param("type");
  ReadView view = db_.Read();
  const Graph& g = view.graph();
  if (!g.FindCi(id)) return ErrorResponse(Status::NotFound("CI " + std::to_string(id) + " does not exist"));
  if (!type.empty() && !view.schema().FindRelType(type) && !view.schema().open_mode()) {
    return ErrorResponse(
        Status::Invalid(view.schema().UnknownRelTypeMessage(type)).With("parameter", "type"));
  }
  Json items = Json::array();
  auto add = [&](std::span<const Adj> adj) {
    for (const Adj& a : adj) items.push_back(RelToJson(*g.FindRel(a.rel())));
  };
  auto tid = type.empty() ? std::nullopt : g.TypeIdOf(type);
  bool typed = !type.empty();
  if (direction != "in") {
    if (!typed) add(g.Out(id)); else if (tid) add(g.OutOfType(id, *tid));
  }
  if (direction != "out") {
    if (!typed) add(g.In(id)); else if (tid) add(g.InOfType(id, *tid));
  }
  return JsonResponse(200, Json{{"items", items}});
}

HttpResponse Api::PostRelationship(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object() || !(*body)["type"].is_string() || !(*body)["from"].is_number_integer() ||
      !(*body)["to"].is_number_integer())
    return ErrorResponse(Status::Invalid(
        "body must be {\"type\": \"...\", \"from\": <CI id>, \"to\": <CI id>, \"attributes\": {...}}"));
  if (Status st = CheckFields(*body, {"type", "from", "to", "attributes"}, ""); !st.ok())
    return ErrorResponse(st);
  auto attrs = AttrsFromJson(body->value("attributes", Json::object()), "attributes");
  if (!attrs.ok()) return ErrorResponse(attrs.status());
  RelRecord created;
  auto tx = db_.Write(MetaFor(req, who, "api"), [&](Txn& txn) -> Status {
    auto id = txn.CreateRel((*body)["type"], (*body)["from"], (*body)["to"], std::move(*attrs));
    if (!id.ok()) return id.status();
    created = *txn.GetRel(*id);
    return Status::Ok();
  });
  if (!tx.ok()) return ErrorResponse(tx.status());
  return WithETag(JsonResponse(201, RelToJson(created)), created.version);
}

HttpResponse Api::GetRelationship(const Call& call) {
  RelId id = call.id;
  ReadView view = db_.Read();
  std::optional<RelRecord> rel = view.graph().FindRel(id);
  if (!rel) return ErrorResponse(Status::NotFound("relationship " + std::to_string(id) + " does not exist"));
  return WithETag(JsonResponse(200, RelToJson(*rel)), rel->version);
}

HttpResponse Api::DeleteRelationship(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  RelId id = call.id;
  auto expected = ParseIfMatch(req.Header("if-match"));
  if (!expected.ok()) return ErrorResponse(expected.status());
  auto tx = db_.Write(MetaFor(req, who, "api"), [&](Txn& txn) { return txn.DeleteRel(id, *expected); });
  if (!tx.ok()) return ErrorResponse(tx.status());
  return JsonResponse(200, Json{{"id", id}, {"deleted", true}, {"tx", tx->id}});
}

std::optional<ExportFormat> ExportFormatOf(const HttpRequest& req) {
  std::string accept = req.Header("accept");
  if (accept.find("text/csv") != std::string::npos) return ExportFormat::kCsv;
  if (accept.find("application/x-ndjson") != std::string::npos) return ExportFormat::kNdjson;
  return std::nullopt;
}

void CsvField(std::string& out, std::string_view text) {
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

namespace {

std::string CsvValue(const Value& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return std::string(v.as_string());
  return ToJson(v).dump();
}

constexpr size_t kExportBatch = 1000;     // CIs read under one read view
constexpr size_t kExportChunk = 64 << 10;  // bytes written at once

}  // namespace

HttpResponse Api::ExportCis(const Call& call, ExportFormat format) {
  const HttpRequest& req = call.req;
  if (req.query.count("limit") || req.query.count("cursor")) {
    return ErrorResponse(Status::Invalid("an export (Accept: text/csv or application/x-ndjson) is "
                                         "the whole result: limit and cursor do not apply"));
  }
  std::vector<std::pair<std::string, std::string>> filters;
  for (const auto& [k, v] : req.query) {
    if (k.rfind("where.", 0) == 0) filters.emplace_back(k.substr(6), v);
  }
  std::shared_ptr<const Schema> schema = db_.schema();
  std::string cls = req.Param("class");
  std::vector<std::string> classes;  // empty: every class in use (read per batch)
  if (!cls.empty()) {
    if (!schema->FindClass(cls) && !schema->open_mode()) {
      return ErrorResponse(
          Status::Invalid(schema->UnknownClassMessage(cls)).With("parameter", "class"));
    }
    classes = schema->ClassAndDescendants(cls);
  }
  // CSV columns: the record's, then every attribute the schema declares for the classes.
  std::vector<std::string> columns;
  if (format == ExportFormat::kCsv) {
    std::vector<std::string> all = classes;
    if (all.empty()) {
      for (const auto& [name, def] : schema->classes()) all.push_back(name);
    }
    for (const std::string& c : all) {
      for (const AttributeDef* a : schema->AllAttributes(c)) {
        if (std::find(columns.begin(), columns.end(), a->name) == columns.end()) {
          columns.push_back(a->name);
        }
      }
    }
  }
  HttpResponse r;
  r.content_type = format == ExportFormat::kCsv ? "text/csv; charset=utf-8" : "application/x-ndjson";
  Database& db = db_;
  r.stream = [&db, classes, filters, columns, format](const HttpResponse::Writer& write) {
    std::string out;
    if (format == ExportFormat::kCsv) {
      out = "id,class,version,created_at,updated_at";
      for (const std::string& c : columns) {
        out += ',';
        CsvField(out, c);
      }
      out += "\r\n";
    }
    CiId after = 0;
    std::vector<CiRecord> batch;
    // One snapshot: the state after transaction `start`. A batch whose view has moved on reads
    // through a past view of `start` (opened on first need, caught up after), which undoes what
    // was written since: its memory follows what writers commit during the export.
    TxId start = 0;
    std::unique_ptr<PastGraph> past;
    for (bool first = true;; first = false) {
      batch.clear();
      {  // one batch under a read view, in id order from `after` (the list's merge)
        ReadView view = db.Read();
        if (first) start = view.tx();
        if (view.tx() != start) {
          Status st = Status::Ok();
          if (!past) {
            auto opened =
                PastGraph::Open(view.graph(), view.tx(), *db.store(), start, view.schema());
            if (opened.ok())
              past = std::move(*opened);
            else
              st = opened.status();
          } else {
            st = past->CatchUp(view.tx());
          }
          if (!st.ok()) return false;  // cut off: the client sees an incomplete answer
        }
        auto read_batch = [&](const auto& g) {
          std::vector<std::span<const CiId>> extents;
          if (classes.empty()) {
            for (const auto& c : g.ClassesInUse()) extents.push_back(g.Extent(c));
          } else {
            for (const auto& c : classes) extents.push_back(g.Extent(c));
          }
          using Pos = std::pair<CiId, size_t>;
          std::priority_queue<Pos, std::vector<Pos>, std::greater<>> heap;
          std::vector<size_t> next(extents.size());
          for (size_t i = 0; i < extents.size(); ++i) {
            next[i] =
                std::upper_bound(extents[i].begin(), extents[i].end(), after) - extents[i].begin();
            if (next[i] < extents[i].size()) heap.emplace(extents[i][next[i]++], i);
          }
          while (!heap.empty() && batch.size() < kExportBatch) {
            Pos top = heap.top();
            heap.pop();
            size_t i = top.second;
            if (next[i] < extents[i].size()) heap.emplace(extents[i][next[i]++], i);
            const CiRecord* ci = g.FindCi(top.first);
            after = top.first;
            if (!ci) continue;
            bool ok = std::all_of(filters.begin(), filters.end(), [&](const auto& f) {
              return Matches(ci->attrs.Get(f.first), f.second);
            });
            if (ok) batch.push_back(*ci);
          }
          return heap.empty();
        };
        bool done = view.tx() == start ? read_batch(view.graph()) : read_batch(*past);
        if (done && batch.empty()) break;
        if (done) after = INT64_MAX;
      }
      for (const CiRecord& ci : batch) {
        if (format == ExportFormat::kCsv) {
          out += std::to_string(ci.id) + ',';
          CsvField(out, ci.class_name.str());
          out += ',' + std::to_string(ci.version) + ',' + FormatTimestamp(ci.created_at) + ',' +
                 FormatTimestamp(ci.updated_at);
          for (const std::string& c : columns) {
            out += ',';
            CsvField(out, CsvValue(ci.attrs.Get(c)));
          }
          out += "\r\n";
        } else {  // a POST /v1/bulk line
          out += Json{{"op", "ci"}, {"class", ci.class_name.str()}, {"attributes", ToJson(ci.attrs)}}
                     .dump();
          out += '\n';
        }
        if (out.size() >= kExportChunk) {
          if (!write(out)) return false;
          out.clear();
        }
      }
      if (after == INT64_MAX) break;
    }
    return write(out);
  };
  return r;
}

}  // namespace cmdb::api
