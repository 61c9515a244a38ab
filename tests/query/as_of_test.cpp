// AS OF and USE BASELINE read a view over the current graph with the versions written since
// undone (cmdb/past_graph.hpp). Their oracle is the old way, a graph rebuilt from every stored
// version (QueryOptions::past_by_replay): on random histories over the demo estate — updates,
// retirements and creations of CIs and relationships — both must answer every query the same,
// traversals, aggregates and CALL impact included, on the in-memory store and on SQLite. And the
// SQLite store's LoadChangedSince against a brute force over every CI's and relationship's
// history.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "query/engine.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::gql;
using cmdb::testing::Attrs;

namespace {

const std::vector<std::string> kQueries = {
    "MATCH (n) RETURN count(n)",
    "MATCH ()-[r]->() RETURN count(r)",
    "MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS c ORDER BY t",
    "MATCH (n) RETURN labels(n)[0] AS cls, count(*) AS c ORDER BY cls",
    "MATCH (a)-[r]->(b) RETURN id(r), type(r), id(a), id(b), r.note ORDER BY id(r)",
    "MATCH (n) RETURN id(n), labels(n)[0], n.name, n.owner ORDER BY id(n)",
    "MATCH (s:BusinessService)-[:DEPENDS_ON]->(a)-[*1..3]->(x) RETURN s.name, count(DISTINCT x) ORDER BY s.name",
    "MATCH (h:Hardware)<-[*1..2]-(x) RETURN h.name, count(x) ORDER BY h.name",
    "MATCH (s:BusinessService {name: 'Payments'}) RETURN s.criticality, s.owner",
    "MATCH (d:Datacenter) CALL impact(d, {max_depth: 10}) YIELD ci, distance, state "
    "RETURN d.name, id(ci), distance, state ORDER BY d.name, id(ci)",
    "MATCH (s:BusinessService) CALL impact(s, {direction: 'depends_on'}) YIELD ci "
    "RETURN s.name, count(ci) ORDER BY s.name",
};

// The scalars and lists the queries above return, as text.
std::string Show(const QValue& v) {
  switch (v.kind()) {
    case QValue::Kind::kNull: return "null";
    case QValue::Kind::kBool: return v.as_bool() ? "true" : "false";
    case QValue::Kind::kInt: return std::to_string(v.as_int());
    case QValue::Kind::kFloat: return FormatFloat(v.as_float());
    case QValue::Kind::kString: return "'" + v.as_string() + "'";
    case QValue::Kind::kList: {
      std::string out = "[";
      for (const auto& e : v.as_list()) out += Show(e) + ",";
      return out + "]";
    }
    default: return std::string("<") + v.kind_name() + ">";
  }
}

std::string Text(const Result<QueryResult>& r) {
  if (!r.ok()) return "error: " + r.status().message();
  std::ostringstream out;
  for (const auto& row : r->rows) {
    for (const auto& v : row) out << Show(v) << " | ";
    out << "\n";
  }
  return out.str();
}

// Random writes to an open database: owners changed, CIs renamed or retired, relationships
// created, changed and deleted, CIs created. Returns the transactions committed.
std::vector<TxId> RandomWrites(Database& db, std::mt19937& rng, int txs) {
  std::vector<TxId> done;
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  static int names = 0;
  for (int t = 0; t < txs; ++t) {
    auto tx = db.Write(TxMeta{}, [&](Txn& txn) -> Status {
      std::vector<CiId> live;
      for (CiId id = 1; id < txn.graph().ci_id_bound(); ++id) {
        if (txn.GetCi(id)) live.push_back(id);
      }
      for (int o = 0, ops = 1 + static_cast<int>(pick(4)); o < ops; ++o) {
        CiId id = live[pick(live.size())];
        Status st;
        switch (pick(6)) {
          case 0: st = txn.UpdateCi(id, {{"owner", Value("team-" + std::to_string(pick(5)))}}, std::nullopt); break;
          case 1: st = txn.RetireCi(id, std::nullopt); break;
          case 2:
            st = txn.CreateRel("DEPENDS_ON", id, live[pick(live.size())], Attrs({{"note", Value("x")}})).status();
            break;
          case 3: {
            std::vector<RelId> rels = txn.RelsOf(id);
            if (rels.empty()) break;
            RelId r = rels[pick(rels.size())];
            st = pick(2) ? txn.DeleteRel(r, std::nullopt) : txn.UpdateRel(r, {{"note", Value("y")}});
            break;
          }
          case 4: st = txn.CreateCi("Software", Attrs({{"name", Value("sw-" + std::to_string(++names))}})).status(); break;
          default: st = txn.UpdateCi(id, {{"description", Value("d" + std::to_string(pick(3)))}}, std::nullopt);
        }
        if (!st.ok()) return st;  // refused: nothing of this transaction stays
      }
      return Status::Ok();
    });
    if (tx.ok() && tx->id > 0) done.push_back(tx->id);
  }
  return done;
}

// Runs every query AS OF `tx` and USE BASELINE (a random part of the estate then) on both
// engines and requires the same answers.
void CompareAt(Database& db, Store& store, TxId tx, std::mt19937& rng) {
  QueryEngine view(db, QueryOptions{});
  QueryOptions replay_options;
  replay_options.past_by_replay = true;
  QueryEngine replay(db, replay_options);
  // A baseline by hand: most CIs there at `tx`, the relationships among them (and a few ids
  // that were not there).
  BaselineSnapshot snapshot;
  snapshot.tx = tx;
  Graph then;
  Schema schema = *db.schema();
  REQUIRE(store.LoadAsOf(tx, [&](CiRecord&& c) { then.PutCi(std::move(c), schema); },
                         [&](RelRecord&& r) { then.PutRel(std::move(r)); })
              .ok());
  then.FinishLoad();
  for (CiId id = 1; id < then.ci_id_bound() + 5; ++id) {
    if ((then.FindCi(id) && rng() % 5) || rng() % 9 == 0) snapshot.cis.push_back(id);
  }
  for (RelId id = 1; id < then.rel_id_bound(); ++id) {
    std::optional<RelRecord> r = then.FindRel(id);
    if (r && std::binary_search(snapshot.cis.begin(), snapshot.cis.end(), r->from) &&
        std::binary_search(snapshot.cis.begin(), snapshot.cis.end(), r->to))
      snapshot.rels.push_back(id);
  }
  BaselineResolver baselines = [&](const std::string&) -> Result<BaselineSnapshot> { return snapshot; };
  for (const std::string& prefix : {"AS OF " + std::to_string(tx) + " ", std::string("USE BASELINE 'b' ")}) {
    for (const auto& q : kQueries) {
      QueryRequest r;
      r.text = prefix + q;
      r.baselines = &baselines;
      INFO(r.text);
      auto a = view.Run(r);
      auto b = replay.Run(r);
      REQUIRE(a.ok());
      REQUIRE(Text(a) == Text(b));
      CHECK(a->as_of_tx == tx);
    }
  }
}

std::string TempDb(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("cmdb_as_of_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + ext);
  return path.string();
}

}  // namespace

TEST_CASE("AS OF and USE BASELINE: the view answers what the rebuilt past answers, on random histories") {
  cmdb::testing::TestDb t{true};
  TxId demo = t.store.Info()->last_tx;
  std::mt19937 rng(22);
  // Nothing changed yet: the past is the present, the view undoes nothing.
  CompareAt(*t.db, t.store, demo, rng);
  QueryEngine engine(*t.db, QueryOptions{});
  for (const auto& q : kQueries) {
    QueryRequest now, past;
    now.text = q;
    past.text = "AS OF " + std::to_string(demo) + " " + q;
    INFO(q);
    CHECK(Text(engine.Run(now)) == Text(engine.Run(past)));
  }
  std::vector<TxId> txs = RandomWrites(*t.db, rng, 40);
  REQUIRE(txs.size() > 20);
  for (TxId tx : {demo, txs[0], txs[5], txs[txs.size() / 2], txs[txs.size() - 2], txs.back()}) {
    INFO("as of " << tx);
    CompareAt(*t.db, t.store, tx, rng);
  }
  // The present moved on: what it answers now differs from the demo's answers.
  QueryRequest count;
  count.text = "MATCH (n) RETURN id(n), n.owner ORDER BY id(n)";
  QueryRequest past_count = count;
  past_count.text = "AS OF " + std::to_string(demo) + " " + count.text;
  CHECK(Text(engine.Run(count)) != Text(engine.Run(past_count)));
}

TEST_CASE("AS OF on SQLite: the view answers what the rebuilt past answers; LoadChangedSince against brute force") {
  std::string path = TempDb("as_of.sqlite");
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  opts.demo_file = cmdb::testing::SourceDir() + "/schema/demo/demo.ndjson";
  std::ostringstream log;
  auto db = api::OpenDatabase(store->get(), opts, log);
  REQUIRE(db.ok());
  std::mt19937 rng(2026);
  TxId demo = (*db)->Read().tx();
  std::vector<TxId> txs = RandomWrites(**db, rng, 25);
  REQUIRE(txs.size() > 10);
  for (TxId tx : {demo, txs[3], txs.back()}) {
    INFO("as of " << tx);
    CompareAt(**db, **store, tx, rng);
  }
  // The store's answer, for pairs (as_of <= after), against every CI's and relationship's history.
  CiId ci_bound = (*db)->Read().graph().ci_id_bound();
  RelId rel_bound = (*db)->Read().graph().rel_id_bound();
  std::vector<TxId> points = {demo - 1, demo, txs[2], txs[10], txs.back()};
  for (size_t i = 0; i < points.size(); ++i) {
    for (size_t j = i; j < points.size(); ++j) {
      TxId as_of = points[i], after = points[j];
      INFO("as of " << as_of << ", written after " << after);
      std::string got, want;
      REQUIRE((*store)
                  ->LoadChangedSince(
                      as_of, after,
                      [&](CiId id, std::optional<CiRecord>&& c) {
                        got += "ci " + std::to_string(id) + (c ? " v" + std::to_string(c->version) : " -") + "\n";
                      },
                      [&](RelId id, std::optional<RelRecord>&& r) {
                        got += "rel " + std::to_string(id) + (r ? " v" + std::to_string(r->version) : " -") + "\n";
                      })
                  .ok());
      auto brute = [&](const auto& history, const std::string& kind, int64_t id) {
        bool changed = false;
        std::string then = " -";
        for (const auto& v : history) {
          if (TxId{v.valid_from} > after) changed = true;
          if (TxId{v.valid_from} <= as_of && (v.valid_to == kNoTx || TxId{v.valid_to} > as_of) && !v.retired)
            then = " v" + std::to_string(v.version);
        }
        if (changed) want += kind + " " + std::to_string(id) + then + "\n";
      };
      for (CiId id = 1; id < ci_bound; ++id) brute(*(*store)->CiHistory(id), "ci", id);
      for (RelId id = 1; id < rel_bound; ++id) brute(*(*store)->RelHistory(id), "rel", id);
      CHECK(got == want);
    }
  }
}

TEST_CASE("a long AS OF read lets a writer in and keeps reading the same past") {
  cmdb::testing::TestDb t{true};
  QueryEngine engine(*t.db, QueryOptions{});
  std::mt19937 rng(5);
  std::vector<TxId> txs = RandomWrites(*t.db, rng, 10);
  REQUIRE(txs.size() > 3);
  TxId then = txs[1];
  QueryRequest count;
  count.text = "AS OF " + std::to_string(then) + " MATCH (n) RETURN count(n)";
  auto n = engine.Run(count);
  REQUIRE(n.ok());
  int64_t cis = n->rows[0][0].as_int();
  std::atomic<bool> read_done{false}, write_done_first{false};
  std::atomic<int64_t> combinations{-1};
  std::thread reader([&] {  // no Catch2 assertions off the main thread
    QueryRequest r;
    // Every CI scanned again for each pair (about three million rows): the safe points yield to
    // the writer below, and the scans after it must still see the CIs as of `then`.
    r.text = "AS OF " + std::to_string(then) + " MATCH (a), (b), (c) WHERE id(a) + id(b) + id(c) > 0 RETURN count(*)";
    auto res = engine.Run(r);
    if (res.ok()) combinations = res->rows[0][0].as_int();
    read_done = true;
  });
  while (t.db->readers() == 0 && !read_done.load()) std::this_thread::yield();
  REQUIRE_FALSE(read_done.load());
  // Written during the read: a CI created, one retired, an attribute changed.
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
    CMDB_RETURN_IF_ERROR(txn.CreateCi("Software", Attrs({{"name", Value("written-during-read")}})).status());
    for (CiId id = 1; id < txn.graph().ci_id_bound(); ++id) {
      if (txn.GetCi(id)) return txn.RetireCi(id, std::nullopt);
    }
    return Status::Ok();
  });
  CHECK(tx.ok());
  write_done_first = !read_done.load();
  reader.join();
  CHECK(write_done_first);
  CHECK(combinations.load() == cis * cis * cis);
}

