#include <catch2/catch.hpp>

#include "core_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;
using cmdb::testing::DefaultSchema;

TEST_CASE("the default schema loads and models inheritance") {
  Schema s = DefaultSchema();
  CHECK(s.FindClass("PhysicalServer"));
  CHECK(s.IsA("PhysicalServer", "Hardware"));
  CHECK(s.IsA("PhysicalServer", "CI"));
  CHECK_FALSE(s.IsA("VirtualMachine", "Hardware"));
  auto desc = s.ClassAndDescendants("NetworkDevice");
  CHECK(std::find(desc.begin(), desc.end(), "LoadBalancer") != desc.end());
  std::string scope;
  CHECK(s.KeyAttributes("LoadBalancer", &scope) == std::vector<std::string>{"name"});
  CHECK(scope == "NetworkDevice");
  CHECK(s.FindAttribute("LoadBalancer", "serial_number"));  // inherited from Hardware
  CHECK(s.FindRelType("RUNS_ON")->impact == ImpactRule::kToSource);
  CHECK(s.FindRelType("RUNS_ON")->cardinality == Cardinality::kManyToOne);
}

TEST_CASE("validation types, canonicalizes and names class, attribute and expected type") {
  Schema s = DefaultSchema();
  AttrMap a = Attrs({{"name", "web01"}, {"cpu_count", 8}, {"memory_gb", 16}, {"ip_address", "2001:DB8::1"}});
  s.ApplyDefaults("VirtualMachine", a);
  REQUIRE(s.ValidateCi("VirtualMachine", a).ok());
  CHECK(a.Get("memory_gb").is_float());          // INT accepted for FLOAT
  CHECK(a.Get("ip_address") == Value("2001:db8::1"));
  CHECK(a.Get("status") == Value("live"));       // default
  CHECK(a.Get("environment") == Value("production"));

  AttrMap bad = Attrs({{"name", "x"}, {"cpu_count", "four"}});
  Status st = s.ValidateCi("VirtualMachine", bad);
  CHECK(st.code() == StatusCode::kSchemaViolation);
  CHECK(st.message() == "VirtualMachine.cpu_count: expected INT, got STRING 'four'");

  AttrMap bad_enum = Attrs({{"name", "x"}, {"status", "broken"}});
  CHECK(s.ValidateCi("VirtualMachine", bad_enum).message() ==
        "VirtualMachine.status: expected ENUM('planned', 'ordered', 'installed', 'live', 'maintenance', "
        "'degraded', 'stale', 'retired', 'disposed'), got the value 'broken', which is not one of the enum values");
  AttrMap bad_ip = Attrs({{"name", "x"}, {"ip_address", "10.1.2.300"}});
  CHECK(s.ValidateCi("VirtualMachine", bad_ip).message() ==
        "VirtualMachine.ip_address: expected IP, got the invalid IP address '10.1.2.300'");
  AttrMap bad_date = Attrs({{"name", "x"}, {"eol_date", "2026-02-30"}});
  CHECK(s.ValidateCi("Software", bad_date).message() ==
        "Software.eol_date: expected DATE, got the invalid date '2026-02-30' (YYYY-MM-DD)");
  AttrMap no_name = Attrs({{"os", "linux"}});
  CHECK(s.ValidateCi("VirtualMachine", no_name).message() == "VirtualMachine.name is NOT NULL but has no value");
  AttrMap unknown = Attrs({{"name", "x"}, {"colour", "red"}});
  CHECK(s.ValidateCi("VirtualMachine", unknown).message() == "class 'VirtualMachine' has no attribute 'colour'");
  AttrMap ok = Attrs({{"name", "x"}});
  CHECK(s.ValidateCi("Hardware", ok).message() == "class 'Hardware' is abstract and cannot have CIs");
  CHECK(s.ValidateCi("Servr", ok).message() == "unknown class 'Servr'");
  CHECK(s.ValidateCi("Swich", ok).message() == "unknown class 'Swich' (did you mean 'Switch'?)");
  AttrMap list = Attrs({{"name", "x"}, {"tags", ValueList{Value("a"), Value(1)}}});
  CHECK(s.ValidateCi("VirtualMachine", list).message() ==
        "VirtualMachine.tags: expected LIST<STRING>, got a list holding INT 1");
}

TEST_CASE("relationship endpoints must match an allowed pair, subclasses included") {
  Schema s = DefaultSchema();
  AttrMap none;
  const RelTypeDef& runs_on = *s.FindRelType("RUNS_ON");
  CHECK(s.ValidateRel(runs_on, "AppInstance", "VirtualMachine", none).ok());  // VM is a Computer
  Status st = s.ValidateRel(runs_on, "Datacenter", "VirtualMachine", none);
  CHECK(st.code() == StatusCode::kSchemaViolation);
  CHECK(st.message().rfind("relationship type RUNS_ON does not connect Datacenter -> VirtualMachine", 0) == 0);
}

TEST_CASE("ToDdl reproduces the schema when parsed again") {
  Schema s = DefaultSchema();
  Schema again = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(s.ToDdl(), again).ok());
  CHECK(again.ToDdl() == s.ToDdl());
  CHECK(again.classes().size() == s.classes().size());
}

TEST_CASE("open mode accepts unknown classes, types and attributes") {
  Schema s = Schema::Builtin(true);
  AttrMap a = Attrs({{"anything", 1}, {"list", ValueList{Value(1), Value("x")}}});
  CHECK(s.ValidateCi("Whatever", a).ok());
  CHECK(s.IsA("Whatever", "CI"));
}
