#include "cmdb/txn.hpp"

#include <algorithm>

namespace cmdb {
namespace {

// "K|Server|'web01'\x1f" -> "KEY of Server ('web01')"; "U|Server.ip|'10.0.0.1'" -> "Server.ip = '10.0.0.1'".
std::string DescribeIndexKey(const std::string& key) {
  size_t a = key.find('|', 2);
  std::string scope = key.substr(2, a - 2);
  std::string vals = key.substr(a + 1);
  std::replace(vals.begin(), vals.end(), '\x1f', ',');
  if (!vals.empty() && vals.back() == ',') vals.pop_back();
  if (key[0] == 'K') return "KEY of " + scope + " (" + vals + ")";
  return scope + " = " + vals;
}

// The hash of a relationship's identity; `type` is an interned name, compared by address.
uint64_t RelKeyHash(const std::string* type, CiId from, CiId to) {
  uint64_t h = reinterpret_cast<uintptr_t>(type);
  for (uint64_t v : {static_cast<uint64_t>(from), static_cast<uint64_t>(to)}) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  }
  h ^= h >> 33;  // a final mix: the table uses the low bits
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  return h;
}

Status VersionMismatch(const char* what, int64_t id, int64_t expected, int64_t actual) {
  return Status(StatusCode::kPreconditionFailed,
                std::string(what) + " " + std::to_string(id) + " is at version " +
                    std::to_string(actual) + ", not " + std::to_string(expected))
      .With("current_version", actual);
}

}  // namespace

Txn::Txn(const Graph& graph, const Schema& schema, TxId tx, int64_t now, CiId next_ci,
         RelId next_rel)
    : graph_(graph),
      schema_(schema),
      tx_(tx),
      now_(now),
      next_ci_(next_ci),
      next_rel_(next_rel),
      cis_(next_ci),
      rels_(next_rel),
      new_rels_(next_ci) {}

const CiRecord* Txn::GetCi(CiId id) const {
  if (const CiRecord* staged = cis_.Find(id)) return staged->retired ? nullptr : staged;
  return graph_.FindCi(id);
}

std::optional<RelRecord> Txn::GetRel(RelId id) const {
  if (const RelRecord* staged = rels_.Find(id))
    return staged->retired ? std::nullopt : std::optional<RelRecord>(*staged);
  return graph_.FindRel(id);
}

bool Txn::HasRel(RelId id) const {
  if (const RelRecord* staged = rels_.Find(id)) return !staged->retired;
  return graph_.HasRel(id);
}

std::optional<CiId> Txn::FindByKey(std::string_view cls, const AttrMap& attrs) const {
  auto key = KeyIndexKey(schema_, cls, attrs);
  if (!key) return std::nullopt;
  return LookupIndexKey(*key);
}

std::optional<CiId> Txn::LookupIndexKey(const std::string& key) const {
  return IndexHolder(key, HashIndex::HashOf(key));
}

std::optional<CiId> Txn::IndexHolder(const std::string& key, uint64_t hash) const {
  std::optional<CiId> found;
  auto holds = [&](CiId id) {
    const CiRecord* ci = GetCi(id);  // the staged version when there is one
    if (!ci || !HoldsIndexKey(schema_, *ci, key)) return false;
    found = id;
    return true;
  };
  if (!staged_index_.FindIf(hash, holds)) graph_.FindIndexCandidate(hash, holds);
  return found;
}

