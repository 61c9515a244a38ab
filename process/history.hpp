// Versions as they were after a transaction, read from the live graph when the current version
// is old enough and from the store's history otherwise (so recent changes cost a lookup each
// and the rest nothing).
// Thread safety: safe to call concurrently; reads the store.
#pragma once

#include <optional>

#include "cmdb/graph.hpp"
#include "cmdb/store.hpp"

namespace cmdb::process {

// The version of a CI current right after transaction `tx`; nullopt when it did not exist then
// or was retired. `current` is its current record (nullptr when retired or unknown); for a
// relationship, as FindRel returned it (nullopt when retired or unknown).
Result<std::optional<CiRecord>> CiAt(Store& store, const CiRecord* current, CiId id, TxId tx);
Result<std::optional<RelRecord>> RelAt(Store& store, const std::optional<RelRecord>& current, RelId id,
                                       TxId tx);

}  // namespace cmdb::process
