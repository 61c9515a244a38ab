#include "cmdb/attr_name.hpp"

#include <deque>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>

namespace cmdb {
namespace name_pool_detail {
std::atomic<const std::string* const*> segments[kSegments];

const std::string& EmptyName() {
  static const std::string* empty = new std::string();  // never destroyed, like the pool
  return *empty;
}
}  // namespace name_pool_detail

namespace {

struct Interned {
  const std::string* name;
  uint32_t id;
};

// The process-wide pool. Strings live in a deque (stable addresses); the map's keys view them.
// Segments of the number table are allocated as needed and never freed or moved.
struct Pool {
  std::shared_mutex mu;
  std::deque<std::string> names;  // numbers 1, 2, ...
  std::unordered_map<std::string_view, Interned> index;

  Pool() { index.emplace("", Interned{&name_pool_detail::EmptyName(), 0}); }

  Interned Add(std::string_view name) {  // requires mu held exclusively
    using namespace name_pool_detail;
    if (names.size() + 1 >= kMaxInternedNames)
      throw std::length_error("too many distinct names (at most 16,777,215 attribute, class and "
                              "relationship type names)");
    uint32_t id = static_cast<uint32_t>(names.size() + 1);
    const std::string* s = &names.emplace_back(name);
    auto& slot = segments[id >> kSegmentBits];
    const std::string** segment = const_cast<const std::string**>(slot.load(std::memory_order_relaxed));
    if (!segment) {
      segment = new const std::string*[size_t(1) << kSegmentBits]();
      slot.store(segment, std::memory_order_release);
    }
    segment[id & ((1u << kSegmentBits) - 1)] = s;
    Interned in{s, id};
    index.emplace(*s, in);
    return in;
  }
};

Pool& ThePool() {
  static Pool* pool = new Pool();  // never destroyed: names outlive every static AttrMap
  return *pool;
}

Interned InternSlow(std::string_view name) {
  Pool& pool = ThePool();
  {
    std::shared_lock lock(pool.mu);
    auto it = pool.index.find(name);
    if (it != pool.index.end()) return it->second;
  }
  std::unique_lock lock(pool.mu);
  auto it = pool.index.find(name);
  if (it != pool.index.end()) return it->second;
  return pool.Add(name);
}

Interned Intern(std::string_view name) {
  // Each thread remembers the names it has seen, so the hot path takes no lock.
  thread_local std::unordered_map<std::string_view, Interned> seen;
  auto it = seen.find(name);
  if (it != seen.end()) return it->second;
  Interned in = InternSlow(name);
  seen.emplace(*in.name, in);
  return in;
}

}  // namespace

const std::string& InternAttrName(std::string_view name) { return *Intern(name).name; }

uint32_t InternAttrNameId(std::string_view name) { return Intern(name).id; }

size_t InternedAttrNameCount() {
  Pool& pool = ThePool();
  std::shared_lock lock(pool.mu);
  return pool.names.size() + 1;
}

}  // namespace cmdb
