#include "bulk/bulk_line.hpp"

#include <simdjson.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "bulk/bulk_reader.hpp"
#include "bulk/json.hpp"
#include "cmdb/graph.hpp"

namespace cmdb::bulk {
namespace {

// nlohmann's message as a reason (JsonErrorReason).
std::string JsonReason(const std::string& what) { return JsonErrorReason(what); }

using Members = std::vector<std::pair<std::string, Value>>;

bool IsBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Members as an AttrMap, the last of equal names winning (as in a JSON document).
AttrMap ToAttrMap(Members& members) {
  AttrMap::Builder out;
  for (auto& [name, value] : members) out.Add(name, std::move(value));
  return out.Build();
}

// What both ways share once the members are known: the "op" check and the schema-only work.
void Complete(BulkLine& line, const std::optional<std::string>& op, const Schema& schema) {
  if (op != "rel") line.from = line.to = BulkEndpoint();  // read on "rel" lines only
  // Refs are hashed here, on the parser threads (BulkRefs).
  if (line.ref) line.ref_hash = BulkRefs::Hash(*line.ref);
  for (BulkEndpoint* e : {&line.from, &line.to}) {
    if (e->kind == BulkEndpoint::Kind::kRef) e->ref_hash = BulkRefs::Hash(e->name);
  }
  if (!op) {
    line.error = Status::Invalid("missing \"op\" (\"ci\" or \"rel\")");
    return;
  }
  if (*op == "ci") {
    line.op = BulkLine::Op::kCi;
    if (line.has_id || !line.cls || !line.attrs.ok()) return;
    Status st = schema.NormalizeAttrs(*line.cls, *line.attrs);
    if (st.ok()) line.normalized = true;
    else line.attrs = std::move(st);
  } else if (*op == "rel") {
    line.op = BulkLine::Op::kRel;
    for (BulkEndpoint* e : {&line.from, &line.to}) {
      if (e->kind != BulkEndpoint::Kind::kKey) continue;
      AttrMap key = e->key;
      Status st = schema.NormalizeLookup(e->name, key);
      if (!st.ok()) {
        e->kind = BulkEndpoint::Kind::kInvalid;
        e->error = std::move(st);
      } else {
        e->index_key = KeyIndexKey(schema, e->name, key);
      }
    }
  } else {
    line.error = Status::Invalid("unknown op " + JsonText(Json(*op)) + " (\"ci\" or \"rel\")");
  }
}

// --- The document way: every line, every problem named. ---

BulkEndpoint EndpointFromDocument(const Json& line, const char* field) {
  BulkEndpoint out;
  auto e = line.find(field);
  if (e == line.end()) return out;
  if (e->is_number_integer()) {
    out.kind = BulkEndpoint::Kind::kId;
    out.id = e->get<int64_t>();
  } else if (Status st = CheckJsonFields(*e, {"ref", "class", "key"}, field); !st.ok()) {
    out.kind = BulkEndpoint::Kind::kInvalid;
    out.error = std::move(st);
  } else if (e->is_object() && e->contains("ref")) {
    const Json& ref = (*e)["ref"];
    if (ref.is_string()) {
      out.kind = BulkEndpoint::Kind::kRef;
      out.name = ref.get<std::string>();
    } else {
      out.kind = BulkEndpoint::Kind::kInvalid;
      out.error = BulkUnknownRef(field, JsonText(ref));
    }
  } else if (e->is_object() && e->contains("class") && e->contains("key")) {
    auto key = AttrsFromJson((*e)["key"], std::string(field) + ".key");
    if (!key.ok()) {
      out.kind = BulkEndpoint::Kind::kInvalid;
      out.error = key.status();
    } else {
      out.kind = BulkEndpoint::Kind::kKey;
      out.name = (*e)["class"].is_string() ? (*e)["class"].get<std::string>() : "";
      out.key = std::move(*key);
    }
  } else {
    out.kind = BulkEndpoint::Kind::kInvalid;
    out.error = Status::Invalid(std::string("\"") + field +
                                "\" must be an id, {\"ref\": ...} or {\"class\": ..., \"key\": {...}}");
  }
  return out;
}

void FromDocument(const Json& j, BulkLine& line, const Schema& schema) {
  if (!j.is_object()) {
    line.error = Status::Invalid("a line must be a JSON object");
    return;
  }
  if (Status st = CheckJsonFields(j, {"op", "ref", "class", "id", "type", "attributes", "from", "to"}, "");
      !st.ok()) {
    line.error = std::move(st);
    return;
  }
  std::optional<std::string> op;
  if (auto o = j.find("op"); o != j.end() && o->is_string()) op = o->get<std::string>();
  if (auto id = j.find("id"); id != j.end()) {
    line.has_id = true;
    if (id->is_number_integer()) line.id = id->get<int64_t>();
  }
  if (auto c = j.find("class"); c != j.end() && c->is_string()) line.cls = c->get<std::string>();
  if (auto r = j.find("ref"); r != j.end()) {
    line.has_ref = true;
    if (r->is_string()) line.ref = r->get<std::string>();
  }
  if (auto t = j.find("type"); t != j.end() && t->is_string()) line.type = t->get<std::string>();
  if (op == "rel") {
    line.from = EndpointFromDocument(j, "from");
    line.to = EndpointFromDocument(j, "to");
  }
  if (auto a = j.find("attributes"); a != j.end()) line.attrs = AttrsFromJson(*a, "attributes");
  Complete(line, op, schema);
}

// --- The fast way: simdjson, for the common shape only; anything else returns false. ---
//
// Accepts a line object whose members are "op", "ref", "class", "type" (strings), "id" (an
// integer), "attributes" (null or an object of scalars), "from" and "to" (an integer,
// {"ref": string} or {"class": string, "key": object of non-null scalars}), each at most once,
// without escapes or control characters (so strings need no unescaping and no JSON parser
// could read them differently). Integers beyond int64 are left to the document way.

namespace sj = simdjson::dom;

enum class Field { kOp, kRef, kClass, kId, kType, kAttributes, kFrom, kTo, kKey, kUnknown };

Field FieldOf(std::string_view k) {
  static constexpr std::pair<std::string_view, Field> kFields[] = {
      {"op", Field::kOp},     {"ref", Field::kRef},   {"class", Field::kClass},
      {"id", Field::kId},     {"type", Field::kType}, {"attributes", Field::kAttributes},
      {"from", Field::kFrom}, {"to", Field::kTo},     {"key", Field::kKey}};
  for (const auto& [name, f] : kFields)
    if (name == k) return f;
  return Field::kUnknown;
}

// Marks `f` seen in `seen`; false when it was already.
bool FirstTime(unsigned& seen, Field f) {
  unsigned bit = 1u << static_cast<unsigned>(f);
  if (seen & bit) return false;
  seen |= bit;
  return true;
}

bool StringOf(sj::element e, std::optional<std::string>& out) {
  std::string_view s;
  if (e.get_string().get(s)) return false;
  out.emplace(s);
  return true;
}

bool ScalarOf(sj::element e, Value& out) {
  switch (e.type()) {
    case sj::element_type::INT64: out = Value(e.get_int64().value_unsafe()); return true;
    case sj::element_type::DOUBLE: out = Value(e.get_double().value_unsafe()); return true;
    case sj::element_type::STRING: out = Value(e.get_string().value_unsafe()); return true;
    case sj::element_type::BOOL: out = Value(e.get_bool().value_unsafe()); return true;
    case sj::element_type::NULL_VALUE: out = Value(); return true;
    default: return false;  // UINT64 past int64, arrays, objects
  }
}

// An object of scalars as an AttrMap (nulls only when `allow_null`).
bool AttrsOf(sj::element e, bool allow_null, AttrMap& out) {
  sj::object obj;
  if (e.get_object().get(obj)) return false;
  thread_local Members members;
  members.clear();
  for (sj::key_value_pair kv : obj) {
    Value v;
    if (!ScalarOf(kv.value, v) || (!allow_null && v.is_null())) return false;
    members.emplace_back(std::string(kv.key), std::move(v));
  }
  // A repeated name: the document way refuses it.
  if (members.size() <= 16) {
    for (size_t i = 1; i < members.size(); ++i) {
      for (size_t k = 0; k < i; ++k)
        if (members[k].first == members[i].first) return false;
    }
  } else {
    std::vector<std::string_view> names;
    names.reserve(members.size());
    for (const auto& m : members) names.emplace_back(m.first);
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) return false;
  }
  out = ToAttrMap(members);
  return true;
}

bool EndpointOf(sj::element e, BulkEndpoint& out) {
  if (e.type() == sj::element_type::INT64) {
    out.kind = BulkEndpoint::Kind::kId;
    out.id = e.get_int64().value_unsafe();
    return true;
  }
  sj::object obj;
  if (e.get_object().get(obj)) return false;
  unsigned seen = 0;
  std::optional<std::string> name;
  for (sj::key_value_pair kv : obj) {
    Field f = FieldOf(kv.key);
    if (!FirstTime(seen, f)) return false;
    if (f == Field::kRef || f == Field::kClass) {
      if (!StringOf(kv.value, name)) return false;
    } else if (f != Field::kKey || !AttrsOf(kv.value, false, out.key)) {
      return false;
    }
  }
  unsigned ref = 1u << static_cast<unsigned>(Field::kRef);
  unsigned class_key =
      (1u << static_cast<unsigned>(Field::kClass)) | (1u << static_cast<unsigned>(Field::kKey));
  if (seen == ref) out.kind = BulkEndpoint::Kind::kRef;
  else if (seen == class_key) out.kind = BulkEndpoint::Kind::kKey;
  else return false;
  out.name = std::move(*name);
  return true;
}

bool LineOf(sj::element root, BulkLine& line, std::optional<std::string>& op) {
  sj::object obj;
  if (root.get_object().get(obj)) return false;
  unsigned seen = 0;
  for (sj::key_value_pair kv : obj) {
    Field f = FieldOf(kv.key);
    if (f == Field::kUnknown || f == Field::kKey || !FirstTime(seen, f)) return false;
    bool ok = false;
    switch (f) {
      case Field::kOp: ok = StringOf(kv.value, op); break;
      case Field::kRef: ok = line.has_ref = StringOf(kv.value, line.ref); break;
      case Field::kClass: ok = StringOf(kv.value, line.cls); break;
      case Field::kType: ok = StringOf(kv.value, line.type); break;
      case Field::kId:
        ok = line.has_id = kv.value.type() == sj::element_type::INT64;
        if (ok) line.id = kv.value.get_int64().value_unsafe();
        break;
      case Field::kAttributes:
        ok = kv.value.is_null() || AttrsOf(kv.value, true, *line.attrs);
        break;
      case Field::kFrom: ok = EndpointOf(kv.value, line.from); break;
      case Field::kTo: ok = EndpointOf(kv.value, line.to); break;
      default: break;
    }
    if (!ok) return false;
  }
  return true;
}

// Whether simdjson may read `text`: no escapes and no control characters.
bool Plain(std::string_view text) {
  unsigned char bad = 0;
  for (unsigned char c : text) bad |= (c < 0x20) | (c == '\\');
  return !bad;
}

}  // namespace

