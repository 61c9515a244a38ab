// Temporal values of the query language: DATE, LOCAL TIME, ZONED TIME, LOCAL DATETIME, ZONED
// DATETIME (with a fixed UTC offset; no named time zones) and DURATION, with nanosecond
// precision. Construction from ISO-8601 strings and from maps, the ISO-8601 text form (the JSON
// form of these values too), components (`.year`, `.hour`, `.days` ...), arithmetic (instant +-
// duration, duration +- duration, instant - instant of the same type), comparison and truncation.
// DATE and DATETIME attributes read as DATE and ZONED DATETIME values (AttrToQValue).
// Thread safety: pure functions over immutable values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cmdb/schema.hpp"
#include "query/common/enums.hpp"
#include "query/runtime/functions.hpp"
#include "query/runtime/value.hpp"

namespace cmdb::gql {

// ISO-8601 text of a temporal value: 2026-12-03, 10:15:30.5, 10:15Z, 2026-12-03T10:15:30+01:00,
// P1Y2M10DT2H30M (PT0S for a zero duration).
std::string FormatTemporal(const Temporal& t);
// "DATE", "LOCAL TIME", "ZONED TIME", "LOCAL DATETIME", "ZONED DATETIME", "DURATION".
const char* TemporalTypeName(TemporalType t);

// Ternary equality of two temporal values (false for different types).
bool TemporalEquals(const Temporal& a, const Temporal& b);
// <0, 0, >0 for two instants of the same type (zoned ones by their UTC instant); nullopt for
// different types and for durations (which have no order).
std::optional<int> TemporalCompare(const Temporal& a, const Temporal& b);
// A total order for ORDER BY: by type, then by value (durations by months, days, seconds).
int TemporalSortCompare(const Temporal& a, const Temporal& b);
size_t TemporalHash(const Temporal& t);

// a + b, a - b where one side is temporal: instant +- duration, duration + instant, duration +-
// duration, instant - instant of the same type (a duration). nullopt when the pair has no such
// operation (the caller reports the type error). Throws QueryError on overflow (`offset`).
std::optional<QValue> TemporalArithmetic(bool subtract, const QValue& a, const QValue& b, size_t offset);

// duration * number, number * duration, duration / number: each field scaled, fractions going
// down the units as in duration() (a month is 2,629,746 s). nullopt when the pair is no such
// operation; throws on division by zero and past the limits of a duration.
std::optional<QValue> TemporalScale(Op op, const QValue& a, const QValue& b, size_t offset);

// The component `key` of a temporal value (`.year`, `.month`, `.hour`, `.timezone`, `.days`,
// ...); throws a located QueryError naming the type when it has no such component.
QValue TemporalComponent(const Temporal& t, const std::string& key, size_t offset);

// A stored attribute value as the language reads it: a DATE or DATETIME attribute's ISO string
// becomes a DATE or ZONED DATETIME; anything else as FromValue gives it. `owner` is the CI's
// class or the relationship's type (`relationship` true).
QValue AttrToQValue(const Schema& schema, std::string_view owner, bool relationship, std::string_view key,
                    const Value& v);

// Hands the temporal functions to `add` (name, minimum and maximum number of arguments,
// implementation): date(), datetime(), localdatetime(), time(), localtime(), duration(), the
// .truncate variants, duration.inDays(), duration.inSeconds().
void AddTemporalFunctions(const std::function<void(const char* name, int min_args, int max_args, ScalarFn fn)>& add);

}  // namespace cmdb::gql
