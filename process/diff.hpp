// Attribute-level differences between two versions of a CI or relationship.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "cmdb/attr_map.hpp"

namespace cmdb::process {

// One attribute whose value differs (null for absent).
struct AttrDiff {
  std::string name;
  Value before;
  Value after;
};

// The attributes that differ between `before` and `after`, in name order.
std::vector<AttrDiff> DiffAttrs(const AttrMap& before, const AttrMap& after);

}  // namespace cmdb::process