std::optional<BulkLine> ParseBulkLineFast(std::string_view text, int64_t line_no,
                                          const Schema& schema) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);  // CRLF files
  if (text.empty() || !Plain(text)) return std::nullopt;
  thread_local sj::parser parser = [] {
    sj::parser p;
    // Deeper lines take the document way, which refuses them; a failed allocation only means
    // the first parse allocates (at the default depth, still refused by the document way).
    if (p.allocate(1 << 12, kMaxJsonDepth) != simdjson::SUCCESS) {
    }
    return p;
  }();
  thread_local std::string padded;
  padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(text);
  sj::element root;
  if (parser.parse(padded.data(), padded.size(), false).get(root)) return std::nullopt;
  BulkLine line;
  line.line_no = line_no;
  std::optional<std::string> op;
  if (!LineOf(root, line, op)) return std::nullopt;
  Complete(line, op, schema);
  return line;
}


Status BulkUnknownRef(const char* field, const std::string& ref_json) {
  return Status::Invalid(std::string("\"") + field + "\": unknown ref " + ref_json +
                         " (a ref must be defined on an earlier line)");
}

Status RefDefinedTwice(const std::string& ref, int64_t first_line, int64_t line) {
  return Status::Invalid("ref " + JsonText(Json(ref)) + " is defined twice, on lines " +
                         std::to_string(first_line) + " and " + std::to_string(line) +
                         " (a ref names one CI per request)")
      .With("ref", ref)
      .With("first_line", first_line);
}

