// PastGraph (AS OF, USE BASELINE as a view over the current graph with the versions written since
// undone) against the old way as the oracle: a Graph rebuilt from every stored version
// (Store::LoadAsOf), on random histories of creates, updates and retirements of CIs and
// relationships, for every transaction of the history, with and without a membership filter,
// over the graph the writes built and over one loaded afresh from the store (which knows only
// the classes and types in use now); and across CatchUp after more writes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cmdb/past_graph.hpp"
#include "core_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;

namespace {

const std::vector<std::string> kClasses = {"Application", "Software", "Database", "BusinessService"};
const std::vector<std::string> kTypes = {"DEPENDS_ON"};

std::string AttrsText(const AttrMap& attrs) {
  std::string out;
  for (const auto& [name, value] : attrs) out += std::string(name) + "=" + value.ToLiteral() + ";";
  return out;
}

// Everything a query or an impact reads from a graph, in a canonical text (ids of classes and
// types differ between the two graphs: names are compared).
template <typename G>
std::string Describe(const G& g, const Schema& schema, CiId ci_bound, RelId rel_bound) {
  std::ostringstream out;
  out << "cis " << g.ci_count() << " rels " << g.rel_count() << "\n";
  std::vector<std::string> keys;
  for (CiId id = 1; id < ci_bound; ++id) {
    const CiRecord* c = g.FindCi(id);
    if (!c) continue;
    out << "ci " << id << " " << c->class_name.str() << " v" << c->version << " " << AttrsText(c->attrs) << "\n";
    out << "  class id names " << g.ClassName(g.ClassIdOf(id)) << "\n";
    for (bool dir : {true, false}) {
      std::vector<std::string> row;
      for (const Adj& a : dir ? g.Out(id) : g.In(id))
        row.push_back(g.TypeName(a.type()) + ":" + std::to_string(a.rel()) + ">" + std::to_string(a.other()));
      // A row is sorted by type id: the same types, in the same order within one type.
      std::vector<std::string> sorted = row;
      std::sort(sorted.begin(), sorted.end());
      out << (dir ? "  out" : "  in");
      for (const auto& e : sorted) out << " " << e;
      out << "\n";
      for (const auto& t : kTypes) {
        auto tid = g.TypeIdOf(t);
        out << "  " << t << ":";
        if (tid) {
          for (const Adj& a : dir ? g.OutOfType(id, *tid) : g.InOfType(id, *tid)) out << " " << a.rel();
        }
        out << "\n";
      }
    }
    for (auto& k : IndexKeysOf(schema, *c)) keys.push_back(std::move(k));
  }
  for (RelId id = 1; id < rel_bound; ++id) {
    std::optional<RelRecord> r = g.FindRel(id);
    REQUIRE(r.has_value() == g.HasRel(id));
    if (!r) continue;
    out << "rel " << id << " " << r->type.str() << " " << r->from << "->" << r->to << " v" << r->version << " "
        << AttrsText(r->attrs) << "\n";
  }
  for (const auto& cls : kClasses) {
    out << "extent " << cls << ":";
    for (CiId id : g.Extent(cls)) out << " " << id;
    out << "\n";
  }
  out << "in use:";
  for (const auto& cls : g.ClassesInUse()) out << " " << cls;
  out << "\n";
  for (const auto& k : keys) {
    auto found = g.LookupIndex(k, schema);
    out << "key " << k << " -> " << (found ? *found : 0) << "\n";
  }
  return out.str();
}

// The oracle: the old way, every version valid at `tx` loaded into a fresh graph.
std::unique_ptr<Graph> Replay(Store& store, TxId tx, const Schema& schema, const std::vector<CiId>* cis,
                              const std::vector<RelId>* rels) {
  auto g = std::make_unique<Graph>();
  Status st = store.LoadAsOf(
      tx,
      [&](CiRecord&& c) {
        if (!cis || std::binary_search(cis->begin(), cis->end(), c.id)) g->PutCi(std::move(c), schema);
      },
      [&](RelRecord&& r) {
        if (!rels || std::binary_search(rels->begin(), rels->end(), r.id)) g->PutRel(std::move(r));
      });
  REQUIRE(st.ok());
  g->FinishLoad();
  return g;
}

// A random history: each transaction creates, updates or retires a few CIs and relationships
// (a refused write changes nothing and is skipped). Returns the transactions it committed.
std::vector<TxId> RandomHistory(Database& db, std::mt19937& rng, int txs, int& names) {
  std::vector<TxId> done;
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int t = 0; t < txs; ++t) {
    auto tx = db.Write(TxMeta{}, [&](Txn& txn) -> Status {
      int ops = 1 + static_cast<int>(pick(3));
      for (int o = 0; o < ops; ++o) {
        std::vector<CiId> live;
        for (CiId id = 1; id < txn.graph().ci_id_bound() + 8; ++id) {
          if (txn.GetCi(id)) live.push_back(id);
        }
        int what = live.size() < 4 ? 0 : static_cast<int>(pick(7));
        Status st;
        if (what == 0) {
          std::string cls = kClasses[pick(kClasses.size())];
          AttrMap a = Attrs({{"name", Value(cls + "-" + std::to_string(++names))}});
          if (cls == "Application" && pick(2)) a.Set("app_code", Value("code-" + std::to_string(pick(6))));
          st = txn.CreateCi(cls, std::move(a)).status();
        } else if (what == 1 || what == 2) {
          CiId id = live[pick(live.size())];
          AttrPatch patch{{"owner", Value("owner-" + std::to_string(pick(5)))}};
          if (pick(3) == 0) patch.push_back({"name", Value("renamed-" + std::to_string(++names))});
          st = txn.UpdateCi(id, patch, std::nullopt);
        } else if (what == 3) {
          st = txn.RetireCi(live[pick(live.size())], std::nullopt);
        } else if (what == 4 || what == 5) {
          st = txn.CreateRel("DEPENDS_ON", live[pick(live.size())], live[pick(live.size())],
                             Attrs({{"note", Value("n" + std::to_string(pick(4)))}}))
                   .status();
        } else {
          std::vector<RelId> rels;
          for (CiId id : live) {
            for (RelId r : txn.RelsOf(id)) rels.push_back(r);
          }
          if (rels.empty()) continue;
          RelId r = rels[pick(rels.size())];
          st = pick(2) ? txn.UpdateRel(r, {{"note", Value("u" + std::to_string(pick(4)))}})
                       : txn.DeleteRel(r, std::nullopt);
        }
        if (!st.ok()) return st;  // refused: the whole transaction goes
      }
      return Status::Ok();
    });
    if (tx.ok() && tx->id > 0) done.push_back(tx->id);
  }
  return done;
}

