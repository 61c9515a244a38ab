#include "bench/nmap_scale.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "api/bootstrap.hpp"
#include "cmdb/mem_store.hpp"
#include "importers/formats.hpp"
#include "importers/import.hpp"

namespace cmdb::bench {

std::string NmapXml(int64_t hosts) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<nmaprun scanner=\"nmap\" args=\"nmap -O -sV -oX - 10.0.0.0/8\" version=\"7.93\" "
      "xmloutputversion=\"1.05\">\n";
  char buf[1400];
  for (int64_t i = 0; i < hosts; ++i) {
    int a = static_cast<int>((i >> 16) & 255), b = static_cast<int>((i >> 8) & 255),
        c = static_cast<int>(i & 255);
    if (i % 50 == 49) {
      std::snprintf(buf, sizeof buf,
                    "<host><status state=\"down\" reason=\"no-response\"/>\n"
                    "<address addr=\"10.%d.%d.%d\" addrtype=\"ipv4\"/></host>\n",
                    200 + a % 50, b, c);
      xml += buf;
    }
    std::snprintf(
        buf, sizeof buf,
        "<host starttime=\"1700000000\" endtime=\"1700000100\"><status state=\"up\" "
        "reason=\"arp-response\"/>\n"
        "<address addr=\"10.%d.%d.%d\" addrtype=\"ipv4\"/>\n"
        "<address addr=\"02:00:%02X:%02X:%02X:01\" addrtype=\"mac\" vendor=\"Example\"/>\n"
        "<hostnames><hostname name=\"h%06lld.dc1.example.com\" type=\"PTR\"/></hostnames>\n"
        "<ports><port protocol=\"tcp\" portid=\"22\"><state state=\"open\"/><service "
        "name=\"ssh\" product=\"OpenSSH\" version=\"9.2p1\"/></port>\n"
        "<port protocol=\"tcp\" portid=\"80\"><state state=\"open\"/><service name=\"http\" "
        "product=\"nginx\" version=\"1.22.1\"/></port>\n"
        "<port protocol=\"tcp\" portid=\"443\"><state state=\"open\"/><service "
        "name=\"https\"/></port>\n"
        "<port protocol=\"tcp\" portid=\"3306\"><state state=\"closed\"/></port></ports>\n"
        "<os><osmatch name=\"Linux 5.0 - 5.14\" accuracy=\"98\"/><osmatch name=\"Linux 4.15\" "
        "accuracy=\"91\"/></os>\n"
        "</host>\n",
        a, b, c, a, b, c, static_cast<long long>(i));
    xml += buf;
  }
  xml += "<runstats><finished time=\"1700000200\"/></runstats></nmaprun>\n";
  return xml;
}

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Parse and import seconds of one run, or a negative parse time when it failed.
std::pair<double, double> TimeImport(int64_t hosts, const std::string& schema_dir) {
  std::string xml = NmapXml(hosts);
  MemStore store;
  std::ostringstream log;
  auto db = api::OpenDatabase(&store, api::BootstrapOptions{schema_dir, "", false}, log);
  if (!db.ok()) {
    std::cerr << "nmap scaling: " << db.status().message() << "\n";
    return {-1, 0};
  }
  auto t0 = Clock::now();
  importers::CandidateSet set;
  Status st = importers::ParseNmap(xml, set);
  auto t1 = Clock::now();
  importers::ImportOptions opt;
  opt.source = "nmap";
  importers::ImportReport report;
  if (st.ok()) st = importers::RunImport(**db, set, opt, report);
  auto t2 = Clock::now();
  if (!st.ok() || report.created < hosts) {
    std::cerr << "nmap scaling: the import of " << hosts << " hosts failed: " << st.message()
              << "\n";
    return {-1, 0};
  }
  return {Seconds(t0, t1), Seconds(t1, t2)};
}

}  // namespace

bool NmapScaling(int64_t small, int64_t large, double max_ratio, const std::string& schema_dir,
                 nlohmann::json& out) {
  auto [small_parse, small_import] = TimeImport(small, schema_dir);
  auto [large_parse, large_import] = TimeImport(large, schema_dir);
  if (small_parse < 0 || large_parse < 0) return false;
  double small_total = small_parse + small_import, large_total = large_parse + large_import;
  double ratio = (large_total / static_cast<double>(large)) / (small_total / static_cast<double>(small));
  out = nlohmann::json{{"small_hosts", small},
                       {"small_parse_s", small_parse},
                       {"small_import_s", small_import},
                       {"large_hosts", large},
                       {"large_parse_s", large_parse},
                       {"large_import_s", large_import},
                       {"large_hosts_per_s", static_cast<double>(large) / large_total},
                       {"per_host_ratio", ratio},
                       {"max_ratio", max_ratio}};
  return ratio <= max_ratio;
}

}  // namespace cmdb::bench
