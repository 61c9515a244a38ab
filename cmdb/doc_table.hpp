// DocTable: the current versions of process records (changes, windows, baselines, releases,
// audits), by kind and id. Part of the Graph so readers see records and CIs of the same
// committed transaction together.
// Thread safety: like Graph — const methods concurrently, Put/Apply with exclusive access.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cmdb/records.hpp"

namespace cmdb {

using DocPtr = std::shared_ptr<const DocRecord>;

class DocTable {
 public:
  using Kind = std::map<int64_t, DocPtr>;

  // The current version; nullptr when absent or retired.
  const DocRecord* Find(const std::string& kind, int64_t id) const;
  // Every current record of a kind in id order (an empty map when none).
  const Kind& All(const std::string& kind) const;
  // The largest id ever used for a kind, retired records included (0 when none).
  int64_t MaxId(const std::string& kind) const;

  // Installs a version: a retired one removes the record (its id stays used).
  void Put(DocRecord doc);

 private:
  std::map<std::string, Kind, std::less<>> kinds_;
  std::map<std::string, int64_t, std::less<>> max_ids_;
};

}  // namespace cmdb