TEST_CASE("AS OF before a retirement: the impact and the aggregates as they were") {
  cmdb::testing::TestDb t{true};
  QueryEngine engine(*t.db, QueryOptions{});
  auto run = [&](const std::string& text) {
    QueryRequest r;
    r.text = text;
    auto res = engine.Run(r);
    INFO(text << " -> " << res.status().message());
    REQUIRE(res.ok());
    return Text(res);
  };
  const std::string impact =
      "MATCH (d:Datacenter {name: 'dc-fra1'}) CALL impact(d, {max_depth: 10}) YIELD ci RETURN ci.name ORDER BY ci.name";
  const std::string hosts = "MATCH (h:PhysicalServer) RETURN count(h)";
  const std::string vms = "MATCH (v:VirtualMachine)-[:HOSTED_ON]->(:PhysicalServer {name: 'fra1-esx02'}) RETURN count(v)";
  std::string impact_then = run(impact), hosts_then = run(hosts), vms_then = run(vms);
  REQUIRE(impact_then.find("'fra1-esx02'") != std::string::npos);
  REQUIRE(vms_then != "0 | \n");
  TxId then = t.db->Read().tx();
  // fra1-esx02 retired (its relationships end with it).
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
    AttrMap key;
    key.Set("name", Value("fra1-esx02"));
    auto id = txn.FindByKey("PhysicalServer", key);
    if (!id) return Status::NotFound("fra1-esx02");
    return txn.RetireCi(*id, std::nullopt);
  });
  REQUIRE(tx.ok());
  CHECK(run(impact).find("'fra1-esx02'") == std::string::npos);
  CHECK(run(hosts) != hosts_then);
  CHECK(run(vms) == "0 | \n");
  const std::string as_of = "AS OF " + std::to_string(then) + " ";
  CHECK(run(as_of + impact) == impact_then);
  CHECK(run(as_of + hosts) == hosts_then);
  CHECK(run(as_of + vms) == vms_then);
}

