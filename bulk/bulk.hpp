// Bulk NDJSON loading: every line an operation, the whole body ONE transaction.
//
//   {"op": "ci", "ref": "web01", "class": "PhysicalServer", "attributes": {...}}
//       upsert by the class KEY (create when the class has none); "id": n updates CI n instead
//   {"op": "rel", "type": "RUNS_ON", "from": <endpoint>, "to": <endpoint>, "attributes": {...}}
//       upsert of from -[type]-> to; an endpoint is an id, {"ref": "name"} naming an earlier
//       line's ref, or {"class": "C", "key": {"attr": value, ...}}
//
// Lines are parsed and applied as they stream in, so the body is never held whole: two helper
// threads parse the next lines (bulk_line.hpp) while the caller's thread stages earlier ones. Any
// bad line rejects the batch; every bad line is reported with its number.
// Thread safety: RunBulk may be called from any thread; it uses two helper threads per call.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cmdb/database.hpp"
#include "cmdb/hash_index.hpp"

namespace cmdb::bulk {

// Streams a body: calls `sink` with each chunk in order until the body ends (true) or `sink`
// returns false or the body cannot be read whole (false). The type of api::HttpRequest::read_body.
using BodyReader = std::function<bool(const std::function<bool(const char*, size_t)>& sink)>;

// The refs a bulk body defines ("ref" on a "ci" line) and the CIs they name: a flat hash table
// probed with hashes the parser threads computed (BulkLine), so the staging thread neither
// hashes nor chases list nodes. A ref is defined once per request.
// Thread safety: a plain value.
class BulkRefs {
 public:
  // The hash Set and Find expect for `ref`.
  static uint64_t Hash(std::string_view ref);
  // Defines `ref` as CI `id`, on bulk line `line`. When `ref` is defined already, changes
  // nothing and returns the line that defined it.
  std::optional<int64_t> Define(std::string ref, uint64_t hash, CiId id, int64_t line);
  std::optional<CiId> Find(std::string_view ref, uint64_t hash) const;
  std::optional<CiId> Find(std::string_view ref) const { return Find(ref, Hash(ref)); }
  size_t size() const { return entries_.size(); }
  // In the order refs were first defined.
  const std::vector<std::pair<std::string, CiId>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, CiId>> entries_;
  std::vector<int64_t> lines_;  // the line that defined each entry
  HashIndex index_;  // hash -> position in entries_
};

struct BulkError {
  int64_t line = 0;
  Status status;
};

struct BulkResult {
  int64_t created = 0, updated = 0, unchanged = 0;
  int64_t rels_created = 0, rels_updated = 0, rels_unchanged = 0;
  int64_t lines = 0;
  BulkRefs refs;
  std::vector<BulkError> errors;  // at most kMaxListedErrors
  int64_t error_count = 0;
  TxId tx = 0;
  static constexpr size_t kMaxListedErrors = 1000;
};

// Applies NDJSON to one Database transaction. `read` streams the body; `max_bytes` bounds it
// (kPayloadTooLarge past it). On any bad line the result lists the errors and the returned
// Status is the first error's (nothing is applied).
Status RunBulk(Database& db, const TxMeta& meta, const BodyReader& read, size_t max_bytes,
               BulkResult& result);

// A BodyReader over a string already in memory (tests, the demo data, the CLI), which must
// outlive the reader.
BodyReader StringReader(std::string_view text);

// Refuses an update of CI `id` that names a class other than the CI's (kConflict: `CI 42 is a
// VirtualMachine, not a PhysicalServer; a CI keeps its class`). OK when the CI does not exist (the
// update reports that). Thread safety: like the Txn.
Status CheckClassOf(const Txn& txn, CiId id, const std::string& cls);

}  // namespace cmdb::bulk
