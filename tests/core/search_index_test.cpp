// The search index (cmdb/search_index.hpp): its matching rules on examples, and its answers after
// random writes, renames, retirements and a schema change equal a brute-force scan of the graph
// (the oracle: every CI's fields matched and ranked one by one).
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <random>

#include "core_util.hpp"
#include "query/ddl/ddl_parser.hpp"

using namespace cmdb;
using namespace cmdb::testing;

namespace {

// The oracle: every current CI of the view, its best field by the documented ranking.
std::vector<SearchRank> BruteForce(const ReadView& view, std::string_view query, size_t limit) {
  std::string q;
  for (char c : query) if (static_cast<unsigned char>(c) >= 0x20) q.push_back(c);
  q = FoldSearchText(q);
  std::vector<SearchRank> all;
  static std::deque<std::string> texts;  // the folded texts the ranks view
  texts.clear();
  const Graph& g = view.graph();
  for (CiId id = 1; id < g.ci_id_bound(); ++id) {
    const CiRecord* ci = g.FindCi(id);
    if (!ci || q.empty()) continue;
    std::optional<SearchRank> best;
    for (const SearchFieldValue& f : SearchFieldsOf(view.schema(), *ci)) {
      const std::string& text = texts.emplace_back(FoldSearchText(f.text));
      auto m = MatchFolded(q, text);
      if (!m) continue;
      SearchRank r{*m, f.field, text, id};
      if (!best || r < *best) best = r;
    }
    if (best) all.push_back(*best);
  }
  std::sort(all.begin(), all.end());
  if (all.size() > limit) all.resize(limit);
  return all;
}

}  // namespace

TEST_CASE("search: exact, prefix, word and substring matches, ASCII case folded") {
  CHECK(MatchFolded("web", "web") == SearchMatch::kExact);
  CHECK(MatchFolded("web", "web01") == SearchMatch::kPrefix);
  CHECK(MatchFolded("web", "fra1-web01") == SearchMatch::kWord);
  CHECK(MatchFolded("web", "cobweb-web") == SearchMatch::kWord);  // the second occurrence
  CHECK(MatchFolded("web", "cobweb") == SearchMatch::kSubstring);
  CHECK(MatchFolded("web", "we") == std::nullopt);
  CHECK(MatchFolded("", "web") == std::nullopt);
  CHECK(FoldSearchText("Shop-WEB Ä") == "shop-web Ä");
}

TEST_CASE("search: a CI's fields are its name, key, host names and IPs") {
  CoreDb c;
  CiId vm = c.Create("VirtualMachine", Attrs({{"name", "Shop-Web-01"}, {"ip_address", "10.1.2.3"},
                                              {"hostname", "shop-web-01.example.org"}}));
  ReadView view = c.db->Read();
  std::vector<SearchFieldValue> fields = SearchFieldsOf(view.schema(), *view.graph().FindCi(vm));
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : fields) got.emplace_back(std::string(SearchFieldName(f.field)) + ":" + f.attribute, f.text);
  CHECK(got == std::vector<std::pair<std::string, std::string>>{
                   {"name:name", "Shop-Web-01"},
                   {"hostname:hostname", "shop-web-01.example.org"},
                   {"ip:ip_address", "10.1.2.3"}});
  std::vector<SearchRank> hits = view.graph().search().Search("SHOP-web", 5);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].id == vm);
  CHECK(hits[0].match == SearchMatch::kPrefix);
  CHECK(hits[0].field == SearchField::kName);
  hits = view.graph().search().Search("10.1.2", 5);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].field == SearchField::kIp);
  CHECK(view.graph().search().Search("", 5).empty());
  CHECK(view.graph().search().Search("\x01\x02", 5).empty());  // control bytes are dropped
}

