// RelTable: the current relationship records of the graph, packed to 32 bytes each.
//
// A relationship is held for every edge (about 2.3 a CI), so the graph does not keep the 64-byte
// RelRecord: its ends are 40-bit ids (Adjacency's kMaxAdjId), its type an interned name, and the
// fields most relationships leave at their usual value live in a side table only when set:
// attributes (most relationships have none) and a creation time other than the last update
// (a relationship never changed since its creation has the same two). Find rebuilds the
// RelRecord, so records are handed out by value.
// Thread safety: const methods may run concurrently; Put/Clear need exclusive access.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "cmdb/record_table.hpp"
#include "cmdb/records.hpp"

namespace cmdb {

class RelTable {
 public:
  // One current relationship as held: 32 bytes.
  struct Packed {
    uint32_t from_lo = 0, to_lo = 0;
    uint8_t from_hi = 0, to_hi = 0;
    uint8_t flags = 0;  // kRetired, kExtra
    uint8_t unused = 0;
    InternedName type;
    uint32_t version = 0;
    RecordTx valid_from = kNoTx;
    int64_t updated_at = 0;

    CiId from() const { return CiId(uint64_t{from_hi} << 32 | from_lo); }
    CiId to() const { return CiId(uint64_t{to_hi} << 32 | to_lo); }
    bool present() const { return from_lo != 0 || from_hi != 0; }  // CI ids start at 1
  };
  static_assert(sizeof(Packed) == 32, "a relationship is held in 32 bytes");

  // The record with this id, or nullopt when there is none.
  std::optional<RelRecord> Find(RelId id) const;
  // The packed record (ends and type without rebuilding the record), or nullptr. Valid until
  // the next Put/Clear.
  const Packed* FindPacked(RelId id) const { return rels_.Find(id); }
  bool Has(RelId id) const { return rels_.Find(id) != nullptr; }

  // Stores `rel` (rel.id > 0; both ends at most kMaxAdjId), replacing what was there.
  void Put(RelRecord&& rel);
  // Removes the record of `id` (no-op when there is none).
  void Clear(RelId id);
  void Reserve(RelId bound) { rels_.Reserve(bound); }
  // One past the largest id ever put.
  RelId bound() const { return rels_.bound(); }

 private:
  static constexpr uint8_t kRetired = 1, kExtra = 2;
  // What a relationship holds beyond its packed record, when it does.
  struct Extra {
    AttrMap attrs;
    int64_t created_at = 0;
    RecordTx valid_to = kNoTx;
  };

  RecordTable<Packed> rels_;
  std::unordered_map<RelId, Extra> extras_;
};

}  // namespace cmdb
