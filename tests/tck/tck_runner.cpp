// TCK runner: runs the openCypher TCK feature files (tests/tck/features) against the cmdb query
// engine in open mode and reports passed/failed/skipped per tier and per feature file.
//
// Usage: cmdb_tck [--features DIR] [--manifest FILE] [--tier N] [--min-tier1 N] [--min-tier2 N]
//                 [--verbose] [--filter TEXT]
// Ends with "N passed, M failed"; exits 1 when a --min-tierK ratchet is not met.
// Scenarios and their format: tests/tck/README.md.
#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <array>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/bootstrap.hpp"
#include "cmdb/database.hpp"
#include "cmdb/mem_store.hpp"
#include "query/engine.hpp"
#include "tck/tck_values.hpp"

namespace fs = std::filesystem;
using namespace cmdb;
using namespace cmdb::gql;

namespace {

struct Step {
  std::string keyword, text, doc;
  std::vector<std::vector<std::string>> table;
};

struct Scenario {
  std::string file, title;
  int index = 0;  // position in the file
  std::vector<Step> steps;
  bool ignored = false;
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> SplitCells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  std::string t = Trim(line);
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size()) {
      char n = t[i + 1];
      if (n == '|') cur += '|';
      else if (n == '\\') cur += '\\';
      else if (n == 'n') cur += '\n';
      else cur += std::string("\\") + n;
      ++i;
    } else if (t[i] == '|') {
      cells.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += t[i];
    }
  }
  return cells;
}

std::string Replace(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    std::string key = "<" + k + ">";
    for (size_t pos = 0; (pos = s.find(key, pos)) != std::string::npos; pos += v.size()) s.replace(pos, key.size(), v);
  }
  return s;
}

// Parses one feature file into scenarios (outlines expanded).
std::vector<Scenario> ParseFeature(const fs::path& path, const std::string& rel) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<Scenario> out;
  std::vector<Step> background;
  std::vector<Step>* target = nullptr;
  Scenario cur;
  bool in_scenario = false, outline = false, ignore_next = false, cur_ignored = false;
  std::vector<std::vector<std::string>> examples;
  int index = 0;
  auto flush = [&] {
    if (!in_scenario) return;
    std::vector<Step> steps = background;
    steps.insert(steps.end(), cur.steps.begin(), cur.steps.end());
    if (!outline) {
      Scenario s = cur;
      s.steps = steps;
      s.ignored = cur_ignored;
      out.push_back(s);
    } else if (examples.size() > 1) {
      for (size_t r = 1; r < examples.size(); ++r) {
        std::map<std::string, std::string> vars;
        for (size_t c = 0; c < examples[0].size() && c < examples[r].size(); ++c) vars[examples[0][c]] = examples[r][c];
        Scenario s = cur;
        s.title = Replace(cur.title, vars);
        s.ignored = cur_ignored;
        s.steps.clear();
        for (Step st : steps) {
          st.text = Replace(st.text, vars);
          st.doc = Replace(st.doc, vars);
          for (auto& row : st.table) for (auto& cell : row) cell = Replace(cell, vars);
          s.steps.push_back(st);
        }
        out.push_back(s);
      }
    }
    in_scenario = false;
    examples.clear();
  };
  bool in_examples = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string t = Trim(lines[i]);
    if (t.empty() || t[0] == '#') continue;
    if (t[0] == '@') {
      if (t.find("@ignore") != std::string::npos) ignore_next = true;
      continue;
    }
    if (t.rfind("Feature:", 0) == 0) continue;
    if (t.rfind("Background:", 0) == 0) {
      target = &background;
      continue;
    }
    if (t.rfind("Scenario", 0) == 0) {
      flush();
      in_scenario = true;
      in_examples = false;
      outline = t.rfind("Scenario Outline:", 0) == 0;
      cur = Scenario();
      cur.file = rel;
      cur.index = index++;
      cur.title = Trim(t.substr(t.find(':') + 1));
      cur_ignored = ignore_next;
      ignore_next = false;
      target = &cur.steps;
      continue;
    }
    if (t.rfind("Examples:", 0) == 0) {
      in_examples = true;
      continue;
    }
    if (t[0] == '|') {
      if (in_examples) examples.push_back(SplitCells(t));
      else if (target && !target->empty()) target->back().table.push_back(SplitCells(t));
      continue;
    }
    if (t.rfind("\"\"\"", 0) == 0) {
      size_t indent = lines[i].find("\"\"\"");
      std::string doc;
      for (++i; i < lines.size() && Trim(lines[i]).rfind("\"\"\"", 0) != 0; ++i) {
        std::string l = lines[i];
        doc += (l.size() > indent ? l.substr(std::min(indent, l.find_first_not_of(' ') == std::string::npos ? l.size() : std::min(indent, l.find_first_not_of(' ')))) : Trim(l)) + "\n";
      }
      if (target && !target->empty()) target->back().doc = doc;
      continue;
    }
    for (const char* kw : {"Given ", "When ", "Then ", "And ", "But "}) {
      if (t.rfind(kw, 0) == 0 && target) {
        Step s;
        s.keyword = Trim(kw);
        s.text = Trim(t.substr(std::string(kw).size()));
        target->push_back(s);
        break;
      }
    }
  }
  flush();
  return out;
}

