// DDL parser tests, including golden error texts with their caret lines.
#include <catch2/catch.hpp>

#include "cmdb/schema.hpp"
#include "query/ddl/ddl_parser.hpp"

using namespace cmdb;

namespace {
std::string ErrorOf(const std::string& ddl) {
  Schema s = Schema::Builtin(false);
  Status st = ddl::ApplyDdl("CREATE NODE TYPE Host { cpu INT };\n" + ddl, s);
  return st.ok() ? "OK" : st.message();
}
}  // namespace

TEST_CASE("DDL creates classes, keys, attributes and edge types") {
  Schema s = Schema::Builtin(false);
  Status st = ddl::ApplyDdl(R"(
    -- a comment
    create abstract node type Hardware { serial STRING UNIQUE, bought DATE };
    CREATE NODE TYPE Server EXTENDS Hardware KEY (name) {
      cpus INT NOT NULL DEFAULT 2,
      env ENUM('prod', 'test') DEFAULT 'prod',
      ips LIST<STRING> DEFAULT ['10.0.0.1'],
      ratio FLOAT DEFAULT 0.5,
      managed BOOL DEFAULT TRUE
    };
    CREATE NODE TYPE App;  // no attributes
    CREATE EDGE TYPE RUNS_ON CONNECTING (App -> Server) CARDINALITY MANY_TO_ONE IMPACT TO SOURCE { since DATE };
    ALTER NODE TYPE Server ADD { rack STRING };
    ALTER NODE TYPE Server DROP ATTRIBUTE rack;
    ALTER EDGE TYPE RUNS_ON ADD CONNECTING (Server -> Server);
    ALTER EDGE TYPE RUNS_ON SET IMPACT BOTH;
  )", s);
  REQUIRE(st.ok());
  const ClassDef* server = s.FindClass("Server");
  REQUIRE(server);
  CHECK(server->parent == "Hardware");
  CHECK(server->key == std::vector<std::string>{"name"});
  CHECK(s.FindClass("Hardware")->is_abstract);
  CHECK(s.FindAttribute("Server", "cpus")->default_value == Value(2));
  CHECK(s.FindAttribute("Server", "ips")->type == AttrType::kStringList);
  CHECK(s.FindAttribute("Server", "managed")->default_value == Value(true));
  CHECK_FALSE(s.FindAttribute("Server", "rack"));
  const RelTypeDef* r = s.FindRelType("RUNS_ON");
  CHECK(r->pairs.size() == 2);
  CHECK(r->impact == ImpactRule::kBoth);
  CHECK(r->cardinality == Cardinality::kManyToOne);
}

TEST_CASE("DDL syntax errors show line, column, the line and a caret") {
  CHECK(ErrorOf("CREATE NODE Server;") ==
        "line 2, column 13: expected TYPE\n"
        "CREATE NODE Server;\n"
        "            ^");
  CHECK(ErrorOf("CREATE NODE TYPE Server { cpu INT, };") ==
        "line 2, column 36: expected attribute definition\n"
        "CREATE NODE TYPE Server { cpu INT, };\n"
        "                                   ^");
  CHECK(ErrorOf("CREATE NODE TYPE Server { cpu INT }\nCREATE NODE TYPE X;") ==
        "line 3, column 1: expected ';'\n"
        "CREATE NODE TYPE X;\n"
        "^");
  CHECK(ErrorOf("CRATE NODE TYPE X;") ==
        "line 2, column 1: expected statement (CREATE, ALTER or DROP)\n"
        "CRATE NODE TYPE X;\n"
        "^");
  CHECK(ErrorOf("CREATE NODE TYPE X { n STRING DEFAULT 'abc };") ==
        "line 2, column 46: expected '''\n"
        "CREATE NODE TYPE X { n STRING DEFAULT 'abc };\n"
        "                                             ^");
}

TEST_CASE("the error shown in ddl_parser.hpp is the one ApplyDdl gives") {
  // Keep this text and the example in query/ddl/ddl_parser.hpp the same, caret line included.
  Schema s = Schema::Builtin(false);
  Status st = ddl::ApplyDdl("CREATE NODE Server EXTENDS Hardware;", s);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message() ==
        "line 1, column 13: expected TYPE\n"
        "CREATE NODE Server EXTENDS Hardware;\n"
        "            ^");
}

