#include "cmdb/attr_name.hpp"

#include <deque>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace cmdb {
namespace {

// The process-wide pool. Strings live in a deque (stable addresses); the map's keys view them.
struct Pool {
  std::shared_mutex mu;
  std::deque<std::string> names;
  std::unordered_map<std::string_view, const std::string*> index;
};

Pool& ThePool() {
  static Pool* pool = new Pool();  // never destroyed: names outlive every static AttrMap
  return *pool;
}

const std::string* InternSlow(std::string_view name) {
  Pool& pool = ThePool();
  {
    std::shared_lock lock(pool.mu);
    auto it = pool.index.find(name);
    if (it != pool.index.end()) return it->second;
  }
  std::unique_lock lock(pool.mu);
  auto it = pool.index.find(name);
  if (it != pool.index.end()) return it->second;
  const std::string* s = &pool.names.emplace_back(name);
  pool.index.emplace(*s, s);
  return s;
}

}  // namespace

const std::string& InternAttrName(std::string_view name) {
  // Each thread remembers the names it has seen, so the hot path takes no lock.
  thread_local std::unordered_map<std::string_view, const std::string*> seen;
  auto it = seen.find(name);
  if (it != seen.end()) return *it->second;
  const std::string* s = InternSlow(name);
  seen.emplace(*s, s);
  return *s;
}

size_t InternedAttrNameCount() {
  Pool& pool = ThePool();
  std::shared_lock lock(pool.mu);
  return pool.names.size();
}

}  // namespace cmdb
