#include "process/feed.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace cmdb::process {

namespace {

bool Listed(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

FeedOp OpOf(bool retired, bool has_before) {
  if (retired) return FeedOp::kRetired;
  return has_before ? FeedOp::kUpdated : FeedOp::kCreated;
}

std::vector<AttrDiff> ChangesOf(const AttrMap& now, bool retired, const AttrMap* before) {
  static const AttrMap kNone;
  if (retired) return DiffAttrs(before ? *before : now, kNone);
  return DiffAttrs(before ? *before : kNone, now);
}

}  // namespace

const char* FeedOpName(FeedOp op) {
  switch (op) {
    case FeedOp::kCreated:
      return "created";
    case FeedOp::kUpdated:
      return "updated";
    case FeedOp::kRetired:
      return "retired";
  }
  return "updated";
}

bool FeedFilter::empty() const {
  return classes.empty() && types.empty() && sources.empty() && actors.empty() &&
         not_actors.empty() && not_sources.empty() && change_ref.empty();
}

namespace {

bool TxFieldsMatch(const FeedFilter& f, const std::string& actor, const std::string& source,
                   const std::string& change_ref) {
  if (!f.sources.empty() && !Listed(f.sources, source)) return false;
  if (!f.actors.empty() && !Listed(f.actors, actor)) return false;
  if (Listed(f.not_actors, actor)) return false;
  if (Listed(f.not_sources, source)) return false;
  if (!f.change_ref.empty() && f.change_ref != change_ref) return false;
  return true;
}

}  // namespace

bool TxMatches(const FeedFilter& filter, const TxRecord& tx) {
  return TxFieldsMatch(filter, tx.actor, tx.source, tx.change_ref);
}

bool TxMatches(const FeedFilter& filter, const FeedTx& tx) {
  return TxFieldsMatch(filter, tx.actor, tx.source, tx.change_ref);
}

bool EntryMatches(const FeedFilter& filter, const FeedEntry& entry) {
  if (!filter.selects_entries()) return true;
  return entry.relationship ? Listed(filter.types, entry.class_or_type)
                            : Listed(filter.classes, entry.class_or_type);
}

std::optional<FeedTx> ApplyFilter(const FeedFilter& filter, FeedTx tx) {
  if (!TxMatches(filter, tx)) return std::nullopt;
  if (!filter.selects_entries()) return tx;
  std::erase_if(tx.entries, [&](const FeedEntry& e) { return !EntryMatches(filter, e); });
  if (tx.entries.empty()) return std::nullopt;
  return tx;
}

FeedEntry CiFeedEntry(const CiRecord& now, const CiRecord* before) {
  FeedEntry e;
  e.op = OpOf(now.retired, before != nullptr);
  e.id = now.id;
  e.class_or_type = now.class_name.str();
  e.version = now.version;
  e.changes = ChangesOf(now.attrs, now.retired, before ? &before->attrs : nullptr);
  return e;
}

FeedEntry RelFeedEntry(const RelRecord& now, const RelRecord* before) {
  FeedEntry e;
  e.relationship = true;
  e.op = OpOf(now.retired, before != nullptr);
  e.id = now.id;
  e.class_or_type = now.type.str();
  e.from = now.from;
  e.to = now.to;
  e.version = now.version;
  e.changes = ChangesOf(now.attrs, now.retired, before ? &before->attrs : nullptr);
  return e;
}

namespace {

FeedTx TxHeader(const TxRecord& tx) {
  FeedTx f;
  f.id = tx.id;
  f.time = tx.time;
  f.actor = tx.actor;
  f.source = tx.source;
  f.change_ref = tx.change_ref;
  f.message = tx.message;
  f.hash = tx.hash;
  f.prev_hash = tx.prev_hash;
  f.schema_version = tx.schema_version;
  return f;
}

}  // namespace

FeedTx FeedTxFromWrite(const WriteSet& ws,
                       const std::function<std::optional<CiRecord>(CiId)>& ci_before,
                       const std::function<std::optional<RelRecord>(RelId)>& rel_before) {
  FeedTx f = TxHeader(ws.tx);
  std::vector<FeedEntry> cis, rels;
  for (const CiRecord& c : ws.cis) {
    std::optional<CiRecord> b = ci_before(c.id);
    cis.push_back(CiFeedEntry(c, b ? &*b : nullptr));
  }
  for (const RelRecord& r : ws.rels) {
    std::optional<RelRecord> b = rel_before(r.id);
    rels.push_back(RelFeedEntry(r, b ? &*b : nullptr));
  }
  auto by_id = [](const FeedEntry& a, const FeedEntry& b) { return a.id < b.id; };
  std::stable_sort(cis.begin(), cis.end(), by_id);
  std::stable_sort(rels.begin(), rels.end(), by_id);
  f.entries = std::move(cis);
  for (FeedEntry& e : rels) f.entries.push_back(std::move(e));
  return f;
}

Result<FeedPage> ReadFeed(Store& store, TxId since, int limit, const FeedFilter& filter) {
  if (since < 0) {
    return Status::Invalid("since must be 0 or a transaction id, got " + std::to_string(since));
  }
  if (limit < 1) return Status::Invalid("limit must be at least 1, got " + std::to_string(limit));
  Result<ChainHead> head = store.Head();
  if (!head.ok()) return head.status();
  if (since > head->tx) {
    return Status::Invalid("since " + std::to_string(since) + " is past the last transaction " +
                           std::to_string(head->tx));
  }
  FeedPage page;
  page.head = head->tx;
  page.next = since;
  int scanned = 0;
  size_t entries = 0;
  // Batches of the log; each batch's versions in one range read of the store's tx index.
  while (static_cast<int>(page.txs.size()) < limit && scanned < kFeedScanLimit &&
         entries < kFeedPageEntries && page.next < page.head) {
    // Unfiltered, every transaction read is kept: read no more than the page wants.
    int want = std::min(kFeedScanLimit - scanned, 256);
    if (filter.empty()) want = std::min(want, limit - static_cast<int>(page.txs.size()));
    Result<std::vector<TxRecord>> log = store.Transactions(page.next, want);
    if (!log.ok()) return log.status();
    if (log->empty()) break;
    const TxId first = page.next;
    const TxId last = log->back().id;
    std::map<TxId, FeedTx> by_tx;
    for (const TxRecord& t : *log) {
      if (TxMatches(filter, t)) by_tx.emplace(t.id, TxHeader(t));
    }
    std::map<TxId, std::vector<FeedEntry>> rels;
    CMDB_RETURN_IF_ERROR(store.LoadWritten(
        first, last,
        [&](CiRecord&& now, std::optional<CiRecord>&& before) {
          auto it = by_tx.find(now.valid_from);
          if (it != by_tx.end()) it->second.entries.push_back(CiFeedEntry(now, before ? &*before : nullptr));
        },
        [&](RelRecord&& now, std::optional<RelRecord>&& before) {
          auto it = by_tx.find(now.valid_from);
          if (it != by_tx.end()) rels[now.valid_from].push_back(RelFeedEntry(now, before ? &*before : nullptr));
        }));
    for (auto& [id, list] : rels) {
      auto& dest = by_tx[id].entries;
      for (FeedEntry& e : list) dest.push_back(std::move(e));
    }
    // Walk the batch in order, stopping at the page's bounds; the cursor follows the walk.
    for (const TxRecord& t : *log) {
      if (static_cast<int>(page.txs.size()) >= limit || entries >= kFeedPageEntries) break;
      ++scanned;
      page.next = t.id;
      auto it = by_tx.find(t.id);
      if (it == by_tx.end()) continue;
      std::optional<FeedTx> kept = ApplyFilter(filter, std::move(it->second));
      if (!kept) continue;
      entries += kept->entries.size();
      page.txs.push_back(std::move(*kept));
    }
  }
  page.more = page.next < page.head;
  return page;
}

}  // namespace cmdb::process
