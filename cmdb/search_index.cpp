#include "cmdb/search_index.hpp"

#include <algorithm>
#include <cstring>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <unordered_set>

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

// One byte as the index holds it: ASCII letters lower case, control bytes a space (kind bytes
// stay unambiguous).
char FoldByte(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  return static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
}

void AppendFolded(std::string& out, std::string_view s) {
  size_t at = out.size();
  out.append(s);
  for (size_t i = at; i < out.size(); ++i) out[i] = FoldByte(out[i]);
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
    for (const auto& entry : *attrs) {  // not a structured binding: lambdas capture it (clang 14)
      const auto& attr = entry.first;
      const auto& field = entry.second;
      std::optional<Value> v = ci.attrs.Find(attr);
      if (!v) continue;
      EachText(*v, [&](std::string_view s) { out.push_back({field, attr, std::string(s)}); });
    }
    return out;
  }
  for (const auto& entry : ci.attrs) {
    const auto& attr = entry.first;
    const auto& value = entry.second;
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
  if (ci.id <= 0 || static_cast<uint64_t>(ci.id) > UINT32_MAX)
    throw std::length_error("the search index holds CI ids below 2^32");
  const Plan& plan = PlanFor(schema, ci.class_name);
  const size_t start = text_.size();
  // Whether this CI already holds `s` folded in a field of `field`'s kind or a better one: a copy
  // could never be its best match (a host name equal to the name), so it is left out.
  auto held = [&](SearchField field, std::string_view s) {
    size_t f = start;
    while (f < text_.size()) {
      auto kind = static_cast<unsigned char>(text_[f]);
      size_t e = f + 1;
      while (e < text_.size() && static_cast<unsigned char>(text_[e]) > 0x04) ++e;
      if (kind <= static_cast<unsigned char>(field) && e - f - 1 == s.size()) {
        size_t i = 0;
        while (i < s.size() && text_[f + 1 + i] == FoldByte(s[i])) ++i;
        if (i == s.size()) return true;
      }
      f = e;
    }
    return false;
  };
  auto add = [&](SearchField field, const Value& v) {
    EachText(v, [&](std::string_view s) {
      if (held(field, s)) return;
      if (text_.size() + 1 + s.size() > UINT32_MAX)
        throw std::length_error("the search index holds up to 4 GiB of text");
      text_.push_back(static_cast<char>(field));
      pending_.push_back(static_cast<Off>(text_.size()));
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
  recs_.push_back(Rec{static_cast<Off>(start), static_cast<uint32_t>(ci.id)});
  where_[static_cast<size_t>(ci.id)] = static_cast<uint32_t>(recs_.size());
  ++live_;
}

void SearchIndex::Settle() {
  // Merged once they are a share of what is sorted: O(n) per n/8 fields written, while a search
  // reads at most that many unsorted.
  size_t sorted = sorted_[0].size() + sorted_[1].size() + sorted_[2].size() + sorted_[3].size();
  if (pending_.size() > std::max(kMaxPending, sorted / 8)) MergePending();
}

std::string_view SearchIndex::TextAt(Off off) const {
  size_t e = off;
  while (e < text_.size() && static_cast<unsigned char>(text_[e]) > 0x04) ++e;
  return std::string_view(text_.data() + off, static_cast<size_t>(e - off));
}

size_t SearchIndex::LiveRecordOf(Off off) const {
  size_t i = static_cast<size_t>(std::upper_bound(recs_.begin(), recs_.end(), off,
                                                  [](Off o, const Rec& r) { return o < r.start; }) -
                                 recs_.begin());
  if (i == 0) return std::string_view::npos;
  --i;
  return where_[static_cast<size_t>(recs_[i].id)] == i + 1 ? i : std::string_view::npos;
}

void SearchIndex::MergePending() {
  if (pending_.empty()) return;
  auto by_text = [&](Off a, Off b) {
    std::string_view x = TextAt(a), y = TextAt(b);
    return x != y ? x < y : a < b;
  };
  // Sorted by their first 16 bytes as two big-endian words (zero-padded: a text holds no byte
  // below 0x05, so a shorter text sorts first, as in a byte comparison), the rest only on ties:
  // a million names sort in a fraction of the time of comparing them as strings.
  struct Keyed {
    uint64_t k0, k1;
    Off off;
  };
  std::vector<Keyed> kinds[4];
  for (Off off : pending_) {
    size_t k = static_cast<size_t>(static_cast<unsigned char>(text_[off - 1])) - 1;
    std::string_view t = TextAt(off);
    uint64_t w[2] = {0, 0};
    for (size_t i = 0; i < 16 && i < t.size(); ++i)
      w[i / 8] |= uint64_t{static_cast<unsigned char>(t[i])} << (56 - 8 * (i % 8));
    kinds[k].push_back(Keyed{w[0], w[1], off});
  }
  pending_.clear();
  for (size_t k = 0; k < 4; ++k) {
    if (kinds[k].empty()) continue;
    std::sort(kinds[k].begin(), kinds[k].end(), [&](const Keyed& a, const Keyed& b) {
      if (a.k0 != b.k0) return a.k0 < b.k0;
      if (a.k1 != b.k1) return a.k1 < b.k1;
      return by_text(a.off, b.off);
    });
    std::vector<Off> batch;
    batch.reserve(kinds[k].size());
    for (const Keyed& e : kinds[k]) batch.push_back(e.off);
    kinds[k] = std::vector<Keyed>();
    if (sorted_[k].empty()) {
      sorted_[k] = std::move(batch);
      continue;
    }
    std::vector<Off> merged;
    merged.reserve(sorted_[k].size() + batch.size());
    std::merge(sorted_[k].begin(), sorted_[k].end(), batch.begin(), batch.end(),
               std::back_inserter(merged), by_text);
    sorted_[k] = std::move(merged);
  }
}

void SearchIndex::Erase(CiId id) {
  if (id <= 0 || static_cast<size_t>(id) >= where_.size() || where_[static_cast<size_t>(id)] == 0) return;
  size_t i = where_[static_cast<size_t>(id)] - 1;
  size_t end = i + 1 < recs_.size() ? recs_[i + 1].start : text_.size();
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
    size_t end = i + 1 < recs_.size() ? recs_[i + 1].start : text_.size();
    recs.push_back(Rec{static_cast<Off>(text.size()), r.id});
    where_[static_cast<size_t>(r.id)] = static_cast<uint32_t>(recs.size());
    text.append(text_, r.start, end - r.start);
  }
  text_ = std::move(text);
  recs_ = std::move(recs);
  dead_bytes_ = 0;
  // Every field start again, sorted afresh.
  for (auto& v : sorted_) v.clear();
  pending_.clear();
  for (size_t i = 0; i < text_.size(); ++i) {
    if (static_cast<unsigned char>(text_[i]) <= 0x04) pending_.push_back(static_cast<Off>(i + 1));
  }
  MergePending();
}

void SearchIndex::Clear() {
  text_.clear();
  recs_.clear();
  where_.clear();
  for (auto& v : sorted_) v.clear();
  pending_.clear();
  live_ = 0;
  dead_bytes_ = 0;
  plans_.clear();
  plans_schema_ = nullptr;
}

void SearchIndex::Trim() {
  if (dead_bytes_ > 0) Compact();
  MergePending();
  text_.shrink_to_fit();
  recs_.shrink_to_fit();
  where_.shrink_to_fit();  // it grew by doubling while loading
  for (auto& v : sorted_) v.shrink_to_fit();
  pending_.shrink_to_fit();
}

size_t SearchIndex::bytes() const {
  size_t sorted = 0;
  for (const auto& v : sorted_) sorted += v.capacity() * sizeof(Off);
  return text_.capacity() + recs_.capacity() * sizeof(Rec) + where_.capacity() * sizeof(uint32_t) +
         sorted + pending_.capacity() * sizeof(Off);
}

std::vector<SearchRank> SearchIndex::Search(std::string_view query, size_t limit) const {
  std::string q;
  for (char c : query) {
    if (static_cast<unsigned char>(c) >= 0x20) q.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (q.empty() || limit == 0 || recs_.empty()) return {};
  const char* base = text_.data();
  const size_t n = text_.size();
  const size_t nrecs = recs_.size();
  auto starts_with_q = [&](std::string_view t) { return t.size() >= q.size() && t.compare(0, q.size(), q) == 0; };

  // 1. Exact and prefix matches: per kind, the sorted field starts from the first text >= q, in
  // order, up to `limit` hits (and the rest of the last text's equals, ordered by id), plus the
  // pending ones. A CI keeps its best field.
  // A kind's walk stops once it found `limit` CIs not found in a better kind (each ranks above
  // anything later in this kind or in a worse one) and the equals of the last text are in.
  std::vector<SearchRank> found;
  std::unordered_set<CiId> seen;
  auto take = [&](Off off, SearchField field) -> bool {
    size_t ri = LiveRecordOf(off);
    if (ri == std::string_view::npos) return false;
    std::string_view t = TextAt(off);
    CiId id = recs_[ri].id;
    found.push_back({t.size() == q.size() ? SearchMatch::kExact : SearchMatch::kPrefix, field, t, id});
    return seen.insert(id).second;
  };
  for (size_t k = 0; k < 4; ++k) {
    const std::vector<Off>& v = sorted_[k];
    auto it = std::lower_bound(v.begin(), v.end(), std::string_view(q),
                               [&](Off off, std::string_view key) { return TextAt(off) < key; });
    size_t fresh = 0;
    std::string_view last;
    for (; it != v.end(); ++it) {
      std::string_view t = TextAt(*it);
      if (!starts_with_q(t)) break;
      if (fresh >= limit && t != last) break;
      if (take(*it, static_cast<SearchField>(k + 1))) ++fresh;
      last = t;
    }
  }
  for (Off off : pending_) {
    // q holds no kind byte: a field that starts with it holds it whole.
    if (off + q.size() <= n && std::memcmp(base + off, q.data(), q.size()) == 0)
      take(off, static_cast<SearchField>(static_cast<unsigned char>(base[off - 1])));
  }
  std::sort(found.begin(), found.end(), [](const SearchRank& a, const SearchRank& b) {
    return a.id != b.id ? a.id < b.id : a < b;
  });
  found.erase(std::unique(found.begin(), found.end(), [](const SearchRank& a, const SearchRank& b) { return a.id == b.id; }),
              found.end());  // each CI once, with its best field
  std::sort(found.begin(), found.end());
  if (found.size() >= limit) {
    found.resize(limit);
    return found;
  }

  // 2. Fewer than `limit`: scan for matches inside fields (word starts, substrings). The CIs found
  // above are final (a prefix match is their best); any other CI's best match is inside a field.
  std::vector<CiId> have;
  for (const SearchRank& r : found) have.push_back(r.id);
  std::sort(have.begin(), have.end());
  const size_t want = limit - found.size();
  std::priority_queue<SearchRank> best;  // the best `want` inside matches so far, worst on top
  size_t pos = 0;
  size_t ri = 0;
  while (pos < n) {
    const void* hit = memmem(base + pos, n - pos, q.data(), q.size());
    if (!hit) break;
    size_t off = static_cast<size_t>(static_cast<const char*>(hit) - base);
    // Every record starts with a kind byte and q holds none: off > 0, and the byte before the
    // hit says how this occurrence matches.
    unsigned char before = static_cast<unsigned char>(base[off - 1]);
    if (before <= 0x04) {  // a field start: a prefix match, taken above
      pos = static_cast<size_t>(off) + 1;
      continue;
    }
    SearchMatch m = IsWordByte(static_cast<char>(before)) ? SearchMatch::kSubstring : SearchMatch::kWord;
    if (best.size() >= want && best.top().match < m) {  // cannot rank above the worst held
      pos = static_cast<size_t>(off) + 1;
      continue;
    }
    // The record holding `off`: usually one of the next few, else a binary search.
    int steps = 0;
    while (ri + 1 < nrecs && recs_[ri + 1].start <= off) {
      if (++steps > 8) {
        ri = static_cast<size_t>(std::upper_bound(recs_.begin() + static_cast<std::ptrdiff_t>(ri), recs_.end(), off,
                                                  [](size_t o, const Rec& r) { return o < r.start; }) -
                                 recs_.begin()) - 1;
        break;
      }
      ++ri;
    }
    const Rec& rec = recs_[ri];
    size_t end = ri + 1 < nrecs ? recs_[ri + 1].start : n;
    pos = static_cast<size_t>(end);
    if (where_[static_cast<size_t>(rec.id)] != ri + 1) continue;  // a dead record
    if (std::binary_search(have.begin(), have.end(), rec.id)) continue;
    // Every field of the record; its best match.
    std::optional<SearchRank> top;
    size_t f = rec.start;
    while (f < end) {
      SearchField field = static_cast<SearchField>(base[f]);
      size_t e = f + 1;
      while (e < end && static_cast<unsigned char>(base[e]) > 0x04) ++e;
      std::string_view text(base + f + 1, static_cast<size_t>(e - f - 1));
      if (auto fm = MatchFolded(q, text)) {
        SearchRank r{*fm, field, text, rec.id};
        if (!top || r < *top) top = r;
      }
      f = e;
    }
    if (!top) continue;
    if (best.size() < want) best.push(*top);
    else if (*top < best.top()) best.pop(), best.push(*top);
  }
  std::vector<SearchRank> inside(best.size());
  for (size_t i = inside.size(); i-- > 0;) inside[i] = best.top(), best.pop();
  found.insert(found.end(), inside.begin(), inside.end());
  return found;
}

}  // namespace cmdb
