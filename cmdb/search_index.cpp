#include "cmdb/search_index.hpp"

#include <algorithm>
#include <cstring>
#include <queue>
#include <tuple>

namespace cmdb {
namespace {

bool IsHostName(std::string_view attr) {
  return attr == "hostname" || attr == "fqdn" || attr == "dns_name" || attr == "hosts";
}

bool IsIpName(std::string_view attr) {
  return attr == "ip" || attr == "ip_address" ||
         (attr.size() > 3 && attr.substr(attr.size() - 3) == "_ip");
}

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The searchable attributes of a class in the schema, by kind then name; nullopt when the class
// is not in it (open mode: chosen per CI by attribute name).
std::optional<std::vector<std::pair<std::string, SearchField>>> AttrsOf(const Schema& schema,
                                                                       std::string_view cls) {
  if (!schema.FindClass(cls)) return std::nullopt;
  std::vector<std::pair<std::string, SearchField>> out;
  out.emplace_back("name", SearchField::kName);
  std::vector<std::string> key;
  if (const ClassDef* owner = schema.KeyOwner(cls)) key = owner->key;
  std::sort(key.begin(), key.end());
  for (const std::string& k : key) {
    if (k != "name") out.emplace_back(k, SearchField::kKey);
  }
  std::vector<std::pair<std::string, SearchField>> rest;
  for (const AttributeDef* def : schema.AllAttributes(cls)) {
    const std::string& n = def->name;
    if (n == "name" || std::find(key.begin(), key.end(), n) != key.end()) continue;
    bool text = def->type == AttrType::kString || def->type == AttrType::kStringList ||
                def->type == AttrType::kAny;
    if (def->type == AttrType::kIp || (text && IsIpName(n))) rest.emplace_back(n, SearchField::kIp);
    else if (text && IsHostName(n)) rest.emplace_back(n, SearchField::kHost);
  }
  std::sort(rest.begin(), rest.end(),
            [](const auto& a, const auto& b) { return std::tie(a.second, a.first) < std::tie(b.second, b.first); });
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// The open-mode choice for one attribute of a CI.
std::optional<SearchField> OpenFieldOf(std::string_view attr) {
  if (attr == "name") return SearchField::kName;
  if (IsHostName(attr)) return SearchField::kHost;
  if (IsIpName(attr)) return SearchField::kIp;
  return std::nullopt;
}

// Calls fn(text) for each non-empty string in `v` (the value itself or a list's elements).
template <typename Fn>
void EachText(const Value& v, Fn&& fn) {
  if (v.is_string()) {
    if (!v.as_string().empty()) fn(v.as_string());
  } else if (v.is_list()) {
    for (const Value& e : v.as_list()) {
      if (e.is_string() && !e.as_string().empty()) fn(e.as_string());
    }
  }
}

void AppendFolded(std::string& out, std::string_view s) {
  size_t at = out.size();
  out.append(s);
  for (size_t i = at; i < out.size(); ++i) {
    char& c = out[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    else if (static_cast<unsigned char>(c) < 0x20) c = ' ';  // kind bytes stay unambiguous
  }
}

}  // namespace

const char* SearchFieldName(SearchField f) {
  switch (f) {
    case SearchField::kName: return "name";
    case SearchField::kKey: return "key";
    case SearchField::kHost: return "hostname";
    case SearchField::kIp: return "ip";
  }
  return "name";
}

const char* SearchMatchName(SearchMatch m) {
  switch (m) {
    case SearchMatch::kExact: return "exact";
    case SearchMatch::kPrefix: return "prefix";
    case SearchMatch::kWord: return "word";
    case SearchMatch::kSubstring: return "substring";
  }
  return "substring";
}

std::string FoldSearchText(std::string_view s) {
  std::string out;
  AppendFolded(out, s);
  return out;
}

std::optional<SearchMatch> MatchFolded(std::string_view query, std::string_view text) {
  if (query.empty()) return std::nullopt;
  size_t at = text.find(query);
  if (at == std::string_view::npos) return std::nullopt;
  if (at == 0) return query.size() == text.size() ? SearchMatch::kExact : SearchMatch::kPrefix;
  for (; at != std::string_view::npos; at = text.find(query, at + 1)) {
    if (!IsWordByte(text[at - 1])) return SearchMatch::kWord;
  }
  return SearchMatch::kSubstring;
}

std::vector<SearchFieldValue> SearchFieldsOf(const Schema& schema, const CiRecord& ci) {
  std::vector<SearchFieldValue> out;
  auto attrs = AttrsOf(schema, ci.class_name);
  if (attrs) {
    for (const auto& [attr, field] : *attrs) {
      std::optional<Value> v = ci.attrs.Find(attr);
      if (!v) continue;
      EachText(*v, [&](std::string_view s) { out.push_back({field, attr, std::string(s)}); });
    }
    return out;
  }
  for (const auto& [attr, value] : ci.attrs) {
    std::optional<SearchField> field = OpenFieldOf(attr);
    if (!field) continue;
    EachText(value, [&](std::string_view s) { out.push_back({*field, std::string(attr), std::string(s)}); });
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const SearchFieldValue& a, const SearchFieldValue& b) { return a.field < b.field; });
  return out;
}

const SearchIndex::Plan& SearchIndex::PlanFor(const Schema& schema, std::string_view cls) {
  if (plans_schema_ != &schema || plans_version_ != schema.version()) {
    plans_.clear();
    plans_schema_ = &schema;
    plans_version_ = schema.version();
  }
  auto it = plans_.find(std::string(cls));
  if (it != plans_.end()) return it->second;
  Plan plan;
  auto attrs = AttrsOf(schema, cls);
  if (attrs) plan.attrs = std::move(*attrs);
  else plan.open = true;
  return plans_.emplace(std::string(cls), std::move(plan)).first->second;
}

void SearchIndex::Put(const Schema& schema, const CiRecord& ci) {
  Erase(ci.id);
  const Plan& plan = PlanFor(schema, ci.class_name);
  uint64_t start = text_.size();
  auto add = [&](SearchField field, const Value& v) {
    EachText(v, [&](std::string_view s) {
      text_.push_back(static_cast<char>(field));
      AppendFolded(text_, s);
    });
  };
  if (plan.open) {
    for (const auto& [attr, value] : ci.attrs) {
      if (std::optional<SearchField> field = OpenFieldOf(attr)) add(*field, value);
    }
  } else {
    for (const auto& [attr, field] : plan.attrs) {
      if (std::optional<Value> v = ci.attrs.Find(attr)) add(field, *v);
    }
  }
  if (text_.size() == start) return;  // nothing searchable
  if (static_cast<size_t>(ci.id) >= where_.size()) where_.resize(static_cast<size_t>(ci.id) + 1, 0);
  recs_.push_back(Rec{start, ci.id});
  where_[static_cast<size_t>(ci.id)] = static_cast<uint32_t>(recs_.size());
  ++live_;
}

void SearchIndex::Erase(CiId id) {
  if (id <= 0 || static_cast<size_t>(id) >= where_.size() || where_[static_cast<size_t>(id)] == 0) return;
  size_t i = where_[static_cast<size_t>(id)] - 1;
  uint64_t end = i + 1 < recs_.size() ? recs_[i + 1].start : text_.size();
  dead_bytes_ += end - recs_[i].start;
  where_[static_cast<size_t>(id)] = 0;
  --live_;
  if (dead_bytes_ > (text_.size() - dead_bytes_) + (size_t{1} << 16)) Compact();
}

void SearchIndex::Compact() {
  std::string text;
  text.reserve(text_.size() - dead_bytes_);
  std::vector<Rec> recs;
  recs.reserve(live_);
  for (size_t i = 0; i < recs_.size(); ++i) {
    const Rec& r = recs_[i];
    if (where_[static_cast<size_t>(r.id)] != i + 1) continue;
    uint64_t end = i + 1 < recs_.size() ? recs_[i + 1].start : text_.size();
    recs.push_back(Rec{text.size(), r.id});
    where_[static_cast<size_t>(r.id)] = static_cast<uint32_t>(recs.size());
    text.append(text_, r.start, end - r.start);
  }
  text_ = std::move(text);
  recs_ = std::move(recs);
  dead_bytes_ = 0;
}

void SearchIndex::Clear() {
  text_.clear();
  recs_.clear();
  where_.clear();
  live_ = 0;
  dead_bytes_ = 0;
  plans_.clear();
  plans_schema_ = nullptr;
}

void SearchIndex::Trim() {
  if (dead_bytes_ > 0) Compact();
  text_.shrink_to_fit();
  recs_.shrink_to_fit();
}

size_t SearchIndex::bytes() const {
  return text_.capacity() + recs_.capacity() * sizeof(Rec) + where_.capacity() * sizeof(uint32_t);
}

std::vector<SearchRank> SearchIndex::Search(std::string_view query, size_t limit) const {
  std::string q;
  for (char c : query) {
    if (static_cast<unsigned char>(c) >= 0x20) q.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (q.empty() || limit == 0 || recs_.empty()) return {};
  // The best `limit` so far, worst on top.
  std::priority_queue<SearchRank> best;
  const char* base = text_.data();
  const size_t n = text_.size();
  size_t pos = 0;
  size_t ri = 0;
  while (pos < n) {
    const void* found = memmem(base + pos, n - pos, q.data(), q.size());
    if (!found) break;
    uint64_t off = static_cast<uint64_t>(static_cast<const char*>(found) - base);
    // The record holding `off`: the last one starting at or before it.
    if (ri + 1 < recs_.size() && recs_[ri + 1].start <= off) {
      ri = static_cast<size_t>(std::upper_bound(recs_.begin() + static_cast<std::ptrdiff_t>(ri), recs_.end(), off,
                                                [](uint64_t o, const Rec& r) { return o < r.start; }) -
                               recs_.begin()) - 1;
    }
    const Rec& rec = recs_[ri];
    uint64_t end = ri + 1 < recs_.size() ? recs_[ri + 1].start : n;
    pos = static_cast<size_t>(end);
    if (where_[static_cast<size_t>(rec.id)] != ri + 1) continue;  // a dead record
    // Every field of the record; its best match.
    std::optional<SearchRank> top;
    uint64_t f = rec.start;
    while (f < end) {
      SearchField field = static_cast<SearchField>(base[f]);
      uint64_t t = f + 1;
      uint64_t e = t;
      while (e < end && static_cast<unsigned char>(base[e]) > 0x04) ++e;
      std::string_view text(base + t, static_cast<size_t>(e - t));
      if (auto m = MatchFolded(q, text)) {
        SearchRank r{*m, field, static_cast<uint32_t>(text.size()), rec.id};
        if (!top || r < *top) top = r;
      }
      f = e;
    }
    if (!top) continue;  // the query spanned two fields
    if (best.size() < limit) best.push(*top);
    else if (*top < best.top()) best.pop(), best.push(*top);
  }
  std::vector<SearchRank> out(best.size());
  for (size_t i = out.size(); i-- > 0;) out[i] = best.top(), best.pop();
  return out;
}

}  // namespace cmdb
