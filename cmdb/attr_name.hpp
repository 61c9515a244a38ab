// Interned attribute names: every distinct attribute name is stored once for the life of the
// process, so the millions of attribute maps of a large CMDB hold an 8-byte pointer per entry
// instead of their own copy of "environment" or "ip_address". Each interned name also has a
// dense 32-bit number (0 for "", then in interning order), so records can name their class or
// relationship type in 4 bytes (interned_name.hpp).
//
// The pool only grows: a name stays after the last attribute using it is gone. Its size is
// bounded by the distinct names ever written (the schema's attributes, plus what open-mode
// classes and relationship properties use), which the history keeps anyway; past
// kMaxInternedNames distinct names interning throws std::length_error.
// Thread safety: InternAttrName and InternAttrNameId may be called from any thread; the returned
// references are valid for the life of the process. AttrNameById may be called from any thread
// for a number that reached it through the usual synchronisation (a lock, a queue, a join).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cmdb {

inline constexpr size_t kMaxInternedNames = size_t(1) << 24;

// The interned copy of `name`. Equal names give the same object, so two interned names are
// equal exactly when their addresses are.
const std::string& InternAttrName(std::string_view name);
// The number of the interned copy of `name`: equal names give equal numbers.
uint32_t InternAttrNameId(std::string_view name);

namespace name_pool_detail {
inline constexpr unsigned kSegmentBits = 12;  // 4,096 names a segment
inline constexpr size_t kSegments = kMaxInternedNames >> kSegmentBits;
// Segment s holds the names numbered [s << kSegmentBits, (s + 1) << kSegmentBits).
extern std::atomic<const std::string* const*> segments[kSegments];
const std::string& EmptyName();
}  // namespace name_pool_detail

// The interned name numbered `id` (a number InternAttrNameId returned, or 0 for "", which needs
// nothing interned yet: default InternedNames of static records read it).
inline const std::string& AttrNameById(uint32_t id) {
  using namespace name_pool_detail;
  if (id == 0) return EmptyName();
  const std::string* const* segment = segments[id >> kSegmentBits].load(std::memory_order_acquire);
  return *segment[id & ((1u << kSegmentBits) - 1)];
}

// How many distinct names are interned (diagnostics and tests).
size_t InternedAttrNameCount();

}  // namespace cmdb