// A snapshot of the graph for side effects (TCK README section 6).
struct Snapshot {
  std::set<CiId> nodes;
  std::set<RelId> rels;
  std::set<std::string> props;   // "n<id>.key=value" / "r<id>.key=value"
  std::set<std::string> labels;  // class names present
};

Snapshot Take(Database& db) {
  Snapshot s;
  ReadView view = db.Read();
  const Graph& g = view.graph();
  for (CiId id = 1; id < g.ci_id_bound(); ++id) {
    const CiRecord* c = g.FindCi(id);
    if (!c) continue;
    s.nodes.insert(id);
    if (!c->class_name.empty()) s.labels.insert(c->class_name);
    for (const auto& [k, v] : c->attrs) s.props.insert("n" + std::to_string(id) + "." + k + "=" + v.ToLiteral());
  }
  for (RelId id = 1; id < g.rel_id_bound(); ++id) {
    std::optional<RelRecord> r = g.FindRel(id);
    if (!r) continue;
    s.rels.insert(id);
    for (const auto& [k, v] : r->attrs) s.props.insert("r" + std::to_string(id) + "." + k + "=" + v.ToLiteral());
  }
  return s;
}

template <typename T>
int64_t Minus(const std::set<T>& a, const std::set<T>& b) {
  int64_t n = 0;
  for (const auto& x : a) n += !b.count(x);
  return n;
}

struct ScenarioOutcome {
  bool pass = false;
  std::string why;
};

ScenarioOutcome RunScenario(const Scenario& sc) {
  MemStore store;
  api::BootstrapOptions boot;
  boot.open_mode = true;
  std::ostringstream log;
  auto opened = api::OpenDatabase(&store, boot, log);
  if (!opened.ok()) return {false, opened.status().ToString()};
  Database& db = **opened;
  QueryEngine engine(db, QueryOptions{});
  QMap params;
  Result<QueryResult> result = Status::Internal("no query executed");
  Snapshot before, after;
  bool executed = false;
  for (size_t i = 0; i < sc.steps.size(); ++i) {
    const Step& st = sc.steps[i];
    const std::string& t = st.text;
    if (t.rfind("having executed", 0) == 0) {
      QueryRequest r;
      r.text = st.doc;
      auto res = engine.Run(r);
      if (!res.ok()) return {false, "setup failed: " + res.status().message()};
    } else if (t.rfind("parameters are", 0) == 0) {
      for (const auto& row : st.table) {
        if (row.size() < 2) continue;
        auto v = tck::ParseValue(row[1]);
        if (!v) return {false, "cannot parse parameter " + row[1]};
        params[row[0]] = tck::ToQValue(*v);
      }
    } else if (t.rfind("executing query", 0) == 0) {
      before = Take(db);
      QueryRequest r;
      r.text = st.doc;
      r.parameters = params;
      result = engine.Run(r);
      after = Take(db);
      executed = true;
    } else if (t.rfind("executing control query", 0) == 0) {
      QueryRequest r;
      r.text = st.doc;
      result = engine.Run(r);
    } else if (t.rfind("the result should be", 0) == 0) {
      if (!executed) return {false, "no query"};
      if (!result.ok()) return {false, "query failed: " + result.status().message()};
      bool ordered = t.find("in order") != std::string::npos;
      bool ignore_list_order = t.find("ignoring element order") != std::string::npos;
      if (t.find("empty") != std::string::npos) {
        if (!result->rows.empty()) return {false, "expected no rows, got " + std::to_string(result->rows.size())};
        continue;
      }
      if (st.table.empty()) return {false, "no expected table"};
      if (st.table[0] != result->columns) {
        std::string got;
        for (const auto& c : result->columns) got += c + "|";
        return {false, "columns differ: got " + got};
      }
      std::vector<std::string> want, got;
      for (size_t r = 1; r < st.table.size(); ++r) {
        std::string row;
        for (const auto& cell : st.table[r]) {
          auto v = tck::ParseValue(cell);
          if (!v) return {false, "cannot parse expected value " + cell};
          row += tck::Canonical(*v, ignore_list_order) + " | ";
        }
        want.push_back(row);
      }
      for (const auto& rrow : result->rows) {
        std::string row;
        for (const auto& v : rrow) row += tck::Canonical(tck::FromQValue(v), ignore_list_order) + " | ";
        got.push_back(row);
      }
      if (!ordered) {
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
      }
      if (want != got) {
        std::string msg = "rows differ:\n  want:";
        for (size_t k = 0; k < want.size() && k < 5; ++k) msg += "\n    " + want[k];
        msg += "\n  got:";
        for (size_t k = 0; k < got.size() && k < 5; ++k) msg += "\n    " + got[k];
        return {false, msg};
      }
    } else if (t.find("should be raised") != std::string::npos) {
      if (!executed) return {false, "no query"};
      if (result.ok()) return {false, "expected an error (" + t + "), the query succeeded"};
    } else if (t.rfind("the side effects should be", 0) == 0 || t == "no side effects") {
      if (!executed || !result.ok()) continue;  // reported by the result step
      std::map<std::string, int64_t> want;
      for (const auto& row : st.table) if (row.size() >= 2) want[row[0]] = std::stoll(row[1]);
      std::map<std::string, int64_t> got{
          {"+nodes", Minus(after.nodes, before.nodes)}, {"-nodes", Minus(before.nodes, after.nodes)},
          {"+relationships", Minus(after.rels, before.rels)}, {"-relationships", Minus(before.rels, after.rels)},
          {"+properties", Minus(after.props, before.props)}, {"-properties", Minus(before.props, after.props)},
          {"+labels", Minus(after.labels, before.labels)}, {"-labels", Minus(before.labels, after.labels)}};
      for (const auto& [k, v] : got) {
        int64_t w = want.count(k) ? want[k] : 0;
        if (w != v) return {false, "side effect " + k + ": want " + std::to_string(w) + ", got " + std::to_string(v)};
      }
    }
  }
  return {true, ""};
}

}  // namespace