TEST_CASE("DDL semantic errors point at the offending name") {
  CHECK(ErrorOf("CREATE NODE TYPE Server EXTENDS Hots;") ==
        "line 2, column 33: unknown class 'Hots' (did you mean 'Host'?)\n"
        "CREATE NODE TYPE Server EXTENDS Hots;\n"
        "                                ^");
  CHECK(ErrorOf("CREATE NODE TYPE Server { cpu INTEGR };") ==
        "line 2, column 31: unknown type 'INTEGR' (did you mean 'INTEGER'?)\n"
        "CREATE NODE TYPE Server { cpu INTEGR };\n"
        "                              ^");
  CHECK(ErrorOf("CREATE NODE TYPE Host;") ==
        "line 2, column 18: class 'Host' already exists\n"
        "CREATE NODE TYPE Host;\n"
        "                 ^");
  CHECK(ErrorOf("CREATE EDGE TYPE R CONNECTING (Host -> Hots);") ==
        "line 2, column 40: unknown class 'Hots' (did you mean 'Host'?)\n"
        "CREATE EDGE TYPE R CONNECTING (Host -> Hots);\n"
        "                                       ^");
  CHECK(ErrorOf("CREATE NODE TYPE S { n INT DEFAULT 'x' };") ==
        "line 2, column 18: S.n: expected INT, got STRING 'x'\n"
        "CREATE NODE TYPE S { n INT DEFAULT 'x' };\n"
        "                 ^");
  CHECK(ErrorOf("CREATE NODE TYPE S { version INT };").find("'version' is a built-in field") != std::string::npos);
  CHECK(ErrorOf("CREATE EDGE TYPE R CONNECTING (Host -> Host) CARDINALITY MANY;") ==
        "line 2, column 46: unknown cardinality 'MANY' (MANY_TO_MANY, MANY_TO_ONE, ONE_TO_MANY or ONE_TO_ONE)\n"
        "CREATE EDGE TYPE R CONNECTING (Host -> Host) CARDINALITY MANY;\n"
        "                                             ^");
}

TEST_CASE("a failing DDL script leaves the schema as it was") {
  Schema s = Schema::Builtin(false);
  Status st = ddl::ApplyDdl("CREATE NODE TYPE A; CREATE NODE TYPE B EXTENDS Nope;", s);
  CHECK_FALSE(st.ok());
  CHECK_FALSE(s.FindClass("A"));
  CHECK(st.details().size() >= 2);  // line and column
}

TEST_CASE("CONTROLLED classes: inherited, overridable, kept by the canonical DDL") {
  Schema s = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(R"(
    CREATE ABSTRACT NODE TYPE Hardware CONTROLLED { serial STRING };
    CREATE NODE TYPE Server EXTENDS Hardware KEY (name);
    CREATE NODE TYPE Printer EXTENDS Hardware UNCONTROLLED;
    CREATE NODE TYPE Vm;
    ALTER NODE TYPE Vm SET controlled   enforce;
  )", s).ok());
  CHECK(s.ControlOf("Server") == ControlPolicy::kDetect);
  CHECK(s.ControlOf("Printer") == ControlPolicy::kUncontrolled);
  CHECK(s.ControlOf("Vm") == ControlPolicy::kEnforce);
  CHECK(s.ControlOf("CI") == ControlPolicy::kUncontrolled);
  Schema back = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(s.ToDdl(), back).ok());
  CHECK(back.ControlOf("Server") == ControlPolicy::kDetect);
  CHECK(back.ControlOf("Printer") == ControlPolicy::kUncontrolled);
  CHECK(back.ControlOf("Vm") == ControlPolicy::kEnforce);
  CHECK(ErrorOf("ALTER NODE TYPE Nope SET CONTROLLED;").find("unknown class 'Nope'") != std::string::npos);
}

TEST_CASE("SERVICE classes: inherited, with their criticality, kept by the canonical DDL") {
  Schema s = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(R"(
    CREATE ABSTRACT NODE TYPE Offering { tier ENUM('low', 'high'), level INT };
    CREATE NODE TYPE Product EXTENDS Offering SERVICE CRITICALITY tier;
    CREATE NODE TYPE Bundle EXTENDS Product;
    CREATE NODE TYPE Internal EXTENDS Offering;
    CREATE NODE TYPE Team CONTROLLED { rank STRING };
    ALTER NODE TYPE Team SET service criticality rank;
    CREATE NODE TYPE Plain SERVICE;
    CREATE NODE TYPE Gone SERVICE;
    ALTER NODE TYPE Gone SET NOT SERVICE;
  )", s).ok());
  REQUIRE(s.ServiceClassOf("Bundle"));
  CHECK(s.ServiceClassOf("Bundle")->name == "Product");
  CHECK(s.ServiceClassOf("Bundle")->criticality == "tier");
  CHECK(s.ServiceClassOf("Team")->criticality == "rank");
  CHECK(s.ServiceClassOf("Plain")->criticality.empty());
  for (const char* none : {"Offering", "Internal", "Gone", "CI", "Nope"})
    CHECK_FALSE(s.ServiceClassOf(none));
  std::string canonical = s.ToDdl();
  CHECK(canonical.find("CREATE NODE TYPE Product EXTENDS Offering SERVICE CRITICALITY tier;") !=
        std::string::npos);
  CHECK(canonical.find("CREATE NODE TYPE Team CONTROLLED DETECT SERVICE CRITICALITY rank {") !=
        std::string::npos);
  CHECK(canonical.find("CREATE NODE TYPE Plain SERVICE;") != std::string::npos);
  Schema back = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(canonical, back).ok());
  CHECK(back.ToDdl() == canonical);
  CHECK(back.ServiceClassOf("Bundle")->criticality == "tier");
}

