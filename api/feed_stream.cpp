#include "api/feed_stream.hpp"

#include <algorithm>
#include <utility>

namespace cmdb::api {

FeedSubscription::Next FeedSubscription::Wait(std::chrono::milliseconds wait,
                                              std::vector<process::FeedTx>& out) {
  std::unique_lock l(mu_);
  cv_.wait_for(l, wait, [&] { return closed_ || overflow_ || !queue_.empty(); });
  if (closed_) return Next::kClosed;
  if (overflow_) return Next::kOverflow;
  if (queue_.empty()) return Next::kTimeout;
  out.clear();
  while (!queue_.empty()) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return Next::kTxs;
}

FeedSubscription::~FeedSubscription() { hub_->Remove(this); }

FeedHub::FeedHub(Store& store, int max_streams, size_t buffer_txs, std::chrono::milliseconds poll)
    : store_(store), max_streams_(max_streams), buffer_txs_(buffer_txs), poll_(poll) {
  if (auto head = store_.Head(); head.ok()) pos_ = head->tx;
  thread_ = std::thread([this] { Run(); });
}

FeedHub::~FeedHub() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<FeedSubscription> FeedHub::Open(process::FeedFilter filter) {
  std::lock_guard l(mu_);
  if (stopping_ || static_cast<int>(subs_.size()) >= max_streams_) return nullptr;
  std::shared_ptr<FeedSubscription> sub(new FeedSubscription(this, std::move(filter), pos_));
  subs_.push_back(sub.get());
  return sub;
}

TxId FeedHub::position() const {
  std::lock_guard l(mu_);
  return pos_;
}

void FeedHub::Stop() {
  std::lock_guard l(mu_);
  stopping_ = true;
  for (FeedSubscription* s : subs_) {
    std::lock_guard sl(s->mu_);
    s->closed_ = true;
    s->cv_.notify_all();
  }
  cv_.notify_all();
}

void FeedHub::Remove(FeedSubscription* sub) {
  std::lock_guard l(mu_);
  std::erase(subs_, sub);
}

// Called with mu_ held.
void FeedHub::Deliver(const process::FeedTx& tx) {
  for (FeedSubscription* s : subs_) {
    std::optional<process::FeedTx> kept = process::ApplyFilter(s->filter_, tx);
    if (!kept) continue;
    std::lock_guard sl(s->mu_);
    if (s->overflow_) continue;
    if (s->queue_.size() >= buffer_txs_) {
      s->overflow_ = true;  // what it holds is dropped: the consumer resumes from the store
      s->queue_.clear();
    } else {
      s->queue_.push_back(std::move(*kept));
    }
    s->cv_.notify_all();
  }
}

void FeedHub::Run() {
  std::unique_lock l(mu_);
  while (!stopping_) {
    cv_.wait_for(l, poll_, [&] { return stopping_; });
    if (stopping_) break;
    TxId from = pos_;
    bool idle = subs_.empty();
    l.unlock();
    Result<ChainHead> head = store_.Head();
    if (!head.ok() || head->tx <= from) {
      l.lock();
      continue;
    }
    if (idle) {
      l.lock();
      if (subs_.empty()) pos_ = std::max(pos_, head->tx);
      continue;
    }
    // Read what is new outside the lock (streams open meanwhile start at pos_ and get it
    // through their buffers); hand it out and advance under the lock, one page at a time.
    TxId cursor = from;
    while (cursor < head->tx) {
      Result<process::FeedPage> page = process::ReadFeed(store_, cursor, 256, {});
      if (!page.ok() || page->next <= cursor) break;
      l.lock();
      for (const process::FeedTx& tx : page->txs) {
        if (tx.id > pos_) Deliver(tx);
      }
      pos_ = std::max(pos_, page->next);
      bool stop = stopping_;
      l.unlock();
      cursor = page->next;
      if (stop) break;
    }
    l.lock();
  }
}

}  // namespace cmdb::api