int main(int argc, char** argv) {
  std::string features = std::string(CMDB_SOURCE_DIR) + "/tests/tck/features";
  std::string manifest = std::string(CMDB_SOURCE_DIR) + "/tests/tck/manifest.tsv";
  int max_tier = 2;
  long min_tier1 = -1, min_tier2 = -1;
  bool verbose = false;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--features") features = next();
    else if (a == "--manifest") manifest = next();
    else if (a == "--tier") max_tier = std::stoi(next());
    else if (a == "--min-tier1") min_tier1 = std::stol(next());
    else if (a == "--min-tier2") min_tier2 = std::stol(next());
    else if (a == "--verbose") verbose = true;
    else if (a == "--filter") filter = next();
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  // Tiers by (file, scenario position).
  std::map<std::string, std::vector<int>> tiers;
  {
    std::ifstream in(manifest);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#' || line.rfind("path\t", 0) == 0) continue;
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
      if (f.size() > 2) tiers[f[0]].push_back(std::stoi(f[2]));
    }
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(features)) {
    if (e.path().extension() == ".feature") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::map<int, std::array<long, 3>> per_tier;  // passed, failed, skipped
  long passed = 0, failed = 0;
  for (const auto& f : files) {
    std::string rel = fs::relative(f, features).string();
    auto scenarios = ParseFeature(f, rel);
    long fp = 0, ff = 0;
    int last_index = -1, scenario_number = -1;
    for (const auto& sc : scenarios) {
      if (sc.index != last_index) {
        last_index = sc.index;
        ++scenario_number;
      }
      int tier = scenario_number < static_cast<int>(tiers[rel].size()) ? tiers[rel][scenario_number] : 3;
      if (tier > max_tier || sc.ignored || (!filter.empty() && (rel + " " + sc.title).find(filter) == std::string::npos)) {
        ++per_tier[tier][2];
        continue;
      }
      ScenarioOutcome o;
      if (std::getenv("CMDB_TCK_TRACE")) std::cerr << "RUN " << rel << " [" << sc.title << "]" << std::endl;
      try {
        o = RunScenario(sc);
      } catch (const std::exception& e) {
        o = {false, std::string("exception: ") + e.what()};
      }
      if (o.pass) {
        ++passed, ++fp, ++per_tier[tier][0];
      } else {
        ++failed, ++ff, ++per_tier[tier][1];
        if (verbose) std::cout << "FAIL " << rel << " [" << sc.title << "] tier " << tier << ": " << o.why << "\n";
      }
    }
    std::cout << rel << ": " << fp << " passed, " << ff << " failed\n";
  }
  for (const auto& [tier, c] : per_tier) {
    long run = c[0] + c[1];
    std::cout << "tier " << tier << ": " << c[0] << " passed, " << c[1] << " failed, " << c[2] << " skipped"
              << (run ? " (" + std::to_string(100 * c[0] / run) + "% of run)" : "") << "\n";
  }
  int rc = 0;
  if (min_tier1 >= 0 && per_tier[1][0] < min_tier1) {
    std::cout << "RATCHET: tier 1 passes " << per_tier[1][0] << " < required " << min_tier1 << "\n";
    rc = 1;
  }
  if (min_tier2 >= 0 && per_tier[2][0] < min_tier2) {
    std::cout << "RATCHET: tier 2 passes " << per_tier[2][0] << " < required " << min_tier2 << "\n";
    rc = 1;
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return rc;
}
