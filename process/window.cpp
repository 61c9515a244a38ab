#include "process/window.hpp"

#include <algorithm>
#include <cctype>

#include "process/doc_fields.hpp"

namespace cmdb::process {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kDay = 24 * 60 * kMinute;
constexpr const char* kKindNames[] = {"maintenance", "blackout"};
constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr const char* kLongDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                     "friday", "saturday", "sunday"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Weekday of the day starting at `day_start` (midnight UTC): 0 = Monday. 1970-01-01 was a Thursday.
int WeekdayOf(int64_t day_start) {
  return static_cast<int>(((FloorDiv(day_start, kDay) % 7) + 7 + 3) % 7);
}

}  // namespace

const char* WindowKindName(WindowKind k) { return kKindNames[static_cast<int>(k)]; }

std::vector<std::string> WindowKindNames() {
  return {std::begin(kKindNames), std::end(kKindNames)};
}

std::optional<WindowKind> ParseWindowKind(std::string_view name) {
  return EnumByName<WindowKind>(kKindNames, name);
}

std::optional<int> ParseWeekday(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 7; ++i) {
    if (lower == kDays[i] || lower == kLongDays[i]) return 1 << i;
  }
  return std::nullopt;
}

std::vector<std::string> WeekdayNames(int days) {
  std::vector<std::string> out;
  for (int i = 0; i < 7; ++i) {
    if (days & (1 << i)) out.emplace_back(kDays[i]);
  }
  return out;
}

Status ValidateWindow(const Window& w) {
  CMDB_RETURN_IF_ERROR(CheckRequired(WindowFieldTable(), w, "window"));
  if (!w.weekly) {
    if (w.start == 0 || w.end == 0)
      return Status::Invalid("a window needs \"start\" and \"end\", or a \"weekly\" rule")
          .With("field", "start");
    if (w.start >= w.end)
      return Status::Invalid("window \"start\" must be before \"end\"").With("field", "end");
    return Status::Ok();
  }
  if (w.days == 0)
    return Status::Invalid("a weekly window needs at least one day").With("field", "weekly.days");
  if (w.start_minute < 0 || w.start_minute >= 24 * 60)
    return Status::Invalid("weekly \"start\" must be a time of day HH:MM")
        .With("field", "weekly.start");
  if (w.duration_minutes <= 0 || w.duration_minutes > 7 * 24 * 60)
    return Status::Invalid("weekly \"duration_minutes\" must be from 1 to 10080 (a week)")
        .With("field", "weekly.duration_minutes");
  if (w.start && w.end && w.start >= w.end)
    return Status::Invalid("window \"start\" must be before \"end\"").With("field", "end");
  return Status::Ok();
}

std::vector<Interval> Occurrences(const Window& w, int64_t from, int64_t to) {
  std::vector<Interval> out;
  if (!w.weekly) {
    if (w.start < to && from < w.end) out.push_back({w.start, w.end});
    return out;
  }
  int64_t duration = w.duration_minutes * kMinute;
  // An occurrence that starts up to `duration` before `from` can still overlap it.
  int64_t first_day = FloorDiv(from - duration, kDay) * kDay;
  for (int64_t day = first_day; day < to; day += kDay) {
    if (!(w.days & (1 << WeekdayOf(day)))) continue;
    Interval occ{day + w.start_minute * kMinute, day + w.start_minute * kMinute + duration};
    if (w.start && occ.end <= w.start) continue;  // bounded recurrence
    if (w.end && occ.start >= w.end) continue;
    if (occ.start < to && from < occ.end) out.push_back(occ);
  }
  return out;
}

bool Overlaps(const Window& w, int64_t start, int64_t end) {
  return !Occurrences(w, start, end).empty();
}

bool Contains(const Window& w, int64_t start, int64_t end) {
  for (const Interval& occ : Occurrences(w, start, end)) {
    if (occ.start <= start && end <= occ.end) return true;
  }
  return false;
}

const FieldTable<Window>& WindowFieldTable() {
  static const FieldTable<Window> kTable = [] {
    FieldTable<Window> t;
    t.push_back(Field("name", &Window::name).Required().Editable());
    t.push_back(Field("description", &Window::description).Editable());
    t.push_back(EnumField("kind", &Window::kind, kKindNames).Required().Editable());
    t.push_back(Field("start", &Window::start, FieldType::kTime).Editable());
    t.push_back(Field("end", &Window::end, FieldType::kTime).Editable());
    t.push_back(Field("weekly", &Window::weekly).InJson(JsonForm::kOwn));
    t.push_back(Field("days", &Window::days).InJson(JsonForm::kOwn));
    t.push_back(Field("start_minute", &Window::start_minute).InJson(JsonForm::kOwn));
    t.push_back(Field("duration_minutes", &Window::duration_minutes).InJson(JsonForm::kOwn));
    t.push_back(Field("cis", &Window::cis, FieldType::kCiIds).InJson(JsonForm::kOwn));
    t.push_back(Field("query", &Window::query).InJson(JsonForm::kOwn));
    t.push_back(Field("created_by", &Window::created_by));
    return t;
  }();
  return kTable;
}

DocRecord WindowToDoc(const Window& w) { return RecordToDoc(kWindowKind, WindowFieldTable(), w); }

Window WindowFromDoc(const DocRecord& d) { return RecordFromDoc(WindowFieldTable(), d); }

}  // namespace cmdb::process
