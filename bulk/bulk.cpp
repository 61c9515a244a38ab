#include "bulk/bulk.hpp"

#include "bulk/json.hpp"

namespace cmdb::bulk {
namespace {

// Stages the lines the reader accepted in the load's transaction and counts what they did.
class TxnSink : public BulkSink {
 public:
  TxnSink(Txn& txn, BulkResult& result) : txn_(txn), r_(result) {}

  Result<CiId> Ci(BulkLine& line) override {
    if (line.has_id) {
      CiId id = *line.id;
      CMDB_RETURN_IF_ERROR(CheckNamedCi(txn_, id, line.cls));
      AttrPatch patch(line.attrs->begin(), line.attrs->end());
      AttrMap before = txn_.GetCi(id)->attrs;
      CMDB_RETURN_IF_ERROR(txn_.UpdateCi(id, patch, std::nullopt));
      (txn_.GetCi(id)->attrs == before) ? ++r_.unchanged : ++r_.updated;
      return id;
    }
    auto res = line.normalized ? txn_.UpsertNormalizedCi(*line.cls, std::move(*line.attrs))
                               : txn_.UpsertCi(*line.cls, std::move(*line.attrs));
    if (!res.ok()) return res.status();
    switch (res->second) {
      case Outcome::kCreated: ++r_.created; break;
      case Outcome::kUpdated: ++r_.updated; break;
      case Outcome::kUnchanged: ++r_.unchanged; break;
    }
    return res->first;
  }

  Result<CiId> Endpoint(const BulkLine&, const BulkEndpoint& e, const char* field) override {
    if (e.kind == BulkEndpoint::Kind::kId) return e.id;
    // kKey: resolved to its KEY index entry by the parser thread (bulk_line.hpp)
    auto id = e.index_key ? txn_.LookupIndexKey(*e.index_key) : std::nullopt;
    if (!id) return NoCiWithKey(e, field);
    return *id;
  }

  Status Rel(BulkLine& line, CiId from, CiId to) override {
    auto res = txn_.UpsertRel(*line.type, from, to, std::move(*line.attrs));
    if (!res.ok()) return res.status();
    switch (res->second) {
      case Outcome::kCreated: ++r_.rels_created; break;
      case Outcome::kUpdated: ++r_.rels_updated; break;
      case Outcome::kUnchanged: ++r_.rels_unchanged; break;
    }
    return Status::Ok();
  }

  // Hands what was staged so far to the store's open transaction.
  Status Flush() override { return txn_.Flush(); }

 private:
  Txn& txn_;
  BulkResult& r_;
};

}  // namespace

Status LinesRefused(const BulkError& first, int64_t error_count, int64_t lines) {
  return Status(first.status.code(), std::to_string(error_count) + " of " + std::to_string(lines) +
                                         " lines are invalid; nothing was applied");
}

Status NoCiWithKey(const BulkEndpoint& e, const char* field) {
  return Status::NotFound(std::string("\"") + field + "\": no " + e.name + " with key " +
                          JsonText(ToJson(e.key)));
}

Status CheckClassOf(const Txn& txn, CiId id, const std::string& cls) {
  return CheckClassOf(txn.GetCi(id), id, cls);
}

Status CheckClassOf(const CiRecord* ci, CiId id, const std::string& cls) {
  if (!ci || ci->class_name == cls) return Status::Ok();
  return Status(StatusCode::kConflict, "CI " + std::to_string(id) + " is a " +
                                           std::string(ci->class_name) + ", not a " + cls +
                                           "; a CI keeps its class")
      .With("id", id)
      .With("class", std::string(ci->class_name))
      .With("given_class", cls);
}

Status CheckNamedCi(const Txn& txn, CiId id, const std::optional<std::string>& cls) {
  return CheckNamedCi(txn.GetCi(id), id, cls);
}

Status CheckNamedCi(const CiRecord* ci, CiId id, const std::optional<std::string>& cls) {
  if (!ci) return Status::NotFound("CI " + std::to_string(id) + " does not exist");
  return cls ? CheckClassOf(ci, id, *cls) : Status::Ok();
}

Status RunBulk(Database& db, const TxMeta& meta, const BodyReader& read, size_t max_bytes,
               BulkResult& result) {
  auto tx = db.Write(meta, [&](Txn& txn) -> Status {
    TxnSink sink(txn, result);
    CMDB_RETURN_IF_ERROR(ReadBulk(read, max_bytes, txn.schema(), sink, result));
    if (result.error_count > 0)
      return LinesRefused(result.errors.front(), result.error_count, result.lines);
    return Status::Ok();
  });
  if (!tx.ok()) return tx.status();
  result.tx = tx->id;
  return Status::Ok();
}

}  // namespace cmdb::bulk
