// Bulk NDJSON loading (POST /v1/bulk, the demo data): the body read by the bulk reader
// (bulk_reader.hpp, which has the format and its rules) and applied as ONE transaction.
//
//   "ci" lines upsert by the class KEY (create when the class has none); "id": n updates CI n
//   (the attributes given replace those values, others are kept).
//   "rel" lines upsert from -[type]-> to; an id or {"class", "key"} endpoint must name an
//   existing CI (by its KEY for the latter).
//
// Lines are parsed and staged as they stream in, so the body is never held whole. Any refused
// line rejects the batch; every refused line is reported with its number.
// Thread safety: RunBulk may be called from any thread; it uses two helper threads per call.
#pragma once

#include <string>

#include "bulk/bulk_reader.hpp"
#include "cmdb/database.hpp"

namespace cmdb::bulk {

// Applies NDJSON to one Database transaction. `read` streams the body; `max_bytes` bounds it
// (kPayloadTooLarge past it). On any refused line the result lists the errors and the returned
// Status has the first error's code ("2 of 5 lines are invalid; nothing was applied"; nothing is
// applied).
Status RunBulk(Database& db, const TxMeta& meta, const BodyReader& read, size_t max_bytes,
               BulkResult& result);

// The refusal of a body with refused lines: the first one's code (so the HTTP status is the first
// refused line's), "2 of 5 lines are invalid; nothing was applied". `first` is the refused line
// with the lowest number, `error_count` how many were refused, `lines` how many were read (blank
// ones included). RunBulk and the ndjson import (importers/ndjson_csv.cpp) both answer with it.
Status LinesRefused(const BulkError& first, int64_t error_count, int64_t lines);

// The refusal of a {"class", "key"} endpoint `field` ("from" or "to") that names no CI (kNotFound:
// `"to": no Rack with key {"name":"r9"}`). The loader and the ndjson import both apply it.
Status NoCiWithKey(const BulkEndpoint& e, const char* field);

// Refuses an update of CI `id` that names a class other than the CI's (kConflict: `CI 42 is a
// VirtualMachine, not a PhysicalServer; a CI keeps its class`). OK when the CI does not exist (the
// update reports that). Thread safety: like the Txn.
Status CheckClassOf(const Txn& txn, CiId id, const std::string& cls);
// The same rule on the record found for `id` (null: none; the rule then passes).
Status CheckClassOf(const CiRecord* ci, CiId id, const std::string& cls);

// The rule for a line naming CI `id` by "id": the CI exists (kNotFound `CI 42 does not exist`, as
// Txn::UpdateCi says it) and, when the line names a class (`cls`), is of it (CheckClassOf). The
// loader and the import of ndjson "id" lines (importers/import.cpp) both apply it.
// Thread safety: like the Txn.
Status CheckNamedCi(const Txn& txn, CiId id, const std::optional<std::string>& cls);
// The same rule on the record found for `id` in a graph or a txn (null: no such CI), for
// callers that read the committed graph (importers/identify.cpp).
Status CheckNamedCi(const CiRecord* ci, CiId id, const std::optional<std::string>& cls);

}  // namespace cmdb::bulk
