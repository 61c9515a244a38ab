// Helpers for the record codecs of this layer (see record_fields.hpp): list values and the
// elements of list-encoded tuples, read leniently — a missing or mistyped element reads as the
// empty value of its type (bodies are only ever written by these codecs).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"

namespace cmdb::process {

// A list of ids, or of strings, as a stored value.
Value IntsValue(const std::vector<int64_t>& ids);
Value StrsValue(const std::vector<std::string>& items);

// Elements of a list-encoded tuple (see the codecs).
std::string StrAt(const ValueList& tuple, size_t i);
int64_t IntAt(const ValueList& tuple, size_t i);
double FloatAt(const ValueList& tuple, size_t i);
std::vector<int64_t> IntsAt(const ValueList& tuple, size_t i);

// The enumerator whose name is `name`, given the names in enumerator order.
template <typename E, size_t N>
std::optional<E> EnumByName(const char* const (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

// The 409 of a state machine: "<subject> in state <from> cannot move to <to>; allowed: ..."
// (or "it is final"), with details "state" and "allowed" and type forbidden_transition.
Status ForbiddenTransition(const std::string& subject, const std::string& from,
                           const std::string& to, const std::vector<std::string>& allowed);

}  // namespace cmdb::process
