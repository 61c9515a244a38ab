#include "query/runtime/time_zones.hpp"

#include <date/tz.h>

#include <chrono>
#include <stdexcept>

namespace cmdb::gql {
namespace {

// The zone of that name; nullptr when there is none (date::locate_zone throws then).
const date::time_zone* Find(const std::string& zone) {
  if (zone.empty() || zone.size() > 64) return nullptr;
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

std::optional<int32_t> ZoneOffsetAtUtc(const std::string& zone, int64_t utc_seconds) {
  const date::time_zone* z = Find(zone);
  if (!z) return std::nullopt;
  date::sys_seconds at{std::chrono::seconds(utc_seconds)};
  return static_cast<int32_t>(z->get_info(at).offset.count());
}

std::optional<ZoneResolution> ZoneOffsetAtLocal(const std::string& zone, int64_t local_seconds) {
  const date::time_zone* z = Find(zone);
  if (!z) return std::nullopt;
  date::local_seconds at{std::chrono::seconds(local_seconds)};
  date::local_info info = z->get_info(at);
  ZoneResolution r;
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // the earlier offset: the one before the change
      r.offset = static_cast<int32_t>(info.first.offset.count());
      break;
    case date::local_info::nonexistent:  // in the gap: forward by its length
      r.shift_seconds = (info.second.offset - info.first.offset).count();
      r.offset = static_cast<int32_t>(info.second.offset.count());
      break;
  }
  return r;
}

}  // namespace cmdb::gql
