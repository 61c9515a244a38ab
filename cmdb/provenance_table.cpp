#include "cmdb/provenance_table.hpp"

namespace cmdb {

const std::vector<Provenance>& ProvenanceTable::Of(bool relationship, int64_t id) const {
  static const std::vector<Provenance> kNone;
  auto it = records_.find(Key(relationship, id));
  return it == records_.end() ? kNone : it->second;
}

const Provenance* ProvenanceTable::Find(bool relationship, int64_t id,
                                        const std::string& source) const {
  for (const Provenance& p : Of(relationship, id)) {
    if (p.source == source) return &p;
  }
  return nullptr;
}

void ProvenanceTable::ForSource(const std::string& source,
                                const std::function<void(const Provenance&)>& fn) const {
  for (const auto& [key, list] : records_) {
    for (const Provenance& p : list) {
      if (p.source == source) fn(p);
    }
  }
}

void ProvenanceTable::Put(Provenance p) {
  auto& list = records_[Key(p.relationship, p.id)];
  for (Provenance& q : list) {
    if (q.source == p.source) {
      q = std::move(p);
      return;
    }
  }
  list.push_back(std::move(p));
  ++size_;
}

}  // namespace cmdb
