// Release records (ISO/IEC 20000 release and deployment management): the record, its states
// and its encoding as a process record of kind "release".
//
// States: planned -> built -> tested -> approved -> deploying -> deployed -> verified, plus failed
// (from any state before verified) and rolled back (from deploying, deployed or failed).
// Approval needs every acceptance criterion to have a passing result. Moving to deploying
// captures a baseline of the release's scope; verifying records the diff from it.
// Thread safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "process/change.hpp"
#include "process/record_fields.hpp"

namespace cmdb::process {

inline constexpr const char* kReleaseKind = "release";

enum class ReleaseType { kMajor, kMinor, kEmergency };
enum class ReleaseState {
  kPlanned,
  kBuilt,
  kTested,
  kApproved,
  kDeploying,
  kDeployed,
  kVerified,
  kFailed,
  kRolledBack
};
const char* ReleaseTypeName(ReleaseType t);    // "major", "minor", "emergency"
const char* ReleaseStateName(ReleaseState s);  // "planned", ..., "rolled_back"
std::optional<ReleaseType> ParseReleaseType(std::string_view name);
std::optional<ReleaseState> ParseReleaseState(std::string_view name);
std::vector<std::string> ReleaseStateNames();

struct AcceptanceResult {
  std::string criterion;
  bool passed = false;
  std::string note;
};

// What verification found: the diff between the pre-deployment baseline and the state then.
struct Verification {
  int64_t time = 0;
  TxId tx = 0;
  int64_t cis_added = 0, cis_removed = 0, cis_changed = 0;
  int64_t rels_added = 0, rels_removed = 0, rels_changed = 0;
  std::vector<CiId> changed_cis;  // added, removed or changed CIs, ascending
};

struct ReleaseRecord {
  int64_t id = 0;
  int64_t version = 0;
  std::string name;
  std::string release_version;  // the product version, "4.2.0"
  std::string description;
  ReleaseType type = ReleaseType::kMinor;
  ReleaseState state = ReleaseState::kPlanned;
  std::vector<int64_t> changes;  // linked change ids
  std::vector<CiId> cis;         // CIs in scope besides those of the changes
  std::vector<std::string> criteria;
  std::vector<AcceptanceResult> results;
  std::string baseline;  // captured on deploying
  std::optional<Verification> verification;
  std::vector<ChangeEvent> events;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// The stored fields of a release (see record_fields.hpp): name, release_version, description,
// type, changes, cis, criteria and results are editable (results in their own JSON shape); the
// state, the baseline, the verification and the journal are kept by the service.
const FieldTable<ReleaseRecord>& ReleaseFieldTable();

// The process record of a release and back (id, version and updated_at are the record's own).
DocRecord ReleaseToDoc(const ReleaseRecord& r);
ReleaseRecord ReleaseFromDoc(const DocRecord& doc);

std::vector<ReleaseState> AllowedTransitions(const ReleaseRecord& r);
// OK or kConflict (type forbidden_transition) listing the allowed states.
Status CheckTransition(const ReleaseRecord& r, ReleaseState to);

}  // namespace cmdb::process
