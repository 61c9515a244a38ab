// SearchIndex: type-ahead over the text people type to find a CI (its name, the values of its
// class's KEY, its host names and its IP addresses), for GET /v1/search.
//
// Contract: the Graph owns one (Graph::search()) and keeps it current on every path that changes
// its CIs: loading (PutCi), every commit (Apply, through InsertCi and RemoveCi) and a schema
// change (RebuildIndexes). Those run under the Database's exclusive lock, so a search made
// through a ReadView answers over exactly the CIs of that view's graph, never a write in part.
//
// Matching is case-insensitive for ASCII letters (other bytes compare as they are). A field
// matches a query exactly, by prefix, at the start of a word (after a byte that is not an ASCII
// letter or digit: "shop" in "fra1-shop-web"), or anywhere inside. Hits rank by that, then by
// the kind of field (name, key, host name, IP), then by the field's folded text (alphabetical,
// so a name comes before its longer extensions), then by CI id; each CI appears once, with its
// best field.
//
// Layout: the fields of every live CI, folded to lower case, in one flat buffer, each preceded by
// a byte 0x01..0x04 naming its kind, plus a record (start, CI id) per CI in buffer order, both
// 32-bit: the index holds up to 4 GiB of folded text and CI ids below 2^32 (Put throws
// std::length_error past either; a million CIs take about 20 MB of text). Exact
// and prefix matches come from the field starts sorted by text, one array per kind (a binary
// search, then the first hits in order; fields written since the last merge wait in a short
// unsorted list that every search reads); only when they are fewer than asked does a search scan
// the buffer with memmem for matches inside fields. A replaced or removed record is left dead
// and everything is rebuilt when dead bytes outnumber live ones. A field whose folded text a
// field of the same CI and the same or a better kind already holds is not stored (it could never
// be the CI's best match: a host name equal to the name).
// Thread safety: const methods may run concurrently; the others need exclusive access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cmdb/records.hpp"
#include "cmdb/schema.hpp"

namespace cmdb {

// The kind of a searchable field, in ranking order.
enum class SearchField : uint8_t { kName = 1, kKey = 2, kHost = 3, kIp = 4 };
// How a query matches a field, best first.
enum class SearchMatch : uint8_t { kExact = 0, kPrefix = 1, kWord = 2, kSubstring = 3 };

// "name", "key", "hostname", "ip" / "exact", "prefix", "word", "substring".
const char* SearchFieldName(SearchField f);
const char* SearchMatchName(SearchMatch m);

// One searchable value of a CI: its kind, the attribute holding it and its text as stored.
struct SearchFieldValue {
  SearchField field;
  std::string attribute;
  std::string text;
};

// The searchable fields of `ci` under `schema`: `name`; the other attributes of its class's KEY;
// attributes named hostname, fqdn, dns_name or hosts (each element of a list); IP attributes
// (declared IP, or in open mode named ip, ip_address or ending in _ip). Only string values; empty
// ones are left out. In that order, attributes in name order within a kind.
std::vector<SearchFieldValue> SearchFieldsOf(const Schema& schema, const CiRecord& ci);

// ASCII letters to lower case; other bytes unchanged.
std::string FoldSearchText(std::string_view s);

// How the folded `query` matches the folded `text`, or nullopt when it does not occur in it.
std::optional<SearchMatch> MatchFolded(std::string_view query, std::string_view text);

// A hit's place in the ranking: smaller is better (match, field, text, id).
// Ownership: `text` views the index's buffer (valid while the graph is unchanged: the read view)
// or the caller's string.
struct SearchRank {
  SearchMatch match;
  SearchField field;
  std::string_view text;  // the matched field, folded
  CiId id;
  friend bool operator<(const SearchRank& a, const SearchRank& b) {
    if (a.match != b.match) return a.match < b.match;
    if (a.field != b.field) return a.field < b.field;
    if (a.text != b.text) return a.text < b.text;
    return a.id < b.id;
  }
  friend bool operator==(const SearchRank& a, const SearchRank& b) {
    return a.match == b.match && a.field == b.field && a.text == b.text && a.id == b.id;
  }
};

class SearchIndex {
 public:
  // Indexes `ci` under `schema`, replacing what was indexed for its id before.
  void Put(const Schema& schema, const CiRecord& ci);
  // Forgets the CI `id` (nothing when it is not indexed).
  void Erase(CiId id);
  void Clear();
  // Sorts the fields written since the last merge in with the others when they are many (the
  // Graph calls it after every commit; Put leaves them pending, read unsorted by searches).
  void Settle();
  // Sorts every pending field in and releases spare capacity (after a load).
  void Trim();

  // The best `limit` hits for `query` (folded here; control bytes below 0x20 are dropped), best
  // first. An empty query, or limit 0, finds nothing.
  std::vector<SearchRank> Search(std::string_view query, size_t limit) const;

  size_t size() const { return live_; }
  // Bytes held (buffer and records), for the memory figures.
  size_t bytes() const;

 private:
  using Off = uint32_t;  // an offset in text_
  struct Rec {
    Off start;
    uint32_t id;
  };
  // Which attributes of a class are searchable, computed once per class and schema version.
  struct Plan {
    std::vector<std::pair<std::string, SearchField>> attrs;
    bool open = false;  // the class is not in the schema: fields are chosen by name
  };
  const Plan& PlanFor(const Schema& schema, std::string_view cls);
  void Compact();
  // Sorts the pending field starts into sorted_.
  void MergePending();
  // The field text starting at `off` (up to the next kind byte).
  std::string_view TextAt(Off off) const;
  // The index in recs_ of the record holding `off`, or npos when it is dead.
  size_t LiveRecordOf(Off off) const;
  static constexpr size_t kMaxPending = 4096;

  std::string text_;
  std::vector<Rec> recs_;        // in buffer order
  std::vector<uint32_t> where_;  // CI id -> index in recs_ + 1; 0 when not indexed
  std::vector<Off> sorted_[4];       // per kind: offsets of field texts, sorted by text
  std::vector<Off> pending_;         // field texts appended since the last merge, any kind
  size_t live_ = 0;
  size_t dead_bytes_ = 0;
  std::unordered_map<std::string, Plan> plans_;
  int64_t plans_version_ = -1;
  const Schema* plans_schema_ = nullptr;
};

}  // namespace cmdb
