// One line of a bulk NDJSON body (bulk_reader.hpp), parsed into what the line rules need: the
// fields of the operation, its attributes converted to an AttrMap and the schema-only work done (a
// new CI's attributes normalized, {"class", "key"} endpoints resolved to their KEY index entry).
//
// Most lines take the fast way: simdjson parses them (no allocation per line) and the common
// shape is read straight into a BulkLine. A line outside that shape (lists, unknown or
// duplicate members, escapes, malformed JSON, wrong types) takes the document way: nlohmann
// parses it into a document, which is converted with every problem named. Both ways give the
// same BulkLine for the lines the fast way accepts (tested, also on mutated lines).
// Errors are kept per field and reported when the line rules reach them, in the order they check
// them, so a line with several problems reports the same one either way.
// Thread safety: the functions are pure; call them on any thread while the schema is unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cmdb/attr_map.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"

namespace cmdb::bulk {

// A relationship endpoint: an id, {"ref": name} or {"class": C, "key": {...}}.
struct BulkEndpoint {
  enum class Kind { kMissing, kId, kRef, kKey, kInvalid };
  Kind kind = Kind::kMissing;
  int64_t id = 0;                        // kId
  std::string name;                      // kRef: the ref; kKey: the class ("" if not a string)
  uint64_t ref_hash = 0;                 // kRef: BulkRefs::Hash(name)
  AttrMap key;                           // kKey: the key as given (for the not-found message)
  std::optional<std::string> index_key;  // kKey: its KEY index entry; nullopt: a KEY value missing
  Status error;                          // kInvalid: why the endpoint cannot be used
};

struct BulkLine {
  enum class Op { kCi, kRel };
  int64_t line_no = 0;
  bool blank = false;  // only blanks: skipped
  Status error;        // the line as a whole is unusable: malformed JSON, not an object, bad "op"
  Op op = Op::kCi;
  bool has_id = false;               // "id" given ...
  std::optional<int64_t> id;         // ... and an integer
  std::optional<std::string> cls;    // "class", when a string
  bool has_ref = false;              // "ref" given ...
  std::optional<std::string> ref;    // ... and a string
  uint64_t ref_hash = 0;             // BulkRefs::Hash(*ref)
  std::optional<std::string> type;   // "type", when a string
  BulkEndpoint from, to;             // "rel" lines only
  Result<AttrMap> attrs = AttrMap();  // "attributes" converted, or why not
  bool normalized = false;           // attrs passed Schema::NormalizeAttrs for cls (new CIs)
};

// Parses line `line_no` (1-based) of a bulk body against `schema` (which must outlive the call).
BulkLine ParseBulkLine(std::string_view text, int64_t line_no, const Schema& schema);

// The error for an endpoint {"ref": r} naming no earlier line's ref; `ref_json` is r as JSON.
Status BulkUnknownRef(const char* field, const std::string& ref_json);

// The error for a second line defining `ref`: a ref names one CI per body, so it is refused:
// `ref "a" is defined twice, on lines 1 and 3 (a ref names one CI per request)`, with details.ref
// and details.first_line.
Status RefDefinedTwice(const std::string& ref, int64_t first_line, int64_t line);

// The fast way alone: nullopt when the line is outside the shape it reads.
std::optional<BulkLine> ParseBulkLineFast(std::string_view text, int64_t line_no,
                                          const Schema& schema);

// The same through a JSON document only: the reference ParseBulkLine falls back to, exposed so
// tests can check that both ways agree.
BulkLine ParseBulkLineViaDocument(std::string_view text, int64_t line_no, const Schema& schema);

}  // namespace cmdb::bulk
