// Checks the fields of an ISO-8601 date-time the query language reads (AS OF '...') before it is
// converted, so an impossible time is refused with the reason instead of being normalized
// ("+25:00", minute 60, 31 April).
// Thread safety: pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cmdb::gql {

// nullopt when `text` is "YYYY-MM-DD" or "YYYY-MM-DD(T| )HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM]"
// with a real calendar date, hour 00-23, minute and second 00-59 and an offset within +-18:00;
// otherwise what is wrong ("the time zone offset +25:00 is past +-18:00"), or an empty string
// when the text does not have that shape at all.
std::optional<std::string> TimeTextProblem(std::string_view text);

}  // namespace cmdb::gql
