// A compact binary encoding of attribute maps, used by stores to persist CI and relationship
// attributes without a JSON dependency in the core.
// Format: varint count, then per entry: varint name length, name bytes, one tag byte and the
// payload (bool: 1 byte; int: zigzag varint; float: 8 bytes little-endian; string: varint length
// and bytes; list: varint count and tagged elements).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"

namespace cmdb {

std::string EncodeAttrs(const AttrMap& attrs);
// Appends the encoding of `attrs` to `out` (callers reusing one buffer avoid an allocation).
void EncodeAttrsTo(const AttrMap& attrs, std::string& out);
// Fails with kInternal on truncated or corrupt input.
Result<AttrMap> DecodeAttrs(std::string_view bytes);

}  // namespace cmdb
