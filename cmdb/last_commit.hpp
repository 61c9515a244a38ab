// The id of the last transaction the calling thread committed, through any Database, since it
// last set it to 0 (Database::CommitLocked sets it). The API clears it before a request and
// answers a write with it in the X-Tx header (api/api.cpp), on every store.
// Thread safety: one value per thread.
#pragma once

#include "cmdb/records.hpp"

namespace cmdb {

// The calling thread's value (a reference: assign 0 to clear it).
TxId& ThreadLastCommit();

}  // namespace cmdb
