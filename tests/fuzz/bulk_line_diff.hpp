// Compares two parsed bulk lines field by field, strictly (an integer 1 differs from a float
// 1.0). Used by the bulk-line fuzz target and the unit tests to check that the fast way
// (simdjson) and the document way (nlohmann) read a line the same.
#pragma once

#include <string>

#include "bulk/bulk_line.hpp"

namespace cmdb::testing {

inline std::string DescribeValue(const Value& v) {
  return std::to_string(static_cast<int>(v.kind())) + ":" + v.ToLiteral();
}

inline std::string DescribeAttrs(const AttrMap& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) out += std::string(k) + "=" + DescribeValue(v) + ",";
  return out + "}";
}

inline std::string DescribeStatus(const Status& s) { return s.ToString(); }

inline std::string DescribeEndpoint(const bulk::BulkEndpoint& e) {
  return std::to_string(static_cast<int>(e.kind)) + " id=" + std::to_string(e.id) + " name=" +
         e.name + " key=" + DescribeAttrs(e.key) + " index_key=" + e.index_key.value_or("<none>") +
         " error=" + DescribeStatus(e.error);
}

// Everything a staging thread reads of a line, as text.
inline std::string DescribeBulkLine(const bulk::BulkLine& l) {
  auto opt = [](const std::optional<std::string>& s) { return s ? "'" + *s + "'" : "<none>"; };
  std::string out = "line " + std::to_string(l.line_no) + (l.blank ? " blank" : "") +
                    " error=" + DescribeStatus(l.error);
  if (!l.error.ok()) return out;
  out += " op=" + std::to_string(static_cast<int>(l.op));
  out += " id=" + std::string(l.has_id ? (l.id ? std::to_string(*l.id) : "<not int>") : "<none>");
  out += " class=" + opt(l.cls) + " ref=" + (l.has_ref ? opt(l.ref) : "<absent>");
  out += " type=" + opt(l.type);
  out += " from=[" + DescribeEndpoint(l.from) + "] to=[" + DescribeEndpoint(l.to) + "]";
  out += " attrs=" + (l.attrs.ok() ? DescribeAttrs(*l.attrs) : DescribeStatus(l.attrs.status()));
  out += l.normalized ? " normalized" : "";
  return out;
}

// "" when equal, else both descriptions.
inline std::string BulkLineDiff(const bulk::BulkLine& a, const bulk::BulkLine& b) {
  std::string da = DescribeBulkLine(a), db = DescribeBulkLine(b);
  return da == db ? "" : "\n  " + da + "\n  " + db;
}

}  // namespace cmdb::testing
