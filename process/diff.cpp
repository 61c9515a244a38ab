#include "process/diff.hpp"

namespace cmdb::process {

std::vector<AttrDiff> DiffAttrs(const AttrMap& before, const AttrMap& after) {
  std::vector<AttrDiff> out;
  auto a = before.begin(), b = after.begin();
  while (a != before.end() || b != after.end()) {
    if (b == after.end() || (a != before.end() && a->first < b->first)) {
      out.push_back({a->first, a->second, Value()});
      ++a;
    } else if (a == before.end() || b->first < a->first) {
      out.push_back({b->first, Value(), b->second});
      ++b;
    } else {
      if (!(a->second == b->second)) out.push_back({a->first, a->second, b->second});
      ++a, ++b;
    }
  }
  return out;
}

}  // namespace cmdb::process