// Compares the view of `db`'s graph as of every transaction with the oracle, with and without a
// random membership filter.
void CheckAllPasts(Database& db, Store& store, const std::vector<TxId>& txs, std::mt19937& rng) {
  ReadView view = db.Read();
  const Schema& schema = view.schema();
  for (TxId tx : txs) {
    INFO("as of " << tx << " (present " << view.tx() << ")");
    auto past = PastGraph::Open(view.graph(), view.tx(), store, tx, schema);
    REQUIRE(past.ok());
    auto oracle = Replay(store, tx, schema, nullptr, nullptr);
    CiId cb = std::max<CiId>((*past)->ci_id_bound(), view.graph().ci_id_bound());
    RelId rb = std::max<RelId>((*past)->rel_id_bound(), view.graph().rel_id_bound());
    REQUIRE(Describe(**past, schema, cb, rb) == Describe(*oracle, schema, cb, rb));
    // A baseline: some of the CIs there then, the relationships between them, and ids that were
    // not there then.
    std::vector<CiId> cis;
    for (CiId id = 1; id < cb; ++id) {
      if ((oracle->FindCi(id) && rng() % 3) || rng() % 7 == 0) cis.push_back(id);
    }
    std::vector<RelId> rels;
    for (RelId id = 1; id < rb; ++id) {
      std::optional<RelRecord> r = oracle->FindRel(id);
      if (r && std::binary_search(cis.begin(), cis.end(), r->from) && std::binary_search(cis.begin(), cis.end(), r->to) &&
          rng() % 4)
        rels.push_back(id);
    }
    auto member_past = PastGraph::Open(view.graph(), view.tx(), store, tx, schema, &cis, &rels);
    REQUIRE(member_past.ok());
    auto member_oracle = Replay(store, tx, schema, &cis, &rels);
    REQUIRE(Describe(**member_past, schema, cb, rb) == Describe(*member_oracle, schema, cb, rb));
  }
}

}  // namespace