TEST_CASE("SERVICE misuse is refused at the name at fault") {
  CHECK(ErrorOf("CREATE NODE TYPE Svc SERVICE CRITICALITY load { load INT };") ==
        "line 2, column 42: SERVICE CRITICALITY of class 'Svc' names attribute 'load' of type INT; "
        "a criticality is a STRING or an ENUM\n"
        "CREATE NODE TYPE Svc SERVICE CRITICALITY load { load INT };\n"
        "                                         ^");
  CHECK(ErrorOf("ALTER NODE TYPE Host SET SERVICE CRITICALITY cpus;") ==
        "line 2, column 46: SERVICE CRITICALITY of class 'Host' names unknown attribute 'cpus' (did "
        "you mean 'cpu'?)\n"
        "ALTER NODE TYPE Host SET SERVICE CRITICALITY cpus;\n"
        "                                             ^");
  CHECK(ErrorOf("CREATE NODE TYPE Box EXTENDS Host;\nALTER NODE TYPE Host SET SERVICE;\n"
                "ALTER NODE TYPE Box SET NOT SERVICE;") ==
        "line 4, column 17: class 'Box' is not declared SERVICE (it is a service through 'Host')\n"
        "ALTER NODE TYPE Box SET NOT SERVICE;\n"
        "                ^");
  CHECK(ErrorOf("CREATE NODE TYPE Svc SERVICE CRITICALITY;") ==
        "line 2, column 41: expected name\n"
        "CREATE NODE TYPE Svc SERVICE CRITICALITY;\n"
        "                                        ^");
  CHECK(ErrorOf("CREATE NODE TYPE Svc SERVICE CRITICALITY c { c STRING };\n"
                "ALTER NODE TYPE Svc DROP c;") ==
        "line 3, column 26: attribute 'c' holds the criticality of service class 'Svc'\n"
        "ALTER NODE TYPE Svc DROP c;\n"
        "                         ^");
}

TEST_CASE("DDL brackets nested past the limit are refused before parsing") {
  Schema s = Schema::Builtin(false);
  std::string deep = "CREATE NODE TYPE X { a LIST<STRING> DEFAULT " + std::string(5000, '[') + " };";
  Status st = ddl::ApplyDdl(deep, s);
  CHECK(st.code() == StatusCode::kResourceExhausted);
  CHECK(st.message() == "line 1, column 108: brackets nest deeper than 64 levels\n" + deep + "\n" +
                            std::string(107, ' ') + "^");
  // Brackets in strings and comments do not count; 64 levels reach the parser (which nests
  // none, so that is a syntax error).
  CHECK(ddl::ApplyDdl("CREATE NODE TYPE Y { e ENUM('" + std::string(100, '(') + "') }; -- " + std::string(100, '{'), s)
            .ok());
  Status flat = ddl::ApplyDdl("CREATE NODE TYPE Z {" + std::string(63, '['), s);
  CHECK(flat.code() == StatusCode::kInvalidArgument);
}

TEST_CASE("the root class's SERVICE and CONTROLLED options survive the canonical DDL") {
  Schema s = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl("ALTER NODE TYPE CI SET CONTROLLED; ALTER NODE TYPE CI SET SERVICE CRITICALITY name;", s).ok());
  CHECK(s.ToDdl() ==
        "ALTER NODE TYPE CI SET CONTROLLED DETECT;\n"
        "ALTER NODE TYPE CI SET SERVICE CRITICALITY name;\n");
  Schema reread = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(s.ToDdl(), reread).ok());
  CHECK(reread.ToDdl() == s.ToDdl());
  CHECK(reread.ToDdl() != Schema::Builtin(false).ToDdl());
}

