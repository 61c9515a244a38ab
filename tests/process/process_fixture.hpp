// A small estate for the process service tests: an in-memory database with the default schema,
// the services wired as the composition root wires them, and helpers that fail the test on
// error.
//
//   checkout (BusinessService) -DEPENDS_ON-> shop (Application) -DEPENDS_ON-> vm-1 (VirtualMachine)
//   vm-2 (VirtualMachine), unrelated
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "process/audit_service.hpp"
#include "process/baseline_service.hpp"
#include "process/change_service.hpp"
#include "process/release_service.hpp"
#include "query/engine.hpp"
#include "test_util.hpp"

namespace cmdb::testing {

struct ProcessFixture {
  TestDb t;
  gql::QueryEngine engine{*t.db, gql::QueryOptions{}};
  process::ChangeService changes{*t.db, engine};
  process::BaselineService baselines{*t.db, engine};
  process::ReleaseService releases{*t.db, changes, baselines};
  process::AuditService audits{*t.db, baselines};
  CiId vm1 = 0, vm2 = 0, shop = 0, checkout = 0;

  ProcessFixture() {
    vm1 = t.Create("VirtualMachine", Attrs({{"name", "vm-1"}, {"os", "linux"}}));
    vm2 = t.Create("VirtualMachine", Attrs({{"name", "vm-2"}}));
    shop = t.Create("Application", Attrs({{"name", "shop"}}));
    checkout = t.Create("BusinessService", Attrs({{"name", "checkout"}, {"criticality", "high"}}));
    t.Relate("DEPENDS_ON", shop, vm1);
    t.Relate("DEPENDS_ON", checkout, shop);
  }

  // Sets one attribute of a CI in its own transaction.
  void SetAttr(CiId id, const std::string& name, Value v) {
    auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
      return txn.UpdateCi(id, {{name, std::move(v)}}, std::nullopt);
    });
    REQUIRE(tx.ok());
  }
};

// The value of a Result, failing the test (with the status) when it is an error.
template <typename T>
T Ok(Result<T> r) {
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(*r);
}

// The string detail `key` of a status ("" when absent).
inline std::string Detail(const Status& st, const std::string& key) {
  for (const auto& [k, v] : st.details()) {
    if (k == key) return v.is_string() ? std::string(v.as_string()) : v.ToLiteral();
  }
  return "";
}

}  // namespace cmdb::testing
