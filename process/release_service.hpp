// ReleaseService: release and deployment management over the CMDB — release records and their
// state machine, with an automatic pre-deployment baseline (captured through BaselineService in
// the same transaction as the move to deploying) and a recorded verification diff. Baselines
// and configuration audits have their own services (baseline_service.hpp, audit_service.hpp).
//
// Records are process records written through Database::Write (logged, hash-chained, all or
// nothing, source "release"). Edits check the version they read: a concurrent edit answers 412.
// Thread safety: all methods may be called concurrently. The referenced objects must outlive it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cmdb/database.hpp"
#include "process/baseline_service.hpp"
#include "process/change_service.hpp"
#include "process/release.hpp"

namespace cmdb::process {

class ReleaseService {
 public:
  ReleaseService(Database& db, const ChangeService& changes, const BaselineService& baselines)
      : db_(db), changes_(changes), baselines_(baselines) {}

  // Creates a release in state planned from `fields`' editable fields (a name is required;
  // linked changes and CIs must exist).
  Result<ReleaseRecord> CreateRelease(ReleaseRecord fields, const std::string& actor);
  // The release with id `id`; nullopt when there is none.
  std::optional<ReleaseRecord> GetRelease(int64_t id) const;
  // Releases in id order, optionally only those in `state`.
  std::vector<ReleaseRecord> ListReleases(std::optional<ReleaseState> state) const;
  // Edits name, version, description, type, changes, CIs, criteria and results (before
  // deploying); a comment goes to the journal.
  Result<ReleaseRecord> UpdateRelease(int64_t id, const ReleaseRecord& fields,
                                      const std::string& comment,
                                      std::optional<int64_t> expected_version,
                                      const std::string& actor);
  // Moves a release to `to` (kConflict listing the allowed states when forbidden). Approving
  // needs a passing result for every criterion; deploying captures the baseline
  // "release-<id>-before-deploy"; verifying records the diff from it.
  Result<ReleaseRecord> TransitionRelease(int64_t id, ReleaseState to, const std::string& comment,
                                          const std::string& actor);

 private:
  // Saves a release version; `before` (optional) stages more in the same transaction first.
  Result<ReleaseRecord> SaveRelease(
      ReleaseRecord r, int64_t expected_version, const std::string& actor,
      const std::string& message,
      const std::function<Status(Txn&, ReleaseRecord&)>& before = nullptr);

  Database& db_;
  const ChangeService& changes_;
  const BaselineService& baselines_;
};

}  // namespace cmdb::process
