// Typed access to the fields of a process record body (an AttrMap), for the record codecs of
// this layer. Missing or mistyped fields read as the empty value of their type: bodies are only
// ever written by these codecs.
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

std::string StrField(const AttrMap& body, std::string_view name);
int64_t IntField(const AttrMap& body, std::string_view name);
double FloatField(const AttrMap& body, std::string_view name);
bool BoolField(const AttrMap& body, std::string_view name);
std::vector<int64_t> IntsField(const AttrMap& body, std::string_view name);
std::vector<std::string> StrsField(const AttrMap& body, std::string_view name);
ValueList ListField(const AttrMap& body, std::string_view name);

Value IntsValue(const std::vector<int64_t>& ids);
Value StrsValue(const std::vector<std::string>& items);

// Elements of a list-encoded tuple (see the codecs), with the same leniency.
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
