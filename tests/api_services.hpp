// The process services an Api needs, built over a test database the way api/main.cpp builds
// them. Shared by the harnesses that construct an Api (the API tests, the fuzz targets); adding
// a service is one member here.
// Ownership: owns the services; `db` and `engine` must outlive it, and it must outlive the Api.
// Thread safety: as the services (all methods may be called concurrently).
#pragma once

#include "api/api.hpp"
#include "cmdb/database.hpp"
#include "process/audit_service.hpp"
#include "process/baseline_service.hpp"
#include "process/change_service.hpp"
#include "process/release_service.hpp"
#include "query/engine.hpp"

namespace cmdb::testing {

struct ApiServicesFor {
  process::ChangeService changes;
  process::BaselineService baseline_service;
  process::ReleaseService releases;
  process::AuditService audits;
  gql::BaselineResolver baselines;

  ApiServicesFor(Database& db, gql::QueryEngine& engine)
      : changes(db, engine), baseline_service(db, engine),
        releases(db, changes, baseline_service), audits(db, baseline_service),
        baselines(baseline_service.Resolver()) {}
  ApiServicesFor(const ApiServicesFor&) = delete;
  ApiServicesFor& operator=(const ApiServicesFor&) = delete;

  // References for the Api's constructor.
  api::ApiServices Refs() { return {changes, baseline_service, releases, audits, baselines}; }
};

}  // namespace cmdb::testing