TEST_CASE("IDENTIFIED BY ... SHARED WITH: kept by the canonical DDL, checked") {
  Schema s = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(R"(
    CREATE NODE TYPE Box KEY (name) { mac STRING };
    CREATE NODE TYPE Host KEY (name) { mac STRING };
    CREATE NODE TYPE Vm EXTENDS Host;
    ALTER NODE TYPE Host SET IDENTIFIED BY STRONG (mac) shared with (Box) ON CONFLICT REFUSE;
  )", s).ok());
  Identification id = s.IdentificationOf("Vm");
  CHECK(id.scope == "Host");
  CHECK(id.shared_with == std::vector<std::string>{"Box"});
  CHECK(id.on_conflict == IdentifyConflict::kRefuse);
  CHECK(s.IdentificationOf("Box").shared_with.empty());  // one way unless Box says so too
  std::string canonical = s.ToDdl();
  CHECK(canonical.find("ALTER NODE TYPE Host SET IDENTIFIED BY STRONG (mac) SHARED WITH (Box) ON "
                       "CONFLICT REFUSE;\n") != std::string::npos);
  Schema back = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(canonical, back).ok());
  CHECK(back.ToDdl() == canonical);
  Schema bad = s;
  Status unknown = ddl::ApplyDdl("ALTER NODE TYPE Host SET IDENTIFIED BY (mac) SHARED WITH (Nope);", bad);
  CHECK(unknown.message().find("Nope") != std::string::npos);
  Status same = ddl::ApplyDdl("ALTER NODE TYPE Host SET IDENTIFIED BY (mac) SHARED WITH (Vm);", bad);
  CHECK(same.message().find("IDENTIFIED ... SHARED WITH Vm: Host and Vm are one hierarchy") !=
        std::string::npos);
}

TEST_CASE("IDENTIFIED BY: STRONG rules, SCOPED BY and ON CONFLICT, kept by the canonical DDL") {
  Schema s = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(R"(
    CREATE NODE TYPE Zone { zid STRING };
    CREATE NODE TYPE Host KEY (name) { serial STRING, mac STRING, account STRING, region STRING };
    CREATE NODE TYPE Vm EXTENDS Host;
    CREATE EDGE TYPE IN_ZONE CONNECTING (Host -> Zone);
    ALTER NODE TYPE Host SET IDENTIFIED BY strong (serial), STRONG (mac), (name, region)
      WITHIN Zone SCOPED BY (account, region) on conflict refuse;
    ALTER NODE TYPE Zone SET IDENTIFIED BY (zid) ON CONFLICT CREATE;
  )", s).ok());
  Identification id = s.IdentificationOf("Vm");
  CHECK(id.scope == "Host");
  REQUIRE(id.rules.size() == 4);  // and the KEY, last, weak
  CHECK(id.rules[0] == IdentifyRule{{"serial"}, true});
  CHECK(id.rules[1] == IdentifyRule{{"mac"}, true});
  CHECK(id.rules[2] == IdentifyRule{{"name", "region"}, false});
  CHECK(id.rules[3] == IdentifyRule{{"name"}, false});
  CHECK(id.within == "Zone");
  CHECK(id.scoped_by == std::vector<std::string>{"account", "region"});
  CHECK(id.on_conflict == IdentifyConflict::kRefuse);
  CHECK(s.IdentificationOf("Zone").on_conflict == IdentifyConflict::kCreate);
  std::string canonical = s.ToDdl();
  CHECK(canonical.find("ALTER NODE TYPE Host SET IDENTIFIED BY STRONG (serial), STRONG (mac), "
                       "(name, region) WITHIN Zone SCOPED BY (account, region) ON CONFLICT "
                       "REFUSE;\n") != std::string::npos);
  CHECK(canonical.find("ALTER NODE TYPE Zone SET IDENTIFIED BY (zid);\n") != std::string::npos);
  Schema back = Schema::Builtin(false);
  REQUIRE(ddl::ApplyDdl(canonical, back).ok());
  CHECK(back.ToDdl() == canonical);
  // Misuse is refused at the name at fault, or where the grammar stops.
  CHECK(ErrorOf("ALTER NODE TYPE Host SET IDENTIFIED BY (cpu) SCOPED BY (zone);")
            .find("IDENTIFIED ... SCOPED BY of class 'Host' names unknown attribute 'zone'") !=
        std::string::npos);
  CHECK(ErrorOf("ALTER NODE TYPE Host SET IDENTIFIED BY (cpu) ON CONFLICT MERGE;") ==
        "line 2, column 58: expected CREATE or REFUSE\n"
        "ALTER NODE TYPE Host SET IDENTIFIED BY (cpu) ON CONFLICT MERGE;\n"
        "                                                         ^");
  CHECK(ErrorOf("ALTER NODE TYPE Host SET IDENTIFIED BY STRONG cpu;") ==
        "line 2, column 47: expected '('\n"
        "ALTER NODE TYPE Host SET IDENTIFIED BY STRONG cpu;\n"
        "                                              ^");
}
