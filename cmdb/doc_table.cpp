#include "cmdb/doc_table.hpp"

#include <algorithm>

namespace cmdb {

const DocRecord* DocTable::Find(const std::string& kind, int64_t id) const {
  auto k = kinds_.find(kind);
  if (k == kinds_.end()) return nullptr;
  auto it = k->second.find(id);
  return it == k->second.end() ? nullptr : it->second.get();
}

const DocTable::Kind& DocTable::All(const std::string& kind) const {
  static const Kind kEmpty;
  auto k = kinds_.find(kind);
  return k == kinds_.end() ? kEmpty : k->second;
}

int64_t DocTable::MaxId(const std::string& kind) const {
  auto it = max_ids_.find(kind);
  return it == max_ids_.end() ? 0 : it->second;
}

void DocTable::Put(DocRecord doc) {
  int64_t& max_id = max_ids_[doc.kind];
  max_id = std::max(max_id, doc.id);
  Kind& k = kinds_[doc.kind];
  if (doc.retired) {
    k.erase(doc.id);
    return;
  }
  int64_t id = doc.id;
  k[id] = std::make_shared<const DocRecord>(std::move(doc));
}

}  // namespace cmdb
