// ProvenanceTable: the current import provenance of CIs and relationships (see Provenance),
// part of the Graph.
// Thread safety: like Graph — const methods concurrently, Put with exclusive access.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cmdb/records.hpp"

namespace cmdb {

class ProvenanceTable {
 public:
  // Every source's record for a CI (relationship = false) or relationship; empty when none.
  const std::vector<Provenance>& Of(bool relationship, int64_t id) const;
  // The record of one source, or nullptr.
  const Provenance* Find(bool relationship, int64_t id, const std::string& source) const;
  // Calls `fn` with every record of `source`.
  void ForSource(const std::string& source, const std::function<void(const Provenance&)>& fn) const;
  // Inserts or replaces the record of (kind, id, source).
  void Put(Provenance p);
  size_t size() const { return size_; }

 private:
  static int64_t Key(bool relationship, int64_t id) { return id * 2 + (relationship ? 1 : 0); }
  std::unordered_map<int64_t, std::vector<Provenance>> records_;
  size_t size_ = 0;
};

}  // namespace cmdb