TEST_CASE("AS OF keeps its view for the next query of the same transaction, caught up with the writes since") {
  cmdb::testing::TestDb t{true};
  QueryEngine engine(*t.db, QueryOptions{});
  QueryOptions replay_options;
  replay_options.past_by_replay = true;
  QueryEngine replay(*t.db, replay_options);
  TxId then = t.db->Read().tx();
  BaselineSnapshot whole;  // a baseline of everything then, as BaselineService resolves one
  whole.tx = then;
  whole.whole = true;
  BaselineSnapshot listed;  // the same, as a list of members
  listed.tx = then;
  {
    ReadView view = t.db->Read();
    for (CiId id = 1; id < view.graph().ci_id_bound(); ++id)
      if (view.graph().FindCi(id)) listed.cis.push_back(id);
    for (RelId id = 1; id < view.graph().rel_id_bound(); ++id)
      if (view.graph().HasRel(id)) listed.rels.push_back(id);
  }
  BaselineResolver baselines = [&](const std::string& name) -> Result<BaselineSnapshot> {
    return name == "all" ? whole : listed;
  };
  auto run = [&](QueryEngine& e, const std::string& text) {
    QueryRequest r;
    r.text = text;
    r.baselines = &baselines;
    auto res = e.Run(r);
    INFO(text << " -> " << res.status().message());
    REQUIRE(res.ok());
    return Text(res);
  };
  const std::string count = "MATCH (n) RETURN count(n)";
  const std::string impact =
      "MATCH (d:Datacenter {name: 'dc-fra1'}) CALL impact(d, {max_depth: 10}) YIELD ci RETURN ci.name ORDER BY ci.name";
  const std::string count_then = run(engine, count), impact_then = run(engine, impact);
  const std::string as_of = "AS OF " + std::to_string(then) + " ";
  auto write = [&](const std::string& name) {
    auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
      AttrMap key;
      key.Set("name", Value("fra1-esx02"));
      auto host = txn.FindByKey("PhysicalServer", key);
      if (host && txn.GetCi(*host)) CMDB_RETURN_IF_ERROR(txn.RetireCi(*host, std::nullopt));
      return txn.CreateCi("Software", Attrs({{"name", Value(name)}})).status();
    });
    REQUIRE(tx.ok());
  };
  write("first");
  CHECK(engine.past_views_opened() == 0);
  CHECK(run(engine, as_of + count) == count_then);
  CHECK(engine.past_views_opened() == 1);
  // The next query of the same transaction reads the same view, also after more writes.
  CHECK(run(engine, as_of + impact) == impact_then);
  write("second");
  CHECK(run(engine, count) != count_then);
  CHECK(run(engine, as_of + count) == count_then);
  CHECK(run(engine, as_of + impact) == impact_then);
  CHECK(run(engine, as_of + impact) == run(replay, as_of + impact));
  // USE BASELINE of everything reads like AS OF its tx: the same view.
  CHECK(run(engine, "USE BASELINE 'all' " + count) == count_then);
  CHECK(engine.past_views_opened() == 1);
  // A list of members makes a view of its own, each time, kept by nobody.
  CHECK(run(engine, "USE BASELINE 'listed' " + impact) == impact_then);
  CHECK(run(engine, "USE BASELINE 'listed' " + count) == count_then);
  CHECK(engine.past_views_opened() == 3);
  CHECK(run(engine, as_of + count) == count_then);
  CHECK(engine.past_views_opened() == 3);
  // Another transaction replaces the kept view; going back opens one again.
  const std::string before = "AS OF " + std::to_string(then - 1) + " ";
  CHECK(run(engine, before + count) == run(replay, before + count));
  CHECK(engine.past_views_opened() == 4);
  CHECK(run(engine, as_of + count) == count_then);
  CHECK(engine.past_views_opened() == 5);
  // Dropped: the next query opens one.
  engine.DropPastView();
  write("third");
  CHECK(run(engine, as_of + impact) == impact_then);
  CHECK(engine.past_views_opened() == 6);
}
