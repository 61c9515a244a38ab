#include "cmdb/tx_chain.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <tuple>

#include "cmdb/attr_codec.hpp"
#include "cmdb/auth.hpp"

namespace cmdb {
namespace {

// Where canonical bytes go: a string (TxCanonical) or a running SHA-256 (TxChainHash), fed in
// chunks so a million-record transaction never exists as one string.
class Sink {
 public:
  explicit Sink(EVP_MD_CTX* sha = nullptr) : sha_(sha) {}
  void Add(std::string_view bytes) {
    buf_ += bytes;
    if (sha_ && buf_.size() >= (1 << 16)) Flush();
  }
  void Flush() {
    if (sha_) {
      EVP_DigestUpdate(sha_, buf_.data(), buf_.size());
      buf_.clear();
    }
  }
  std::string& buffer() { return buf_; }

 private:
  EVP_MD_CTX* sha_;
  std::string buf_;
};

void Field(Sink& out, std::string_view s) {
  out.Add(std::to_string(s.size()));
  out.Add(":");
  out.Add(s);
  out.Add(";");
}
void Field(Sink& out, int64_t v) { Field(out, std::to_string(v)); }

void Header(Sink& out, const TxRecord& tx, const std::string& schema_ddl) {
  out.Add("tx;");
  Field(out, tx.id);
  Field(out, tx.time);
  Field(out, tx.actor);
  Field(out, tx.source);
  Field(out, tx.change_ref);
  Field(out, tx.message);
  Field(out, tx.cis_written);
  Field(out, tx.rels_written);
  Field(out, tx.schema_version);
  Field(out, schema_ddl);
  if (!tx.unauthorized.empty()) {
    out.Add("unauthorized;");
    Field(out, tx.unauthorized);
  }
}

void Put(Sink& out, const CiRecord& c) {
  out.Add("ci;");
  Field(out, c.id);
  Field(out, c.version);
  Field(out, c.class_name);
  Field(out, EncodeAttrs(c.attrs));
  Field(out, c.created_at);
  Field(out, c.updated_at);
  Field(out, c.retired ? 1 : 0);
}

void Put(Sink& out, const RelRecord& r) {
  out.Add("rel;");
  Field(out, r.id);
  Field(out, r.version);
  Field(out, r.type);
  Field(out, r.from);
  Field(out, r.to);
  Field(out, EncodeAttrs(r.attrs));
  Field(out, r.created_at);
  Field(out, r.updated_at);
  Field(out, r.retired ? 1 : 0);
}

void Put(Sink& out, const DocRecord& d) {
  out.Add("doc;");
  Field(out, d.kind);
  Field(out, d.id);
  Field(out, d.version);
  Field(out, EncodeAttrs(d.body));
  Field(out, d.updated_at);
  Field(out, d.retired ? 1 : 0);
}

bool DocBefore(const DocRecord& a, const DocRecord& b) {
  return std::tie(a.kind, a.id) < std::tie(b.kind, b.id);
}

// Puts records in canonical order without copying them: in place when already sorted (the
// usual case: new ids are increasing), else through a sorted list of pointers.
template <typename Record, typename Less>
void PutSorted(Sink& out, const std::vector<Record>& records, Less less) {
  if (std::is_sorted(records.begin(), records.end(), less)) {
    for (const Record& r : records) Put(out, r);
    return;
  }
  std::vector<const Record*> order;
  order.reserve(records.size());
  for (const Record& r : records) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [&](const Record* a, const Record* b) { return less(*a, *b); });
  for (const Record* r : order) Put(out, *r);
}

}  // namespace

void SortDocs(std::vector<DocRecord>& docs) { std::sort(docs.begin(), docs.end(), DocBefore); }

std::string TxCanonical(const TxRecord& tx, const std::vector<CiRecord>& cis,
                        const std::vector<RelRecord>& rels, const std::vector<DocRecord>& docs,
                        const std::string& schema_ddl) {
  Sink out;
  Header(out, tx, schema_ddl);
  for (const CiRecord& c : cis) Put(out, c);
  for (const RelRecord& r : rels) Put(out, r);
  for (const DocRecord& d : docs) Put(out, d);
  return std::move(out.buffer());
}

std::string ChainHash(const std::string& prev_hash, const std::string& canonical) {
  return Sha256Hex(prev_hash + canonical);
}

std::string TxChainHash(const std::string& prev_hash, const TxRecord& tx, const WriteSet& ws) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
  Sink out(sha.get());
  out.Add(prev_hash);
  Header(out, tx, ws.schema_ddl);
  auto by_id = [](const auto& a, const auto& b) { return a.id < b.id; };
  PutSorted(out, ws.cis, by_id);
  PutSorted(out, ws.rels, by_id);
  PutSorted(out, ws.docs, DocBefore);
  out.Flush();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &len);
  return HexOf(digest, len);
}

}  // namespace cmdb