std::vector<RelId> Txn::RelsOf(CiId id) const {
  std::vector<RelId> out;
  auto visit = [&](RelId r) {
    if (HasRel(r) && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  };
  for (const Adj& a : graph_.Out(id)) visit(a.rel());
  for (const Adj& a : graph_.In(id)) visit(a.rel());
  new_rels_.ForEach(id, visit);
  return out;
}

Status Txn::CheckIndexes(const CiRecord& rec, CiId self, std::vector<std::string>& keys,
                         std::string* free_key) const {
  size_t first = 0;
  if (free_key) {
    keys.clear();
    keys.push_back(std::move(*free_key));
    AppendUniqueKeys(schema_, rec, keys);
    first = 1;
  } else {
    keys = IndexKeysOf(schema_, rec);
  }
  for (size_t i = first; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    std::optional<CiId> holder = IndexHolder(key, HashIndex::HashOf(key));
    if (holder && *holder != self) {
      const CiRecord* other = GetCi(*holder);
      std::string name = other ? other->attrs.Get("name").ToLiteral() : "?";
      return Status::Conflict(DescribeIndexKey(key) + " is already held by CI " +
                              std::to_string(*holder) + " (" + name + ")")
          .With("conflicting_id", *holder);
    }
  }
  return Status::Ok();
}

void Txn::StageCi(CiRecord rec) {
  std::vector<std::string> keys;
  if (!rec.retired) keys = IndexKeysOf(schema_, rec);
  StageCi(std::move(rec), std::move(keys));
}

void Txn::StageCi(CiRecord rec, std::vector<std::string> keys) {
  CiId id = rec.id;
  // Entries the previous version held need no removal: IndexHolder confirms on this version.
  if (!rec.retired) {
    for (const std::string& k : keys) staged_index_.Insert(HashIndex::HashOf(k), id);
  }
  auto [staged, inserted] = cis_.Emplace(id);
  if (inserted) {
    ci_order_.push_back(id);
  } else if (size_t at = cis_.IndexOf(id); at < streamed_cis_) {
    changed_cis_.insert(at);  // its streamed row is rewritten at commit
  }
  *staged = std::move(rec);
}

void Txn::StageRel(RelRecord rec) {
  RelId id = rec.id;
  auto [staged, inserted] = rels_.Emplace(id);
  if (!inserted) {
    if (size_t at = rels_.IndexOf(id); at < streamed_rels_) changed_rels_.insert(at);
  }
  *staged = std::move(rec);
}

Result<CiId> Txn::CreateCi(const std::string& cls, AttrMap attrs) { return CreateCi(cls, std::move(attrs), false); }

Result<CiId> Txn::CreateCi(const std::string& cls, AttrMap attrs, bool normalized,
                           std::string* free_key) {
  // Already normalized values (UpsertCi) only need a full validation when defaults were added.
  if (schema_.ApplyDefaults(cls, attrs)) {
    free_key = nullptr;  // a default may be a KEY value: the entry is rebuilt
    CMDB_RETURN_IF_ERROR(schema_.ValidateCi(cls, attrs));
  } else if (normalized) {
    CMDB_RETURN_IF_ERROR(schema_.CheckNotNull(cls, attrs));
  } else {
    CMDB_RETURN_IF_ERROR(schema_.ValidateCi(cls, attrs));
  }
  if (next_ci_ > kMaxAdjId) return Status::Internal("CI id space exhausted (ids up to 2^40)");
  CiRecord rec;
  rec.id = next_ci_;
  rec.class_name = cls;
  rec.attrs = std::move(attrs);
  rec.created_at = rec.updated_at = now_;
  rec.valid_from = tx_;
  std::vector<std::string> keys;
  CMDB_RETURN_IF_ERROR(CheckIndexes(rec, rec.id, keys, free_key));
  ++next_ci_;
  StageCi(std::move(rec), std::move(keys));
  return next_ci_ - 1;
}

Status Txn::UpdateCi(CiId id, const AttrPatch& patch, std::optional<int64_t> expected_version) {
  const CiRecord* cur = GetCi(id);
  if (!cur) return Status::NotFound("CI " + std::to_string(id) + " does not exist");
  if (expected_version && *expected_version != cur->version)
    return VersionMismatch("CI", id, *expected_version, cur->version);
  AttrMap attrs = cur->attrs;
  for (const auto& [k, v] : patch) attrs.Set(k, v);
  CMDB_RETURN_IF_ERROR(schema_.ValidateCi(cur->class_name, attrs));
  if (attrs == cur->attrs) return Status::Ok();
  CiRecord rec = *cur;
  rec.attrs = std::move(attrs);
  if (!cis_.Contains(id)) ++rec.version;
  rec.updated_at = now_;
  rec.valid_from = tx_;
  std::vector<std::string> keys;
  CMDB_RETURN_IF_ERROR(CheckIndexes(rec, id, keys));
  StageCi(std::move(rec), std::move(keys));
  return Status::Ok();
}

Status Txn::RetireCi(CiId id, std::optional<int64_t> expected_version) {
  const CiRecord* cur = GetCi(id);
  if (!cur) return Status::NotFound("CI " + std::to_string(id) + " does not exist");
  if (expected_version && *expected_version != cur->version)
    return VersionMismatch("CI", id, *expected_version, cur->version);
  for (RelId r : RelsOf(id)) CMDB_RETURN_IF_ERROR(DeleteRel(r, std::nullopt));
  CiRecord rec = *GetCi(id);
  if (!cis_.Contains(id)) ++rec.version;
  rec.retired = true;
  rec.updated_at = now_;
  rec.valid_from = tx_;
  StageCi(std::move(rec));
  return Status::Ok();
}

Result<std::pair<CiId, Outcome>> Txn::UpsertCi(const std::string& cls, AttrMap attrs) {
  CMDB_RETURN_IF_ERROR(schema_.NormalizeAttrs(cls, attrs));
  return UpsertNormalizedCi(cls, std::move(attrs));
}

Result<std::pair<CiId, Outcome>> Txn::UpsertNormalizedCi(const std::string& cls, AttrMap attrs) {
  std::optional<std::string> key = KeyIndexKey(schema_, cls, attrs);
  std::optional<CiId> existing = key ? LookupIndexKey(*key) : std::nullopt;
  if (!existing) {
    auto id = CreateCi(cls, std::move(attrs), true, key ? &*key : nullptr);
    if (!id.ok()) return id.status();
    return std::make_pair(*id, Outcome::kCreated);
  }
  const CiRecord* cur = GetCi(*existing);
  if (cur->class_name != cls)
    return Status::Conflict("the KEY values name CI " + std::to_string(*existing) + " of class " +
                            cur->class_name + ", not " + cls)
        .With("conflicting_id", *existing);
  AttrPatch patch;
  for (const auto& [k, v] : attrs) {
    if (cur->attrs.Get(k) != v) patch.emplace_back(k, v);
  }
  if (patch.empty()) return std::make_pair(*existing, Outcome::kUnchanged);
  CMDB_RETURN_IF_ERROR(UpdateCi(*existing, patch, std::nullopt));
  return std::make_pair(*existing, Outcome::kUpdated);
}

const Txn::ResolvedType* Txn::ResolveType(const std::string& type, Status* st) const {
  if (auto it = types_.find(type); it != types_.end()) return it->second.get();
  auto resolved = std::make_unique<ResolvedType>();
  resolved->def = schema_.FindRelType(type);
  if (!resolved->def) {
    if (!schema_.open_mode()) {
      *st = Status::Schema(schema_.UnknownRelTypeMessage(type)).With("type", type);
      return nullptr;
    }
    resolved->open_def.name = type;
    resolved->def = &resolved->open_def;
  }
  resolved->name = type;
  resolved->graph_id = graph_.TypeIdOf(type);
  return types_.emplace(type, std::move(resolved)).first->second.get();
}

int Txn::CountEdges(CiId id, const ResolvedType& type, bool outgoing) const {
  int n = 0;
  if (type.graph_id) {
    TypeId t = *type.graph_id;
    for (const Adj& a : outgoing ? graph_.OutOfType(id, t) : graph_.InOfType(id, t)) {
      if (HasRel(a.rel())) ++n;
    }
  }
  new_rels_.ForEach(id, [&](RelId r) {  // created here: staged, read in place
    const RelRecord* rec = rels_.Find(r);
    if (rec && !rec->retired && rec->type == type.name && (outgoing ? rec->from : rec->to) == id)
      ++n;
  });
  return n;
}

std::optional<RelId> Txn::FindRel(const ResolvedType& type, CiId from, CiId to) const {
  if (type.graph_id) {
    for (const Adj& a : graph_.OutOfType(from, *type.graph_id)) {
      if (a.other() == to && HasRel(a.rel())) return a.rel();
    }
  }
  // Created in this transaction: one probe of the staged keys, each candidate confirmed on its
  // record (deleted ones are skipped, so one created again later is found).
  const std::string* interned = &type.name.str();
  std::optional<RelId> found;
  new_rel_keys_.FindIf(RelKeyHash(interned, from, to), [&](int64_t r) {
    const RelRecord* rec = rels_.Find(r);  // created here: staged, read in place
    if (!rec || rec->retired || rec->type != type.name || rec->from != from || rec->to != to)
      return false;
    found = r;
    return true;
  });
  return found;
}

Status Txn::CheckCardinality(const ResolvedType& type, CiId from, CiId to) const {
  const RelTypeDef& def = *type.def;
  bool one_out = def.cardinality == Cardinality::kManyToOne || def.cardinality == Cardinality::kOneToOne;
  bool one_in = def.cardinality == Cardinality::kOneToMany || def.cardinality == Cardinality::kOneToOne;
  if (one_out && CountEdges(from, type, true) > 0)
    return Status::Conflict("CI " + std::to_string(from) + " already has an outgoing " + def.name +
                            " relationship (" + CardinalityName(def.cardinality) + ")");
  if (one_in && CountEdges(to, type, false) > 0)
    return Status::Conflict("CI " + std::to_string(to) + " already has an incoming " + def.name +
                            " relationship (" + CardinalityName(def.cardinality) + ")");
  return Status::Ok();
}

Result<RelId> Txn::CreateRel(const std::string& type, CiId from, CiId to, AttrMap attrs) {
  return CreateRel(type, from, to, std::move(attrs), false);
}

Result<RelId> Txn::CreateRel(const std::string& type, CiId from, CiId to, AttrMap attrs,
                             bool known_new) {
  Status st;
  const ResolvedType* resolved = ResolveType(type, &st);
  CMDB_RETURN_IF_ERROR(st);
  const RelTypeDef& def = *resolved->def;
  const CiRecord* f = GetCi(from);
  if (!f) return Status::NotFound("relationship source CI " + std::to_string(from) + " does not exist");
  const CiRecord* t = GetCi(to);
  if (!t) return Status::NotFound("relationship target CI " + std::to_string(to) + " does not exist");
  CMDB_RETURN_IF_ERROR(schema_.ValidateRel(def, f->class_name, t->class_name, attrs));
  if (!schema_.open_mode() && !known_new) {
    if (auto existing = FindRel(*resolved, from, to))
      return Status::Conflict("relationship " + std::to_string(from) + " -[" + type + "]-> " +
                              std::to_string(to) + " already exists as " + std::to_string(*existing))
          .With("conflicting_id", *existing);
  }
  CMDB_RETURN_IF_ERROR(CheckCardinality(*resolved, from, to));
  if (next_rel_ > kMaxAdjId) return Status::Internal("relationship id space exhausted (ids up to 2^40)");
  RelRecord rec;
  rec.id = next_rel_++;
  rec.type = resolved->name;
  rec.from = from;
  rec.to = to;
  rec.attrs = std::move(attrs);
  rec.created_at = rec.updated_at = now_;
  rec.valid_from = tx_;
  RelId id = rec.id;
  new_rels_.Add(from, id);
  if (to != from) new_rels_.Add(to, id);
  new_rel_keys_.Insert(RelKeyHash(&rec.type.str(), from, to), id);
  StageRel(std::move(rec));
  return id;
}

Result<std::pair<RelId, Outcome>> Txn::UpsertRel(const std::string& type, CiId from, CiId to,
                                                 AttrMap attrs) {
  Status st;
  const ResolvedType* resolved = ResolveType(type, &st);
  CMDB_RETURN_IF_ERROR(st);
  bool endpoints = GetCi(from) && GetCi(to);
  std::optional<RelId> existing = endpoints ? FindRel(*resolved, from, to) : std::nullopt;
  if (!existing) {
    auto id = CreateRel(type, from, to, std::move(attrs), /*known_new=*/endpoints);
    if (!id.ok()) return id.status();
    return std::make_pair(*id, Outcome::kCreated);
  }
  std::optional<RelRecord> cur = GetRel(*existing);
  AttrMap merged = cur->attrs;
  for (const auto& [k, v] : attrs) merged.Set(k, v);
  const RelTypeDef& def = *resolved->def;
  CMDB_RETURN_IF_ERROR(schema_.ValidateRel(def, GetCi(from)->class_name, GetCi(to)->class_name, merged));
  if (merged == cur->attrs) return std::make_pair(*existing, Outcome::kUnchanged);
  RelRecord rec = *cur;
  rec.attrs = std::move(merged);
  if (!rels_.Contains(rec.id)) ++rec.version;
  rec.updated_at = now_;
  rec.valid_from = tx_;
  StageRel(std::move(rec));
  return std::make_pair(*existing, Outcome::kUpdated);
}

Status Txn::DeleteRel(RelId id, std::optional<int64_t> expected_version) {
  std::optional<RelRecord> cur = GetRel(id);
  if (!cur) return Status::NotFound("relationship " + std::to_string(id) + " does not exist");
  if (expected_version && *expected_version != cur->version)
    return VersionMismatch("relationship", id, *expected_version, cur->version);
  RelRecord rec = *cur;
  if (!rels_.Contains(id)) ++rec.version;
  rec.retired = true;
  rec.updated_at = now_;
  rec.valid_from = tx_;
  StageRel(std::move(rec));
  return Status::Ok();
}

Status Txn::UpdateRel(RelId id, const AttrPatch& patch) {
  std::optional<RelRecord> cur = GetRel(id);
  if (!cur) return Status::NotFound("relationship " + std::to_string(id) + " does not exist");
  AttrMap attrs = cur->attrs;
  for (const auto& [k, v] : patch) attrs.Set(k, v);
  Status st;
  const ResolvedType* resolved = ResolveType(cur->type, &st);
  CMDB_RETURN_IF_ERROR(st);
  const RelTypeDef& def = *resolved->def;
  CMDB_RETURN_IF_ERROR(schema_.ValidateRel(def, GetCi(cur->from)->class_name, GetCi(cur->to)->class_name, attrs));
  if (attrs == cur->attrs) return Status::Ok();
  RelRecord rec = *cur;
  rec.attrs = std::move(attrs);
  if (!rels_.Contains(id)) ++rec.version;
  rec.updated_at = now_;
  rec.valid_from = tx_;
  StageRel(std::move(rec));
  return Status::Ok();
}

const DocRecord* Txn::GetDoc(const std::string& kind, int64_t id) const {
  auto it = docs_.find({kind, id});
  if (it != docs_.end()) return it->second.retired ? nullptr : &it->second;
  return graph_.docs().Find(kind, id);
}

int64_t Txn::NextDocId(const std::string& kind) {
  auto [it, inserted] = next_doc_ids_.emplace(kind, 0);
  if (inserted) it->second = graph_.docs().MaxId(kind);
  return ++it->second;
}

Result<DocRecord> Txn::PutDoc(DocRecord doc, std::optional<int64_t> expected_version) {
  auto key = std::make_pair(doc.kind, doc.id);
  auto staged = docs_.find(key);
  const DocRecord* cur = GetDoc(doc.kind, doc.id);
  if (expected_version && (!cur || *expected_version != cur->version))
    return VersionMismatch(doc.kind.c_str(), doc.id, *expected_version, cur ? cur->version : 0);
  if (staged != docs_.end()) {
    doc.version = staged->second.version;  // one new version per transaction
  } else {
    const DocRecord* committed = graph_.docs().Find(doc.kind, doc.id);
    doc.version = committed ? committed->version + 1 : 1;
    doc_order_.push_back(key);
  }
  doc.updated_at = now_;
  doc.valid_from = tx_;
  doc.valid_to = kNoTx;
  docs_[key] = doc;
  return doc;
}

const Provenance* Txn::GetProvenance(bool relationship, int64_t id, const std::string& source) const {
  if (auto it = provenance_.find(id * 2 + (relationship ? 1 : 0)); it != provenance_.end()) {
    for (const Provenance& p : it->second) {
      if (p.source == source) return &p;
    }
  }
  return graph_.provenance().Find(relationship, id, source);
}

std::vector<Provenance> Txn::ProvenanceOf(bool relationship, int64_t id) const {
  std::vector<Provenance> out = graph_.provenance().Of(relationship, id);
  auto it = provenance_.find(id * 2 + (relationship ? 1 : 0));
  if (it == provenance_.end()) return out;
  for (const Provenance& staged : it->second) {
    auto same = std::find_if(out.begin(), out.end(), [&](const Provenance& p) { return p.source == staged.source; });
    if (same != out.end()) *same = staged;
    else out.push_back(staged);
  }
  return out;
}

void Txn::PutProvenance(Provenance p) {
  auto& list = provenance_[p.id * 2 + (p.relationship ? 1 : 0)];
  for (Provenance& q : list) {
    if (q.source == p.source) {
      q = std::move(p);
      return;
    }
  }
  list.push_back(std::move(p));
}

Status Txn::Flush() {
  if (!stream_store_) return Status::Ok();
  size_t new_cis = cis_.size() - streamed_cis_, new_rels = rels_.size() - streamed_rels_;
  if (new_cis + new_rels < kStreamBatch) return Status::Ok();
  if (!stream_) {
    auto opened = stream_store_->BeginStream(tx_);
    CMDB_RETURN_IF_ERROR(opened.status());
    if (!*opened) {  // this store writes only at commit
      stream_store_ = nullptr;
      return Status::Ok();
    }
    stream_ = std::move(*opened);
  }
  std::vector<CiRecord> cis;
  cis.reserve(new_cis);
  for (size_t i = streamed_cis_; i < cis_.size(); ++i) cis.push_back(cis_.At(i));
  std::vector<RelRecord> rels;
  rels.reserve(new_rels);
  for (size_t i = streamed_rels_; i < rels_.size(); ++i) rels.push_back(rels_.At(i));
  streamed_cis_ = cis_.size();
  streamed_rels_ = rels_.size();
  return stream_->Put(std::move(cis), std::move(rels));
}

std::unique_ptr<StoreStream> Txn::TakeStream(StreamedPrefix* prefix) {
  *prefix = StreamedPrefix();
  if (!stream_) return nullptr;
  prefix->cis = streamed_cis_;
  prefix->rels = streamed_rels_;
  prefix->changed_cis.assign(changed_cis_.begin(), changed_cis_.end());
  prefix->changed_rels.assign(changed_rels_.begin(), changed_rels_.end());
  std::sort(prefix->changed_cis.begin(), prefix->changed_cis.end());
  std::sort(prefix->changed_rels.begin(), prefix->changed_rels.end());
  return std::move(stream_);
}

WriteSet Txn::TakeWriteSet() {
  WriteSet ws;
  ws.cis = cis_.Take();
  ws.rels = rels_.Take();
  ws.provenance.reserve(provenance_.size());
  for (auto& [key, list] : provenance_) {
    for (Provenance& p : list) ws.provenance.push_back(std::move(p));
  }
  provenance_.clear();
  ws.docs.reserve(doc_order_.size());
  for (const auto& key : doc_order_) ws.docs.push_back(std::move(docs_[key]));
  docs_.clear();
  ci_order_.clear();
  doc_order_.clear();
  return ws;
}

}  // namespace cmdb
