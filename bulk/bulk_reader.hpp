// The one reader of the bulk NDJSON format, for POST /v1/bulk (RunBulk, bulk.hpp) and the ndjson
// import (importers/ndjson_csv.cpp): the same bytes are accepted or refused alike, line by line,
// with the same messages. Every line is an operation:
//
//   {"op": "ci", "ref": "web01", "class": "PhysicalServer", "attributes": {...}}
//       a CI, by its class KEY; with "id": n instead, CI n (and "class", if given, must be its)
//   {"op": "rel", "type": "RUNS_ON", "from": <endpoint>, "to": <endpoint>, "attributes": {...}}
//       from -[type]-> to; an endpoint is an id, {"ref": "name"} naming an earlier line's ref, or
//       {"class": "C", "key": {"attr": value, ...}}
//
// ReadBulk splits the body into lines as it streams in (it is never held whole), two helper
// threads parse the next lines (ParseBulkLine, bulk_line.hpp: JSON, fields, types, a new CI's
// attributes against the schema, key endpoints) while the caller's thread applies the line rules
// to earlier ones, in line order, and hands each line they accept to a BulkSink: the loader
// stages it in a transaction, the importer turns it into candidates. A sink may refuse a line
// too. Every refused line is recorded with its number and why.
//
// The line rules, in the order they are checked (the first failing one is the line's error):
//   - the line parses (bulk_line.hpp: malformed JSON, not an object, an unknown field, "op"
//     missing or not "ci"/"rel", ...);
//   - "ci": its "attributes" are usable; with "id", the id is an integer, else "class" is given;
//     then the sink takes it; then a "ref" is a string not defined on an earlier line;
//   - "rel": "type" is given; "from", then "to", is given and usable, a {"ref"} one defined on
//     an earlier line (by a line that was accepted); the attributes are usable; then the sink
//     takes it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bulk/bulk_line.hpp"
#include "cmdb/hash_index.hpp"
#include "cmdb/records.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"

namespace cmdb::bulk {

// Streams a body: calls `sink` with each chunk in order until the body ends (true) or `sink`
// returns false or the body cannot be read whole (false). The type of api::HttpRequest::read_body.
using BodyReader = std::function<bool(const std::function<bool(const char*, size_t)>& sink)>;

// A BodyReader over a string already in memory (tests, the demo data, the importer), which must
// outlive the reader.
BodyReader StringReader(std::string_view text);

// The refs a bulk body defines ("ref" on a "ci" line) and the CIs they name, as the sink named
// them (the loader: CI ids): a flat hash table probed with hashes the parser threads computed
// (BulkLine), so the staging thread neither hashes nor chases list nodes. A ref is defined once
// per body.
// Thread safety: a plain value.
class BulkRefs {
 public:
  // The hash Set and Find expect for `ref`.
  static uint64_t Hash(std::string_view ref);
  // Defines `ref` as CI `id`, on bulk line `line`. When `ref` is defined already, changes
  // nothing and returns the line that defined it.
  std::optional<int64_t> Define(std::string ref, uint64_t hash, CiId id, int64_t line);
  // The CI `ref` names, if it is defined.
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

// A refused line: its number (1-based) and why.
struct BulkError {
  int64_t line = 0;
  Status status;
};

// What reading (and, for RunBulk, loading) a body found. ReadBulk fills lines, refs, errors and
// error_count; the loader's counts and tx are RunBulk's.
// Thread safety: a plain value.
struct BulkResult {
  int64_t created = 0, updated = 0, unchanged = 0;
  int64_t rels_created = 0, rels_updated = 0, rels_unchanged = 0;
  int64_t lines = 0;  // every line read, blank ones included
  BulkRefs refs;
  std::vector<BulkError> errors;  // in line order, at most max_listed_errors
  int64_t error_count = 0;        // all of them
  TxId tx = 0;
  static constexpr size_t kMaxListedErrors = 1000;
  size_t max_listed_errors = kMaxListedErrors;  // set before reading to list more or fewer
};

// Where the lines the rules accepted go, one at a time on the thread that called ReadBulk, in
// line order. Each returns the CI as the sink names it, or why the line is refused. The sink owns
// what it builds; ReadBulk only keeps the names in BulkResult::refs.
class BulkSink {
 public:
  virtual ~BulkSink() = default;
  // A "ci" line whose attributes are usable (line.attrs holds them: take them) and which has an
  // integer "id" (line.id) or a "class" (line.cls).
  virtual Result<CiId> Ci(BulkLine& line) = 0;
  // An endpoint `field` ("from" or "to") of "rel" line `line` that names a CI by id (kId) or by
  // {"class", "key"} (kKey, its key normalized by the parser).
  virtual Result<CiId> Endpoint(const BulkLine& line, const BulkEndpoint& e, const char* field) = 0;
  // A "rel" line with its "type" (line.type), its usable attributes (line.attrs: take them)
  // and its endpoints as Ci and Endpoint named them.
  virtual Status Rel(BulkLine& line, CiId from, CiId to) = 0;
  // After every batch of lines while no line has been refused (the loader streams what it
  // staged to the store); an error ends the read.
  virtual Status Flush() { return Status::Ok(); }
  // After every batch of lines, refused ones or not: the sink lets go of what it holds only
  // while it takes lines (the ndjson importer's read of the committed state).
  virtual void BatchDone() {}
};

// Reads the NDJSON body `read` streams (at most `max_bytes`) against `schema` (unchanged while
// it runs), handing the lines the rules accept to `sink`; `result` gets the line count, the refs
// and every refused line. Returns an error only when the body could not be read whole
// (kPayloadTooLarge past `max_bytes`; kInvalidArgument when `read` fails) or sink.Flush failed;
// refused lines are in result.errors, not in the returned status.
// Thread safety: may be called from any thread; it uses two helper threads per call.
Status ReadBulk(const BodyReader& read, size_t max_bytes, const Schema& schema, BulkSink& sink,
                BulkResult& result);

}  // namespace cmdb::bulk