BulkLine ParseBulkLineViaDocument(std::string_view text, int64_t line_no, const Schema& schema) {
  BulkLine line;
  line.line_no = line_no;
  if (IsBlank(text)) return line.blank = true, line;
  if (auto problem = FindJsonShapeProblem(text, kMaxJsonDepth)) {
    std::string at = " at column " + std::to_string(problem->offset + 1);
    if (problem->kind == JsonShapeProblem::Kind::kNulByte)
      line.error = Status::Invalid("malformed JSON" + at + ": " + kNulByteMessage)
                       .With("column", static_cast<int64_t>(problem->offset + 1));
    else if (problem->kind == JsonShapeProblem::Kind::kTooDeep)
      line.error = Status(StatusCode::kResourceExhausted,
                          "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels" + at)
                       .With("column", static_cast<int64_t>(problem->offset + 1))
                       .With("limit", static_cast<int64_t>(kMaxJsonDepth));
    else
      line.error = Status::Invalid("duplicate key " + JsonText(Json(problem->key)) + at)
                       .With("column", static_cast<int64_t>(problem->offset + 1))
                       .With("key", problem->key);
    return line;
  }
  try {
    FromDocument(Json::parse(text), line, schema);
  } catch (const Json::parse_error& e) {
    line.error = Status::Invalid("malformed JSON at column " + std::to_string(e.byte) + ": " + JsonReason(e.what()));
  } catch (const Json::exception& e) {  // e.g. a number too large for a double
    line.error = Status::Invalid("invalid JSON: " + JsonReason(e.what()));
  }
  return line;
}

BulkLine ParseBulkLine(std::string_view text, int64_t line_no, const Schema& schema) {
  if (auto line = ParseBulkLineFast(text, line_no, schema)) return std::move(*line);
  return ParseBulkLineViaDocument(text, line_no, schema);
}

}  // namespace cmdb::bulk
