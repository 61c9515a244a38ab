// The change feed's read throughput: a SQLite database with `txs` small transactions (each
// updates one CI of a few hundred), then the whole feed read from the start in pages of 1,000
// (process::ReadFeed: the log, the versions by transaction, the superseded versions, the
// attribute diffs) against the transaction log alone read the same way (Store::Transactions) —
// the baseline, in the same run. Reports events (CI and relationship entries) per second and the
// time ratio of the feed to the log; also the same for an HTTP-shaped rendering (FeedTxToJson).
// Thread safety: single-threaded.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace cmdb::bench {

// Fills `out`; returns false when a read fails or the feed misses a transaction.
bool FeedBench(int64_t txs, const std::string& dir, const std::string& schema_dir,
               nlohmann::json& out);

}  // namespace cmdb::bench
