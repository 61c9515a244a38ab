// The change feed: what each transaction wrote — its CIs and relationships, created, updated or
// retired, with the attributes that changed before and after — read from the store's log and
// versions in transaction order, and the filters a consumer (a feed reader, a stream, a webhook)
// selects entries with. No JSON here: api/feed_json.hpp renders and parses.
// Thread safety: plain values and pure functions; ReadFeed reads the store (safe concurrently
// with writes: it sees whole transactions only).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "cmdb/store.hpp"
#include "process/diff.hpp"

namespace cmdb::process {

// What a transaction did to one CI or relationship.
enum class FeedOp { kCreated, kUpdated, kRetired };

// "created", "updated", "retired".
const char* FeedOpName(FeedOp op);

// One CI or relationship a transaction wrote.
struct FeedEntry {
  bool relationship = false;
  FeedOp op = FeedOp::kCreated;
  int64_t id = 0;
  std::string class_or_type;  // the CI's class, the relationship's type
  CiId from = 0;              // relationships only
  CiId to = 0;
  int64_t version = 0;  // the version written (a retirement writes a tombstone version)
  // The attributes that changed, in name order, null for absent: on creation every attribute
  // (before null), on retirement every attribute the last version had (after null).
  std::vector<AttrDiff> changes;
};

// One transaction of the feed.
struct FeedTx {
  TxId id = 0;
  int64_t time = 0;  // micros since epoch (UTC)
  std::string actor;
  std::string source;
  std::string change_ref;
  std::string message;
  std::string hash;       // the hash chain (empty for a write not committed yet)
  std::string prev_hash;
  int64_t schema_version = 0;  // set when the transaction changed the schema
  std::vector<FeedEntry> entries;  // CIs in id order, then relationships in id order
};

// What a consumer wants. Every list empty means "any"; the lists are ORs, the fields ANDs.
// Transaction fields: sources, actors, not_actors and not_sources (writes by these actors or made
// this way are dropped: an integration skips its own echo), change_ref.
// Entry fields: with classes or types set, a CI entry is kept when its class is listed and a
// relationship entry when its type is listed (so `classes` alone keeps no relationship). A
// transaction none of whose entries is kept is skipped; with neither set every transaction that
// passes the transaction fields is kept, also one that wrote no CI or relationship (a schema
// change, a change record).
struct FeedFilter {
  std::vector<std::string> classes;
  std::vector<std::string> types;
  std::vector<std::string> sources;
  std::vector<std::string> actors;
  std::vector<std::string> not_actors;
  std::vector<std::string> not_sources;
  std::string change_ref;

  // True when the filter keeps everything.
  bool empty() const;
  // True when the filter selects entries (classes or types set).
  bool selects_entries() const { return !classes.empty() || !types.empty(); }
};

// Whether the transaction passes the filter's transaction fields (source, actor, not_actor,
// not_source, change).
bool TxMatches(const FeedFilter& filter, const TxRecord& tx);
bool TxMatches(const FeedFilter& filter, const FeedTx& tx);
// Whether an entry passes the filter's entry fields (classes, types).
bool EntryMatches(const FeedFilter& filter, const FeedEntry& entry);
// The transaction as the filter passes it: its entries narrowed to those kept, or nullopt when
// the filter skips it (see FeedFilter).
std::optional<FeedTx> ApplyFilter(const FeedFilter& filter, FeedTx tx);

// The entry for a new version `now` of a CI or relationship; `before` is the version it
// supersedes (nullptr for a creation).
FeedEntry CiFeedEntry(const CiRecord& now, const CiRecord* before);
FeedEntry RelFeedEntry(const RelRecord& now, const RelRecord* before);

// The feed transaction of a write set (before or after its commit: the hash is ws.tx.hash,
// empty before the store set it). `ci_before`/`rel_before` return the version each new version
// supersedes (for a write not committed yet: the committed graph's record), nullopt for a
// creation; each is called once per CI or relationship of the set.
FeedTx FeedTxFromWrite(const WriteSet& ws,
                       const std::function<std::optional<CiRecord>(CiId)>& ci_before,
                       const std::function<std::optional<RelRecord>(RelId)>& rel_before);

// The transactions at most a page of the feed scans: a filter that skips everything still
// answers promptly, with a cursor past what it scanned.
inline constexpr int kFeedScanLimit = 10000;
// The entries past which a page stops adding transactions (a transaction is never split, so a
// page holds at least one whole transaction however large).
inline constexpr size_t kFeedPageEntries = 10000;

// One page of the feed.
struct FeedPage {
  std::vector<FeedTx> txs;  // the transactions kept, in order
  // The cursor to resume from (pass as `since`): the last transaction this page scanned,
  // kept or skipped by the filter, so a consumer whose filter skips everything still advances;
  // `since` itself when nothing was scanned.
  TxId next = 0;
  TxId head = 0;       // the last committed transaction when the page was read
  bool more = false;   // true when transactions after `next` exist already
};

// The transactions after `since`, in order, that `filter` keeps, at most `limit` of them (and
// see kFeedScanLimit, kFeedPageEntries). Reading from `next` on misses nothing. Errors: the
// store's; kInvalidArgument when since < 0 ("since must be 0 or a transaction id, got -1") or
// since is past the head ("since 99 is past the last transaction 12") or limit < 1.
Result<FeedPage> ReadFeed(Store& store, TxId since, int limit, const FeedFilter& filter);

}  // namespace cmdb::process
