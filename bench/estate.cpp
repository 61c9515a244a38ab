#include "bench/estate.hpp"

#include <algorithm>
#include <cstdio>

namespace cmdb::bench {
namespace {

// splitmix64: a tiny, fully specified generator (the same numbers on every platform).
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
};

class Writer {
 public:
  Writer(std::ostream& out, EstateStats& stats) : out_(out), stats_(stats) {}
  void Ci(const char* cls, const std::string& name, const std::string& attrs) {
    out_ << R"({"op":"ci","ref":")" << name << R"(","class":")" << cls << R"(","attributes":{"name":")" << name
         << '"' << (attrs.empty() ? "" : ",") << attrs << "}}\n";
    ++stats_.cis;
  }
  void Rel(const char* type, const std::string& from, const std::string& to) {
    out_ << R"({"op":"rel","type":")" << type << R"(","from":{"ref":")" << from << R"("},"to":{"ref":")" << to
         << "\"}}\n";
    ++stats_.relationships;
  }

 private:
  std::ostream& out_;
  EstateStats& stats_;
};

std::string Name(const char* prefix, int64_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%07lld", prefix, static_cast<long long>(i));
  return buf;
}

}  // namespace

EstateStats GenerateEstate(int64_t size, uint64_t seed, std::ostream& out) {
  EstateStats stats;
  Writer w(out, stats);
  Rng rng{seed};
  auto count = [&](double share, int64_t min) { return std::max<int64_t>(min, static_cast<int64_t>(size * share)); };
  const int64_t n_dc = 5, n_rack = (std::max<int64_t>(8, size * 4 / 1000) + 3) / 4 * 4, n_host = count(0.05, 16), n_hcluster = count(0.002, 2);
  // Racks, access switches and storage arrays come in multiples of the datacenter count, so that
  // item i sits in datacenter i % n_dc and placement can stay inside one datacenter.
  auto per_dc = [&](int64_t n) { return (n + n_dc - 1) / n_dc * n_dc; };
  const int64_t n_core = 4 * n_dc, n_access = per_dc(count(0.004, 8)), n_storage = per_dc(count(0.0005, 4));
  const int64_t n_vm = count(0.50, 40), n_container = count(0.24, 20), n_app = count(0.01, 10);
  const int64_t n_inst = count(0.15, 20), n_db = count(0.005, 4), n_dbcluster = count(0.0005, 2);
  const int64_t n_dbinst = count(0.015, 6), n_lb = count(0.001, 2), n_svc = count(0.002, 4);
  const int64_t n_sw = count(0.001, 4);
  static const char* kEnv[] = {"production", "production", "production", "staging", "test", "development"};
  static const char* kOwner[] = {"platform-team", "payments-team", "web-team", "data-team", "ops", "security"};
  auto common = [&](bool with_env) {
    std::string a = std::string(R"("owner":")") + kOwner[rng.Below(6)] + R"(","status":"live")";
    if (with_env) a += std::string(R"(,"environment":")") + kEnv[rng.Below(6)] + '"';
    return a;
  };
  auto ip = [&](int64_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "10.%lld.%lld.%lld", static_cast<long long>((i >> 16) & 255),
                  static_cast<long long>((i >> 8) & 255), static_cast<long long>(i & 255));
    return std::string(buf);
  };
  auto local = [&](int64_t n, int64_t dc) { return rng.Below(n / n_dc) * n_dc + dc; };  // item in datacenter dc
  for (int64_t i = 0; i < n_dc; ++i) w.Ci("Datacenter", Name("dc", i), common(false) + R"(,"tier":3,"country":"DE")");
  for (int64_t i = 0; i < n_rack; ++i) {
    w.Ci("Rack", Name("rack", i), common(false) + R"(,"units":42,"row":")" + std::to_string(i % 40) + '"');
    w.Rel("LOCATED_IN", Name("rack", i), Name("dc", i % n_dc));
  }
  for (int64_t i = 0; i < n_core; ++i) {
    w.Ci("Switch", Name("core", i), common(false) + R"(,"manufacturer":"Arista","port_count":64)");
    w.Rel("LOCATED_IN", Name("core", i), Name("rack", local(n_rack, i % n_dc)));
  }
  for (int64_t i = 0; i < n_access; ++i) {
    w.Ci("Switch", Name("sw", i), common(false) + R"(,"manufacturer":"Arista","port_count":48)");
    w.Rel("LOCATED_IN", Name("sw", i), Name("rack", local(n_rack, i % n_dc)));
    w.Rel("CONNECTED_TO", Name("sw", i), Name("core", rng.Below(4) * n_dc + i % n_dc));
  }
  for (int64_t i = 0; i < n_storage; ++i) {
    w.Ci("StorageArray", Name("san", i), common(false) + R"(,"capacity_tb":184.0,"protocol":"NFS")");
    w.Rel("LOCATED_IN", Name("san", i), Name("rack", local(n_rack, i % n_dc)));
  }
  for (int64_t i = 0; i < n_hcluster; ++i) w.Ci("HostCluster", Name("hcl", i), common(true) + R"(,"quorum":2)");
  std::vector<int64_t> host_dc(n_host);
  for (int64_t i = 0; i < n_host; ++i) {
    w.Ci("PhysicalServer", Name("host", i),
         common(true) + R"(,"cpu_count":64,"memory_gb":512.0,"ip_address":")" + ip(i) + R"(","os":"VMware ESXi")");
    int64_t rack = rng.Below(n_rack);
    host_dc[i] = rack % n_dc;
    w.Rel("LOCATED_IN", Name("host", i), Name("rack", rack));
    w.Rel("CONNECTED_TO", Name("host", i), Name("sw", local(n_access, host_dc[i])));
    w.Rel("MEMBER_OF", Name("host", i), Name("hcl", i % n_hcluster));
  }
  for (int64_t i = 0; i < n_vm; ++i) {
    w.Ci("VirtualMachine", Name("vm", i),
         common(true) + R"(,"cpu_count":)" + std::to_string(2 << rng.Below(4)) + R"(,"memory_gb":)" +
             std::to_string(4 << rng.Below(4)) + R"(.0,"ip_address":")" + ip(65536 + i) + R"(","os":"Linux")");
    int64_t host = rng.Below(n_host);
    w.Rel("HOSTED_ON", Name("vm", i), Name("host", host));
    // One VM in five has its own uplink (a dedicated vNIC on the access switch); the rest reach
    // the network through their host.
    if (i % 5 == 0) w.Rel("CONNECTED_TO", Name("vm", i), Name("sw", local(n_access, host_dc[host])));
    w.Rel("USES", Name("vm", i), Name("san", local(n_storage, host_dc[host])));
  }
  for (int64_t i = 0; i < n_sw; ++i) {
    w.Ci("Software", Name("sw-pkg", i), R"("owner":"ops","vendor":"Canonical","release":"1.)" + std::to_string(i) + R"(","eol_date":"2028-01-31")");
  }
  for (int64_t i = 0; i < n_vm / 5; ++i) w.Rel("INSTALLED_ON", Name("sw-pkg", rng.Below(n_sw)), Name("vm", rng.Below(n_vm)));
  for (int64_t i = 0; i < n_container; ++i) {
    w.Ci("Container", Name("ctr", i), common(true) + R"(,"image":"registry/app:)" + std::to_string(rng.Below(100)) +
                                          R"(","runtime":"containerd")");
    w.Rel("RUNS_ON", Name("ctr", i), Name("vm", rng.Below(n_vm)));
  }
  for (int64_t i = 0; i < n_dbcluster; ++i) w.Ci("DatabaseCluster", Name("dbcl", i), common(true) + R"(,"technology":"Patroni")");
  for (int64_t i = 0; i < n_db; ++i) {
    w.Ci("Database", Name("db", i), common(true) + R"(,"engine":"postgresql","release":"15.6")");
    w.Rel("HOSTED_ON", Name("db", i), Name("dbcl", i % n_dbcluster));
  }
  for (int64_t i = 0; i < n_dbinst; ++i) {
    w.Ci("DatabaseInstance", Name("dbi", i), common(true) + R"(,"port":5432)");
    w.Rel("MEMBER_OF", Name("dbi", i), Name("dbcl", i % n_dbcluster));
    w.Rel("RUNS_ON", Name("dbi", i), Name("vm", rng.Below(n_vm)));
  }
  for (int64_t i = 0; i < n_lb; ++i) {
    w.Ci("LoadBalancer", Name("lb", i), common(false) + R"(,"manufacturer":"F5","vip":")" + ip(131072 + i) + '"');
    w.Rel("LOCATED_IN", Name("lb", i), Name("rack", rng.Below(n_rack)));
  }
  for (int64_t i = 0; i < n_app; ++i) {
    w.Ci("Application", Name("app", i), common(true) + R"(,"release":"2.)" + std::to_string(rng.Below(30)) + R"(.0")");
    w.Rel("USES", Name("app", i), Name("db", rng.Below(n_db)));
    w.Rel("DEPENDS_ON", Name("app", i), Name("lb", i % n_lb));
  }
  for (int64_t i = 0; i < n_inst; ++i) {
    w.Ci("AppInstance", Name("inst", i), common(true) + R"(,"port":8443)");
    w.Rel("INSTANCE_OF", Name("inst", i), Name("app", i % n_app));
    if (rng.Below(2)) w.Rel("RUNS_ON", Name("inst", i), Name("vm", rng.Below(n_vm)));
    else w.Rel("RUNS_ON", Name("inst", i), Name("ctr", rng.Below(n_container)));
    w.Rel("USES", Name("inst", i), Name("dbi", rng.Below(n_dbinst)));
    w.Rel("ROUTES_TO", Name("lb", i % n_lb), Name("inst", i));
  }
  for (int64_t i = 0; i < n_svc; ++i) {
    w.Ci("BusinessService", Name("svc", i), common(false) + R"(,"criticality":"high","sla_hours":4)");
    for (int k = 0; k < 5; ++k) w.Rel("DEPENDS_ON", Name("svc", i), Name("app", (i * 5 + k) % n_app));
  }
  // 20 start CIs from leaves to hubs.
  auto pick = [&](const char* cls, const char* prefix, int64_t n, int k) {
    for (int j = 0; j < k; ++j) stats.starts.emplace_back(cls, Name(prefix, (j * 7919 + 13) % n));
  };
  pick("BusinessService", "svc", n_svc, 2);
  pick("Container", "ctr", n_container, 2);
  pick("VirtualMachine", "vm", n_vm, 3);
  pick("Database", "db", n_db, 2);
  pick("PhysicalServer", "host", n_host, 3);
  pick("DatabaseCluster", "dbcl", n_dbcluster, 1);
  pick("Switch", "sw", n_access, 2);
  pick("StorageArray", "san", n_storage, 2);
  pick("Switch", "core", n_core, 1);
  pick("Datacenter", "dc", n_dc, 2);
  return stats;
}

}  // namespace cmdb::bench
