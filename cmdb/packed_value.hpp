// Packed values: the byte form in which attribute maps hold their values (attr_map.hpp).
//
// A Value takes 16 bytes in memory; packed, a value takes a tag byte and what it needs: a short
// string its characters, an IPv4 address its four bytes, an integer its significant bytes, a
// float with an integral value as an integer. A virtual machine's eight attributes take about 55
// bytes instead of 128.
//
// Layout: a tag byte, kind in the low 3 bits, then
//   bool        value in bit 3, nothing after;
//   int         bits 3-6: n (0-8), then n bytes of the zigzag form, little-endian;
//   float       8 bytes (IEEE 754, little-endian);
//   whole float bits 3-6: n, then n bytes of the zigzag form of the integral value (finite
//               values of magnitude below 2^53, not -0.0: they read back exactly);
//   string      bits 3-7: the length when below 31, then the characters; 31: a 4-byte length,
//               then the characters;
//   IPv4 string 4 bytes, the octets of a string that is an IPv4 address in canonical dotted form
//               ("10.1.0.7"; no leading zeros), which reads back to the same characters;
//   list        a 4-byte count, then the packed elements.
// The form is canonical: values with the same bits pack to the same bytes. Null is never packed.
// Packed bytes carry no alignment: read them with memcpy. They are an in-memory form only (the
// store has its own, attr_codec.hpp).
// Thread safety: pure functions.
#pragma once

#include <cstddef>

#include "cmdb/value.hpp"

namespace cmdb::packed {

// Bytes `v` takes packed. `v` must not be null; throws std::length_error for a string or list
// of 2^32 bytes or elements or more.
size_t Size(const Value& v);
// Packs `v` at `out` (room for Size(v) bytes, which must have been asked first); returns the end.
// Does not throw.
char* Pack(const Value& v, char* out);
// The value packed at `p`; advances `p` past it.
Value Unpack(const char*& p);
// The end of the value packed at `p`.
const char* Skip(const char* p);

}  // namespace cmdb::packed
