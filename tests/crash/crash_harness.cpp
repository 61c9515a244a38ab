// Crash harness: a mixed write workload (bulk, single writes, query writes, updates) against a
// cmdbd that is killed with SIGKILL at random moments, again and again. After each restart it
// checks that every acknowledged write is there, that no transaction is half visible, that
// SQLite's integrity check and the hash chain pass, and that the server's in-memory graph equals
// one rebuilt from the SQLite file. Ends with "N passed, M failed".
//
//   cmdb_crash_harness [--cycles 50] [--seed 7]
#include <algorithm>
#include <atomic>
#include <iterator>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "api/bootstrap.hpp"
#include "integration/server_process.hpp"
#include "store/sqlite_store.hpp"

using Json = nlohmann::json;
using cmdb::testing::ServerProcess;

namespace {

struct Ledger {
  std::mutex mu;
  std::set<std::string> acked;                      // CI names whose creation was acknowledged
  std::vector<std::vector<std::string>> batches;    // every bulk batch attempted (all or none)
  std::map<int, std::vector<std::string>> acked_by;     // worker -> its acknowledged names
  uint64_t next_seq = 0;                                 // attempt order of updates
  std::map<std::string, std::map<std::string, uint64_t>> owners;  // name -> owner value -> attempt seq
  std::map<std::string, uint64_t> acked_owner;           // name -> seq of the last acknowledged update
};

Json Query(httplib::Client& c, const std::string& q, const Json& params = Json::object()) {
  auto r = c.Post("/v1/query", Json{{"query", q}, {"parameters", params}}.dump(), "application/json");
  if (!r || r->status != 200) throw std::runtime_error("query failed: " + q + (r ? " -> " + r->body : ""));
  return Json::parse(r->body);
}

// All rows of `match` (which binds `x`) and `ret`, paged by id so no answer hits the row cap.
std::vector<Json> AllRows(httplib::Client& c, const std::string& match, const std::string& ret) {
  std::vector<Json> rows;
  int64_t after = 0;
  for (;;) {
    Json page = Query(c, match + " WHERE id(x) > $after RETURN id(x), " + ret + " ORDER BY id(x) LIMIT 20000",
                      Json{{"after", after}});
    for (const auto& row : page["rows"]) rows.push_back(row);
    if (page["rows"].size() < 20000) return rows;
    after = page["rows"].back()[0].get<int64_t>();
  }
}

// The graph as the server holds it, canonical: "ci id class attrs" and "rel id type from to attrs".
std::set<std::string> ServerGraph(httplib::Client& c) {
  std::set<std::string> out;
  for (const auto& row : AllRows(c, "MATCH (x)", "x")) {
    const Json& n = row[1];
    out.insert("ci " + n["id"].dump() + " " + n["class"].get<std::string>() + " " + n["attributes"].dump());
  }
  for (const auto& row : AllRows(c, "MATCH ()-[x]->()", "x")) {
    const Json& r = row[1];
    out.insert("rel " + r["id"].dump() + " " + r["type"].get<std::string>() + " " + r["from"].dump() + " " +
               r["to"].dump() + " " + r["attributes"].dump());
  }
  return out;
}

Json AttrsJson(const cmdb::AttrMap& attrs) {
  Json o = Json::object();
  for (const auto& [k, v] : attrs) {
    switch (v.kind()) {
      case cmdb::Value::Kind::kBool: o[k] = v.as_bool(); break;
      case cmdb::Value::Kind::kInt: o[k] = v.as_int(); break;
      case cmdb::Value::Kind::kFloat: o[k] = v.as_float(); break;
      case cmdb::Value::Kind::kString: o[k] = v.as_string(); break;
      default: o[k] = v.ToLiteral(); break;
    }
  }
  return o;
}

// The same, rebuilt from the SQLite file by a fresh load.
std::set<std::string> StoredGraph(const std::string& path, std::string& problem) {
  std::set<std::string> out;
  auto store = cmdb::SqliteStore::Open(path);
  if (!store.ok()) return problem = store.status().message(), out;
  if (auto st = (*store)->IntegrityCheck(); !st.ok()) problem = st.message();
  auto chain = (*store)->VerifyChain();
  if (!chain.ok() || !chain->ok) problem = "hash chain broken at tx " + std::to_string(chain.ok() ? chain->first_broken : -1);
  std::ostringstream log;
  auto db = cmdb::api::OpenDatabase(store->get(), cmdb::api::BootstrapOptions{}, log);
  if (!db.ok()) return problem = db.status().message(), out;
  cmdb::ReadView view = (*db)->Read();
  const cmdb::Graph& g = view.graph();
  for (cmdb::CiId id = 1; id < g.ci_id_bound(); ++id) {
    if (const auto* c = g.FindCi(id)) out.insert("ci " + std::to_string(id) + " " + c->class_name + " " + AttrsJson(c->attrs).dump());
  }
  for (cmdb::RelId id = 1; id < g.rel_id_bound(); ++id) {
    if (auto r = g.FindRel(id))
      out.insert("rel " + std::to_string(id) + " " + r->type + " " + std::to_string(r->from) + " " + std::to_string(r->to) +
                 " " + AttrsJson(r->attrs).dump());
  }
  return out;
}

void Workload(const ServerProcess& server, int cycle, int worker, std::atomic<bool>& stop, Ledger& ledger, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto c = server.Client();
  c.set_read_timeout(5, 0);
  for (int i = 0; !stop; ++i) {
    std::string base = "c" + std::to_string(cycle) + "w" + std::to_string(worker) + "i" + std::to_string(i);
    int kind = static_cast<int>(rng() % 4);
    if (kind == 0) {  // a single write
      auto r = c.Post("/v1/cis", Json{{"class", "VirtualMachine"}, {"attributes", {{"name", base}}}}.dump(), "application/json");
      if (r && r->status == 201) {
        std::lock_guard l(ledger.mu);
        ledger.acked.insert(base);
        ledger.acked_by[worker].push_back(base);
      }
    } else if (kind == 1) {  // a bulk batch with relationships: all or nothing
      std::vector<std::string> names;
      std::string body;
      for (int k = 0; k < 40; ++k) {
        names.push_back(base + "b" + std::to_string(k));
        body += Json{{"op", "ci"}, {"ref", names.back()}, {"class", "VirtualMachine"}, {"attributes", {{"name", names.back()}}}}.dump() + "\n";
        if (k > 0) body += Json{{"op", "rel"}, {"type", "DEPENDS_ON"}, {"from", {{"ref", names[k]}}}, {"to", {{"ref", names[k - 1]}}}}.dump() + "\n";
      }
      {
        std::lock_guard l(ledger.mu);
        ledger.batches.push_back(names);
      }
      auto r = c.Post("/v1/bulk", body, "application/x-ndjson");
      if (r && r->status == 200) {
        std::lock_guard l(ledger.mu);
        ledger.acked.insert(names.begin(), names.end());
        ledger.acked_by[worker].insert(ledger.acked_by[worker].end(), names.begin(), names.end());
      }
    } else if (kind == 2) {  // a query write
      std::string q = "CREATE (:VirtualMachine {name: '" + base + "q'})";
      auto r = c.Post("/v1/query", Json{{"query", q}}.dump(), "application/json");
      if (r && r->status == 200) {
        std::lock_guard l(ledger.mu);
        ledger.acked.insert(base + "q");
        ledger.acked_by[worker].push_back(base + "q");
      }
    } else {  // an update of an acknowledged CI
      // Only CIs this worker created, so no two updates of one CI race each other.
      std::string target;
      uint64_t seq;
      {
        std::lock_guard l(ledger.mu);
        const auto& mine = ledger.acked_by[worker];
        if (mine.empty()) continue;
        target = mine[rng() % mine.size()];
        seq = ++ledger.next_seq;
        ledger.owners[target][base] = seq;
      }
      std::string q = "MATCH (v:VirtualMachine {name: '" + target + "'}) SET v.owner = '" + base + "' RETURN v";
      auto r = c.Post("/v1/query", Json{{"query", q}}.dump(), "application/json");
      if (r && r->status == 200 && !Json::parse(r->body)["rows"].empty()) {
        std::lock_guard l(ledger.mu);
        ledger.acked_owner[target] = seq;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // one line per cycle, as it happens
  int cycles = 50;
  uint64_t seed = 7;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cycles" && i + 1 < argc) cycles = std::stoi(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::stoull(argv[++i]);
  }
  std::mt19937_64 rng(seed);
  std::string dir = cmdb::testing::TempDir("crash");
  std::string db = dir + "/cmdb.sqlite";
  Ledger ledger;
  int passed = 0, failed = 0;
  std::string token;
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    std::vector<std::string> problems;
    {
      ServerProcess server(db, {"--no-demo", "--quiet"});
      if (token.empty()) token = server.token();
      std::atomic<bool> stop{false};
      std::vector<std::thread> workers;
      for (int w = 0; w < 2; ++w) workers.emplace_back(Workload, std::cref(server), cycle, w, std::ref(stop), std::ref(ledger), rng());
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 280));
      server.Kill();  // SIGKILL, mid-workload
      stop = true;
      for (auto& t : workers) t.join();
    }
    ServerProcess server(db, {"--no-demo", "--quiet"});
    auto c = server.Client();
    c.set_bearer_token_auth(token.c_str());
    std::set<std::string> present;
    std::map<std::string, std::string> owner;
    for (const auto& row : AllRows(c, "MATCH (x:VirtualMachine)", "x.name, x.owner")) {
      present.insert(row[1].get<std::string>());
      if (!row[2].is_null()) owner[row[1].get<std::string>()] = row[2].get<std::string>();
    }
    std::lock_guard l(ledger.mu);
    size_t lost = 0;
    for (const auto& name : ledger.acked) lost += !present.count(name);
    if (lost) problems.push_back(std::to_string(lost) + " acknowledged CIs missing");
    size_t half = 0;
    for (const auto& batch : ledger.batches) {
      size_t n = 0;
      for (const auto& name : batch) n += present.count(name);
      if (n != 0 && n != batch.size()) ++half;
    }
    if (half) problems.push_back(std::to_string(half) + " bulk batches half applied");
    size_t stale = 0;
    for (const auto& [name, seq] : ledger.acked_owner) {
      // The last acknowledged value, or a later attempt whose answer the kill cut off.
      auto it = owner.find(name);
      auto attempt = it == owner.end() ? ledger.owners[name].end() : ledger.owners[name].find(it->second);
      if (attempt == ledger.owners[name].end() || attempt->second < seq) ++stale;
    }
    if (stale) problems.push_back(std::to_string(stale) + " acknowledged updates lost");
    std::set<std::string> served = ServerGraph(c);
    server.Stop();
    std::string store_problem;
    std::set<std::string> stored = StoredGraph(db, store_problem);
    if (!store_problem.empty()) problems.push_back(store_problem);
    if (served != stored) {
      problems.push_back("in-memory graph differs from the one rebuilt from SQLite");
      std::vector<std::string> only_served, only_stored;
      std::set_difference(served.begin(), served.end(), stored.begin(), stored.end(), std::back_inserter(only_served));
      std::set_difference(stored.begin(), stored.end(), served.begin(), served.end(), std::back_inserter(only_stored));
      problems.push_back("  sizes: served " + std::to_string(served.size()) + ", stored " + std::to_string(stored.size()));
      if (!only_served.empty()) problems.push_back("  served only: " + only_served[0]);
      if (!only_stored.empty()) problems.push_back("  stored only: " + only_stored[0]);
    }
    std::printf("cycle %2d: %zu acknowledged CIs present, %zu batches all-or-none, %zu updates kept, integrity+chain %s, graph %s: %s\n",
                cycle, ledger.acked.size() - lost, ledger.batches.size() - half, ledger.acked_owner.size() - stale,
                store_problem.empty() ? "ok" : "FAILED", served == stored ? "equal" : "DIFFERENT",
                problems.empty() ? "pass" : "FAIL");
    for (const auto& p : problems) std::printf("    %s\n", p.c_str());
    problems.empty() ? ++passed : ++failed;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