TEST_CASE("PastGraph: nothing changed since, the view is the present") {
  cmdb::testing::CoreDb t;
  CiId a = t.Create("Application", Attrs({{"name", Value("shop")}}));
  CiId b = t.Create("Database", Attrs({{"name", Value("orders")}}));
  t.Relate("DEPENDS_ON", a, b);
  ReadView view = t.db->Read();
  auto past = PastGraph::Open(view.graph(), view.tx(), t.store, view.tx(), view.schema());
  REQUIRE(past.ok());
  CHECK((*past)->changed_cis() == 0);
  CHECK((*past)->changed_rels() == 0);
  CiId cb = view.graph().ci_id_bound();
  RelId rb = view.graph().rel_id_bound();
  CHECK(Describe(**past, view.schema(), cb, rb) == Describe(view.graph(), view.schema(), cb, rb));
  // Nor can it show the future.
  auto future = PastGraph::Open(view.graph(), view.tx(), t.store, view.tx() + 1, view.schema());
  REQUIRE_FALSE(future.ok());
  CHECK(future.status().message() == "the past view of transaction " + std::to_string(view.tx() + 1) +
                                         " is after the present (" + std::to_string(view.tx()) + ")");
}

TEST_CASE("PastGraph: a hand-computed past (create, update, retire of CIs and relationships)") {
  cmdb::testing::CoreDb t;
  CiId app = t.Create("Application", Attrs({{"name", Value("shop")}, {"app_code", Value("SHP")}}));
  CiId db1 = t.Create("Database", Attrs({{"name", Value("orders")}}));
  CiId db2 = t.Create("Database", Attrs({{"name", Value("stock")}}));
  RelId r1 = t.Relate("DEPENDS_ON", app, db1);
  TxId then = t.db->Read().tx();
  // Since then: the application renamed (its KEY and UNIQUE entries move), orders retired (with
  // its relationship), a new link to stock, a new CI of a class that had none.
  CiId nginx = 0;
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
    CMDB_RETURN_IF_ERROR(txn.UpdateCi(app, {{"name", Value("webshop")}, {"app_code", Value("WEB")}}, std::nullopt));
    CMDB_RETURN_IF_ERROR(txn.RetireCi(db1, std::nullopt));
    CMDB_RETURN_IF_ERROR(txn.CreateRel("DEPENDS_ON", app, db2, {}).status());
    auto created = txn.CreateCi("Software", Attrs({{"name", Value("nginx")}}));
    if (created.ok()) nginx = *created;
    return created.status();
  });
  REQUIRE(tx.ok());
  ReadView view = t.db->Read();
  const Schema& schema = view.schema();
  auto opened = PastGraph::Open(view.graph(), view.tx(), t.store, then, schema);
  REQUIRE(opened.ok());
  const PastGraph& past = **opened;
  CHECK(past.changed_cis() == 3);   // app, orders, nginx
  CHECK(past.changed_rels() == 2);  // r1 (ended with orders), the new link
  CHECK(past.ci_count() == 3);
  CHECK(past.rel_count() == 1);
  REQUIRE(past.FindCi(app));
  CHECK(past.FindCi(app)->attrs.Get("name").as_string() == "shop");
  REQUIRE(past.FindCi(db1));
  REQUIRE(nginx > 0);
  CHECK(past.FindCi(nginx) == nullptr);  // not there then
  REQUIRE(past.Out(app).size() == 1);
  CHECK(past.Out(app)[0].rel() == r1);
  CHECK(past.Out(app)[0].other() == db1);
  CHECK(past.In(db2).empty());
  REQUIRE(past.In(db1).size() == 1);
  CHECK(std::vector<CiId>(past.Extent("Database").begin(), past.Extent("Database").end()) == std::vector<CiId>{db1, db2});
  CHECK(past.Extent("Software").empty());
  CHECK(past.ClassesInUse() == std::vector<std::string>{"Application", "Database"});
  AttrMap key;
  key.Set("name", Value("shop"));
  CHECK(past.LookupIndex(*KeyIndexKey(schema, "Application", key), schema) == app);
  key.Set("name", Value("webshop"));
  CHECK_FALSE(past.LookupIndex(*KeyIndexKey(schema, "Application", key), schema).has_value());
  CHECK(past.LookupIndex(UniqueIndexKey(schema, "Application", "app_code", Value("SHP")), schema) == app);
  CHECK_FALSE(past.LookupIndex(UniqueIndexKey(schema, "Application", "app_code", Value("WEB")), schema).has_value());
  // The present is untouched.
  CHECK(view.graph().FindCi(app)->attrs.Get("name").as_string() == "webshop");
  CHECK(view.graph().FindCi(db1) == nullptr);
}

