#include "cmdb/attr_codec.hpp"

#include <algorithm>

#include <cstring>

namespace cmdb {
namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutValue(std::string& out, const Value& v) {
  out.push_back(static_cast<char>(v.kind()));
  switch (v.kind()) {
    case Value::Kind::kNull: break;
    case Value::Kind::kBool: out.push_back(v.as_bool() ? 1 : 0); break;
    case Value::Kind::kInt: {
      int64_t i = v.as_int();
      PutVarint(out, (static_cast<uint64_t>(i) << 1) ^ static_cast<uint64_t>(i >> 63));
      break;
    }
    case Value::Kind::kFloat: {
      char buf[8];
      double d = v.as_float();
      std::memcpy(buf, &d, 8);
      out.append(buf, 8);
      break;
    }
    case Value::Kind::kString:
      PutVarint(out, v.as_string().size());
      out += v.as_string();
      break;
    case Value::Kind::kList:
      PutVarint(out, v.as_list().size());
      for (const Value& e : v.as_list()) PutValue(out, e);
      break;
  }
}

struct Reader {
  std::string_view in;
  size_t pos = 0;
  bool ok = true;

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size()) return ok = false, 0;
      uint8_t b = static_cast<uint8_t>(in[pos++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return ok = false, 0;
  }
  std::string Bytes(uint64_t n) {
    if (n > in.size() - pos) return ok = false, std::string();
    std::string s(in.substr(pos, n));
    pos += n;
    return s;
  }
  Value Val(int depth) {
    if (pos >= in.size() || depth > 16) return ok = false, Value();
    auto kind = static_cast<Value::Kind>(in[pos++]);
    switch (kind) {
      case Value::Kind::kNull: return Value();
      case Value::Kind::kBool:
        if (pos >= in.size()) return ok = false, Value();
        return Value(in[pos++] != 0);
      case Value::Kind::kInt: {
        uint64_t z = Varint();
        return Value(static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1)));
      }
      case Value::Kind::kFloat: {
        if (in.size() - pos < 8) return ok = false, Value();
        double d;
        std::memcpy(&d, in.data() + pos, 8);
        pos += 8;
        return Value(d);
      }
      case Value::Kind::kString: return Value(Bytes(Varint()));
      case Value::Kind::kList: {
        uint64_t n = Varint();
        ValueList list;
        for (uint64_t i = 0; i < n && ok; ++i) list.push_back(Val(depth + 1));
        return Value(std::move(list));
      }
    }
    return ok = false, Value();
  }
};

}  // namespace

void EncodeAttrsTo(const AttrMap& attrs, std::string& out) {
  PutVarint(out, attrs.size());
  for (const auto& [name, value] : attrs) {
    PutVarint(out, name.size());
    out += name;
    PutValue(out, value);
  }
}

std::string EncodeAttrs(const AttrMap& attrs) {
  std::string out;
  EncodeAttrsTo(attrs, out);
  return out;
}

Result<AttrMap> DecodeAttrs(std::string_view bytes) {
  Reader r{bytes};
  AttrMap::Builder out;
  uint64_t n = r.Varint();
  for (uint64_t i = 0; i < n && r.ok; ++i) {
    std::string name = r.Bytes(r.Varint());
    Value v = r.Val(0);
    if (r.ok) out.Add(name, std::move(v));
  }
  if (!r.ok || r.pos != bytes.size()) return Status::Internal("corrupt attribute encoding");
  return out.Build();
}

}  // namespace cmdb