TEST_CASE("search: the index equals a brute-force scan after random writes and a schema change") {
  CoreDb c;
  std::mt19937 rng(23);
  const std::vector<std::string> words = {"shop", "web", "db", "fra1", "ams1", "pay", "hr", "Core"};
  auto name = [&] {
    std::string n = words[rng() % words.size()];
    for (int i = 0; i < 2; ++i) n += (rng() % 2 ? "-" : "") + words[rng() % words.size()];
    return n + std::to_string(rng() % 50);
  };
  std::vector<CiId> ids;
  auto check = [&](int round) {
    ReadView view = c.db->Read();
    for (const std::string q : {"shop", "web", "b-", "FRA1-", "1", "10.0.", "pay7", "zzz", "s", "e-w"}) {
      for (size_t limit : {size_t{1}, size_t{7}, size_t{1000}}) {
        INFO("round " << round << " query '" << q << "' limit " << limit);
        CHECK(view.graph().search().Search(q, limit) == BruteForce(view, q, limit));
      }
    }
  };
  // Rounds of 700 writes: fields wait unsorted, then (past SearchIndex's pending limit) merge into
  // the sorted arrays; retirements and renames leave dead records until a compaction.
  for (int round = 0; round < 8; ++round) {
    auto tx = c.db->Write(TxMeta{}, [&](Txn& t) -> Status {
      for (int i = 0; i < 700; ++i) {
        int op = ids.empty() ? 0 : static_cast<int>(rng() % 4);
        if (op <= 1) {
          std::string cls = rng() % 2 ? "VirtualMachine" : "Application";
          AttrMap a = Attrs({{"name", name() + "-" + std::to_string(ids.size())}});
          if (cls == "VirtualMachine") {
            a.Set("ip_address", "10." + std::to_string(rng() % 3) + "." + std::to_string(rng() % 200) + ".7");
            if (rng() % 2) a.Set("hostname", name() + ".example.org");
          }
          auto id = t.CreateCi(cls, std::move(a));
          if (!id.ok()) return id.status();
          ids.push_back(*id);
        } else if (op == 2) {
          CiId id = ids[rng() % ids.size()];
          if (!t.GetCi(id)) continue;
          CMDB_RETURN_IF_ERROR(t.UpdateCi(id, {{"name", Value(name() + "-r" + std::to_string(id))}}, std::nullopt));
        } else {
          size_t at = rng() % ids.size();
          if (!t.GetCi(ids[at])) continue;
          CMDB_RETURN_IF_ERROR(t.RetireCi(ids[at], std::nullopt));
        }
      }
      return Status::Ok();
    });
    REQUIRE(tx.ok());
    check(round);
  }
  // A schema change (a host-name attribute for applications) rebuilds the index under the new
  // schema: the new attribute is searchable at once.
  Schema next = *c.db->schema();
  REQUIRE(ddl::ApplyDdl("ALTER NODE TYPE Application ADD { dns_name STRING };", next).ok());
  REQUIRE(c.db->ChangeSchema(TxMeta{}, next).ok());
  CiId vm = c.Create("Application", Attrs({{"name", "zz-app"}, {"dns_name", "zz-host.example.org"}}));
  check(99);
  ReadView view = c.db->Read();
  auto hits = view.graph().search().Search("zz-host", 3);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].id == vm);
  CHECK(hits[0].field == SearchField::kHost);
}

TEST_CASE("search: a field equal to a better one of the same CI is not stored twice") {
  CoreDb c;
  CiId same = c.Create("VirtualMachine", Attrs({{"name", "Database-Server-01"}, {"hostname", "DATABASE-server-01"}}));
  CiId alone = c.Create("VirtualMachine", Attrs({{"name", "database-server-02"}}));
  CiId other = c.Create("VirtualMachine", Attrs({{"name", "database-server-03"}, {"hostname", "database-server-04"}}));
  ReadView view = c.db->Read();
  auto bytes_of = [&](CiId id) {
    CiRecord ci = *view.graph().FindCi(id);
    ci.id = 1;  // the same id map for each
    SearchIndex index;
    index.Put(view.schema(), ci);
    index.Trim();
    return index.bytes();
  };
  CHECK(bytes_of(same) == bytes_of(alone));  // the host name is the name folded
  CHECK(bytes_of(other) > bytes_of(alone));
  auto hits = view.graph().search().Search("database-server-01", 5);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].id == same);
  CHECK(hits[0].match == SearchMatch::kExact);
  CHECK(hits[0].field == SearchField::kName);
  hits = view.graph().search().Search("database-server-04", 5);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].id == other);
  CHECK(hits[0].field == SearchField::kHost);
}
