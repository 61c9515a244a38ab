// Maintenance and blackout windows: when changes may (maintenance) or may not (blackout) touch
// the CIs in a window's scope. A window is an explicit range or a weekly recurrence (days of
// the week, a start time and a duration, UTC), scoped to every CI, a list of CIs or the CIs a
// read query returns. Stored as process records of kind "window".
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "process/record_fields.hpp"

namespace cmdb::process {

inline constexpr const char* kWindowKind = "window";

enum class WindowKind { kMaintenance, kBlackout };
const char* WindowKindName(WindowKind k);  // "maintenance", "blackout"
std::vector<std::string> WindowKindNames();
std::optional<WindowKind> ParseWindowKind(std::string_view name);

// A time interval [start, end) in micros since the epoch.
struct Interval {
  int64_t start = 0;
  int64_t end = 0;
};

struct Window {
  int64_t id = 0;
  int64_t version = 0;
  std::string name;
  std::string description;
  WindowKind kind = WindowKind::kMaintenance;
  // Either an explicit range...
  int64_t start = 0;
  int64_t end = 0;
  // ... or a weekly recurrence: days (bit 0 = Monday ... bit 6 = Sunday), a start minute of the
  // day (UTC) and a duration; optionally bounded by [start, end) when those are set too.
  bool weekly = false;
  int days = 0;
  int start_minute = 0;
  int duration_minutes = 0;
  // Scope: every CI (neither set), the listed CIs, or those a read query returns.
  std::vector<CiId> cis;
  std::string query;
  std::string created_by;
};

// "mon" ... "sun" (also full names, any case) -> bit; nullopt otherwise.
std::optional<int> ParseWeekday(std::string_view name);
std::vector<std::string> WeekdayNames(int days);

// Checks a window is well-formed (a range with start < end, or a weekly rule with days and a
// duration of at most 7 days, a name). kInvalidArgument naming the field.
Status ValidateWindow(const Window& w);

// The occurrences of a window that overlap [from, to), in time order.
std::vector<Interval> Occurrences(const Window& w, int64_t from, int64_t to);
// True when some occurrence overlaps [start, end).
bool Overlaps(const Window& w, int64_t start, int64_t end);
// True when one occurrence contains all of [start, end).
bool Contains(const Window& w, int64_t start, int64_t end);

// The stored fields of a window (see record_fields.hpp). The api reads name, kind, description,
// start and end through the table and the recurrence and scope in their own JSON shapes.
const FieldTable<Window>& WindowFieldTable();

// The process record of a window and back.
DocRecord WindowToDoc(const Window& w);
Window WindowFromDoc(const DocRecord& doc);

}  // namespace cmdb::process
