// ChangeService: change management over the CMDB — change records and their state machine,
// frozen impact assessments, maintenance and blackout windows, collisions, post-implementation
// review, and the change-control policy for writes to CONTROLLED classes.
//
// Every record is a process record written through Database::Write, so each edit is one logged,
// hash-chained transaction (source "change", the actor named) and a failed one changes nothing.
// Edits check the version they read: a concurrent edit answers 412 rather than being lost.
// Thread safety: all methods may be called concurrently. `db` and `engine` must outlive it.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "cmdb/database.hpp"
#include "process/change.hpp"
#include "process/diff.hpp"
#include "process/window.hpp"
#include "query/engine.hpp"

namespace cmdb::process {

// Fields of a change as a request gives them: the editable fields of ChangeFieldTable() named
// in `given` take their value from `values` (a time of 0 clears it); the others are left as
// they are. A comment goes to the journal.
struct ChangeFields {
  ChangeRecord values;
  std::set<std::string, std::less<>> given;
  std::optional<std::string> comment;
};

// Another active change whose planned window overlaps and whose affected-or-impacted set
// shares CIs with this one's.
struct Collision {
  ChangeRecord other;
  std::vector<CiId> shared;
};

// A window a change runs into: a blackout it overlaps, with the CIs of its scope the change
// touches (all of the change's CIs for a window scoped to every CI).
struct WindowHit {
  Window window;
  std::vector<CiId> cis;
};

// An affected CI with maintenance windows none of which contains the change's planned window.
struct OutsideMaintenance {
  CiId ci = 0;
  std::vector<int64_t> windows;
};

struct ConflictReport {
  TxId tx = 0;              // the graph state the sets were computed on
  std::vector<CiId> scope;  // affected plus transitively impacted CIs, ascending
  std::vector<Collision> collisions;
  std::vector<WindowHit> blackouts;
  std::vector<OutsideMaintenance> outside_maintenance;
};

// What a CI version written during an implementation did to the CI.
enum class CiChangeKind { kCreated, kUpdated, kRetired };
const char* CiChangeKindName(CiChangeKind k);  // "created", "updated", "retired"

// One CI version written during an implementation, with its transaction.
struct CiChange {
  CiId ci = 0;
  std::string class_name;
  std::string name;
  CiChangeKind what = CiChangeKind::kUpdated;
  std::vector<AttrDiff> diffs;
  TxRecord tx;
};

struct ReviewReport {
  TxId from_tx = 0;  // changes after this transaction ...
  TxId to_tx = 0;    // ... up to and including this one
  std::vector<CiId> scope;
  std::vector<CiChange> changes;
  std::vector<TxRecord> unauthorized;  // flagged writes inside the planned window
};

class ChangeService {
 public:
  ChangeService(Database& db, gql::QueryEngine& engine) : db_(db), engine_(engine) {}

  // Creates a change in state draft (type normal unless given; requester the actor unless
  // given). A title is required; affected CIs must exist; a name in `given` that is not an
  // editable field is refused (kInvalidArgument "unknown change field \"x\"").
  Result<ChangeRecord> Create(const ChangeFields& fields, const std::string& actor);
  std::optional<ChangeRecord> Get(int64_t id) const;
  // Changes in id order, optionally only those in `state`.
  std::vector<ChangeRecord> List(std::optional<ChangeState> state) const;
  // Edits fields (only in draft or submitted; a comment alone is accepted in any state).
  Result<ChangeRecord> Update(int64_t id, const ChangeFields& fields,
                              std::optional<int64_t> expected_version, const std::string& actor);
  // Moves a change to `to` (kConflict listing the allowed states when forbidden). Assessing
  // freezes the impact; scheduling refuses blackouts unless the change is an emergency;
  // implementing and leaving it record the transaction range the review reads.
  Result<ChangeRecord> Transition(int64_t id, ChangeState to, const std::string& comment,
                                  const std::string& actor);
  Result<ConflictReport> Conflicts(int64_t id);
  // What changed on the change's affected and impacted CIs during its implementation.
  Result<ReviewReport> Review(int64_t id);
  // Every version of a change, oldest first.
  Result<std::vector<ChangeRecord>> History(int64_t id) const;

  Result<Window> CreateWindow(Window window, const std::string& actor);
  std::optional<Window> GetWindow(int64_t id) const;
  std::vector<Window> ListWindows() const;
  Status DeleteWindow(int64_t id, const std::string& actor);

  // Affected CIs plus what a failure of them impacts (transitively, depth kScopeDepth).
  Result<std::vector<CiId>> ImpactScope(const std::vector<CiId>& affected,
                                        TxId* tx = nullptr) const;
  static constexpr int kScopeDepth = 20;

 private:
  Result<ChangeRecord> Save(ChangeRecord change, int64_t expected_version, const std::string& actor,
                            const std::string& message);
  Result<Assessment> Assess(const ChangeRecord& change, const std::string& actor) const;
  // The CIs in a window's scope; nullopt for a window scoped to every CI.
  Result<std::optional<std::unordered_set<CiId>>> WindowScope(const Window& w) const;
  Result<std::vector<WindowHit>> BlackoutsFor(const ChangeRecord& change,
                                              const std::vector<CiId>& scope) const;
  Status CheckCisExist(const std::vector<CiId>& ids) const;

  Database& db_;
  gql::QueryEngine& engine_;
};

// The change-control write policy (install with Database::SetWritePolicy): a write touching a
// CI of a CONTROLLED class (or a relationship of one) must name, in its change reference, a
// change that is implementing and inside its planned window. Otherwise it is refused (409
// unauthorized_change) when a touched class is CONTROLLED ENFORCE, else flagged in the log.
Status CheckChangeControl(WriteSet& ws, const Graph& committed, const Schema& schema);

}  // namespace cmdb::process
