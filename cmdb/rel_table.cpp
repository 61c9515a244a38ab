#include "cmdb/rel_table.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "cmdb/adjacency.hpp"

namespace cmdb {

std::optional<RelRecord> RelTable::Find(RelId id) const {
  const Packed* p = rels_.Find(id);
  if (!p) return std::nullopt;
  std::optional<RelRecord> out(std::in_place);
  RelRecord& r = *out;
  r.id = id;
  r.type = p->type;
  r.version = static_cast<int32_t>(p->version);
  r.retired = (p->flags & kRetired) != 0;
  r.from = p->from();
  r.to = p->to();
  r.created_at = r.updated_at = p->updated_at;
  r.valid_from = p->valid_from;
  if (p->flags & kExtra) {
    const Extra& extra = extras_.at(id);
    r.attrs = extra.attrs;
    r.created_at = extra.created_at;
    r.valid_to = extra.valid_to;
  }
  return out;
}

void RelTable::Put(RelRecord&& rel) {
  for (CiId end : {rel.from, rel.to}) {
    if (end <= 0 || end > kMaxAdjId)  // the write path never assigns such ids
      throw std::out_of_range("relationship " + std::to_string(rel.id) + " has an end out of range: " +
                              std::to_string(end));
  }
  Packed p;
  p.from_lo = static_cast<uint32_t>(rel.from);
  p.from_hi = static_cast<uint8_t>(uint64_t(rel.from) >> 32);
  p.to_lo = static_cast<uint32_t>(rel.to);
  p.to_hi = static_cast<uint8_t>(uint64_t(rel.to) >> 32);
  p.type = rel.type;
  p.version = static_cast<uint32_t>(rel.version);
  p.valid_from = rel.valid_from;
  p.updated_at = rel.updated_at;
  if (rel.retired) p.flags |= kRetired;
  bool extra = !rel.attrs.empty() || rel.created_at != rel.updated_at || rel.valid_to != kNoTx;
  if (extra) {
    p.flags |= kExtra;
    extras_.insert_or_assign(rel.id, Extra{std::move(rel.attrs), rel.created_at, rel.valid_to});
  } else {
    extras_.erase(rel.id);
  }
  rels_.Put(rel.id, std::move(p));
}

void RelTable::Clear(RelId id) {
  const Packed* p = rels_.Find(id);
  if (!p) return;
  if (p->flags & kExtra) extras_.erase(id);
  rels_.Clear(id);
}

}  // namespace cmdb
