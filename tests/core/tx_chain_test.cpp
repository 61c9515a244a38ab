// The chain hash of a write set, computed while encoding (and, for large sets, digested on a
// second thread), equals the hash of its canonical bytes.
#include <catch2/catch.hpp>

#include <string>

#include "cmdb/tx_chain.hpp"
#include "core_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;

namespace {

WriteSet MakeWriteSet(int cis, int rels, size_t long_value) {
  WriteSet ws;
  ws.tx.id = 7;
  ws.tx.time = 1'700'000'000'000'000;
  ws.tx.actor = "alice";
  ws.tx.source = "bulk";
  for (int i = 1; i <= cis; ++i) {
    CiRecord c;
    c.id = i;
    c.class_name = "VirtualMachine";
    c.attrs = Attrs({{"name", "vm-" + std::to_string(i)}, {"cpu_count", int64_t{i % 64}}});
    if (i == cis / 2) c.attrs.Set("notes", std::string(long_value, 'x'));  // larger than a chunk
    c.created_at = c.updated_at = ws.tx.time;
    c.valid_from = 7;
    ws.cis.push_back(std::move(c));
  }
  for (int i = 1; i <= rels; ++i) {
    RelRecord r;
    r.id = i;
    r.type = "RUNS_ON";
    r.from = i;
    r.to = i % cis + 1;
    r.created_at = r.updated_at = ws.tx.time;
    r.valid_from = 7;
    ws.rels.push_back(std::move(r));
  }
  return ws;
}

}  // namespace

TEST_CASE("the chain hash of small and large write sets equals the hash of their canonical bytes") {
  for (auto [cis, rels, long_value] : {std::tuple{3, 2, size_t{10}}, std::tuple{20'000, 30'000, size_t{300'000}},
                                       std::tuple{5'000, 0, size_t{100}}}) {
    WriteSet ws = MakeWriteSet(cis, rels, long_value);
    std::string canonical = TxCanonical(ws.tx, ws.cis, ws.rels, ws.docs, ws.schema_ddl);
    CHECK(TxChainHash(kGenesisHash, ws.tx, ws) == ChainHash(kGenesisHash, canonical));
    // A one-byte change anywhere changes the hash (here in the last relationship).
    if (rels > 0) {
      ws.rels.back().to += 1;
      CHECK(TxChainHash(kGenesisHash, ws.tx, ws) != ChainHash(kGenesisHash, canonical));
    }
  }
}
