#include "cmdb/tx_chain.hpp"

#include <algorithm>
#include <tuple>

#include "cmdb/attr_codec.hpp"
#include "cmdb/auth.hpp"

namespace cmdb {
namespace {

void Field(std::string& out, const std::string& s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
  out += ';';
}
void Field(std::string& out, int64_t v) { Field(out, std::to_string(v)); }

}  // namespace

void SortDocs(std::vector<DocRecord>& docs) {
  std::sort(docs.begin(), docs.end(),
            [](const DocRecord& a, const DocRecord& b) { return std::tie(a.kind, a.id) < std::tie(b.kind, b.id); });
}

std::string TxCanonical(const TxRecord& tx, const std::vector<CiRecord>& cis, const std::vector<RelRecord>& rels,
                        const std::vector<DocRecord>& docs, const std::string& schema_ddl) {
  std::string out = "tx;";
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
    out += "unauthorized;";
    Field(out, tx.unauthorized);
  }
  for (const CiRecord& c : cis) {
    out += "ci;";
    Field(out, c.id);
    Field(out, c.version);
    Field(out, c.class_name);
    Field(out, EncodeAttrs(c.attrs));
    Field(out, c.created_at);
    Field(out, c.updated_at);
    Field(out, c.retired ? 1 : 0);
  }
  for (const RelRecord& r : rels) {
    out += "rel;";
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
  for (const DocRecord& d : docs) {
    out += "doc;";
    Field(out, d.kind);
    Field(out, d.id);
    Field(out, d.version);
    Field(out, EncodeAttrs(d.body));
    Field(out, d.updated_at);
    Field(out, d.retired ? 1 : 0);
  }
  return out;
}

std::string ChainHash(const std::string& prev_hash, const std::string& canonical) {
  return Sha256Hex(prev_hash + canonical);
}

}  // namespace cmdb
