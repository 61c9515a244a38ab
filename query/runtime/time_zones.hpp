// Named time zones ("Europe/Berlin") from the system's time zone database: Debian's tzdata, read
// by Howard Hinnant's date library (libdate-tz; only time_zones.cpp includes date/tz.h). Used by
// the temporal values of the language (temporal.hpp): a DATETIME may carry a zone name, whose
// offset follows daylight saving time.
// Thread safety: the database is loaded once, on first use; every call may run on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cmdb::gql {

// The offset east of UTC, in seconds, of `zone` at the UTC instant `utc_seconds`; nullopt when
// no zone has that name.
std::optional<int32_t> ZoneOffsetAtUtc(const std::string& zone, int64_t utc_seconds);

// A local time of `zone` resolved to an offset: a local time in a daylight-saving gap (02:30 on
// the night clocks go from 02:00 to 03:00) does not exist and is moved forward by the gap
// (`shift_seconds`, then 03:30 at the new offset); one that occurs twice (clocks go back) takes
// the earlier offset, the one in force before the change.
struct ZoneResolution {
  int32_t offset = 0;
  int64_t shift_seconds = 0;
};
// `local_seconds`: the local time as seconds since 1970-01-01T00:00 local. nullopt when no zone
// has that name.
std::optional<ZoneResolution> ZoneOffsetAtLocal(const std::string& zone, int64_t local_seconds);

}  // namespace cmdb::gql