TEST_CASE("PastGraph: random histories agree with the rebuilt past at every transaction") {
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    cmdb::testing::CoreDb t;
    int names = 0;
    std::vector<TxId> txs = RandomHistory(*t.db, rng, 60, names);
    REQUIRE(txs.size() > 20);
    CheckAllPasts(*t.db, t.store, txs, rng);
    // The same store opened afresh: the current graph knows only the classes and types in use
    // now, so the past's others are numbered after them.
    auto reopened = cmdb::testing::OpenCoreDatabase(&t.store);
    CheckAllPasts(*reopened, t.store, txs, rng);
  }
}

TEST_CASE("PastGraph: catching up after the present moved on keeps the same past") {
  std::mt19937 rng(7);
  cmdb::testing::CoreDb t;
  int names = 0;
  std::vector<TxId> txs = RandomHistory(*t.db, rng, 30, names);
  REQUIRE(txs.size() > 10);
  TxId then = txs[txs.size() / 2];
  const Schema& schema = *t.db->schema();
  std::unique_ptr<PastGraph> past;
  {
    ReadView view = t.db->Read();
    auto opened = PastGraph::Open(view.graph(), view.tx(), t.store, then, view.schema());
    REQUIRE(opened.ok());
    past = std::move(*opened);
  }
  // What a yield lets in: more writes to the graph under the view, then CatchUp.
  for (int round = 0; round < 3; ++round) {
    std::vector<TxId> more = RandomHistory(*t.db, rng, 15, names);
    REQUIRE_FALSE(more.empty());
    ReadView view = t.db->Read();
    REQUIRE(past->CatchUp(view.tx()).ok());
    CHECK(past->current_tx() == view.tx());
    auto oracle = Replay(t.store, then, schema, nullptr, nullptr);
    CiId cb = std::max<CiId>(past->ci_id_bound(), view.graph().ci_id_bound());
    RelId rb = std::max<RelId>(past->rel_id_bound(), view.graph().rel_id_bound());
    REQUIRE(Describe(*past, schema, cb, rb) == Describe(*oracle, schema, cb, rb));
  }
}

TEST_CASE("MemStore::LoadChangedSince: each id written after, with its state then") {
  cmdb::testing::CoreDb t;
  CiId a = t.Create("Application", Attrs({{"name", Value("a")}}));
  TxId t1 = t.db->Read().tx();
  CiId b = t.Create("Application", Attrs({{"name", Value("b")}}));
  REQUIRE(t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.RetireCi(a, std::nullopt); }).ok());
  TxId t3 = t.db->Read().tx();
  std::vector<std::pair<CiId, bool>> seen;
  auto ci_sink = [&](CiId id, std::optional<CiRecord>&& c) {
    if (c) CHECK(c->id == id);
    seen.push_back({id, c.has_value()});
  };
  auto no_rels = [](RelId, std::optional<RelRecord>&&) { FAIL("no relationship changed"); };
  REQUIRE(t.store.LoadChangedSince(t1, t1, ci_sink, no_rels).ok());
  CHECK(seen == std::vector<std::pair<CiId, bool>>{{a, true}, {b, false}});
  seen.clear();
  REQUIRE(t.store.LoadChangedSince(t1, t3, ci_sink, no_rels).ok());
  CHECK(seen.empty());
  CHECK(t.store.LoadChangedSince(t3, t1, ci_sink, no_rels).message() ==
        "LoadChangedSince: as_of must not be after `after`");
}
