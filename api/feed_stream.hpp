// FeedHub: what serves GET /v1/feed/stream. One thread follows the transaction log (it polls the
// store's head) and hands every new transaction to each open stream's bounded buffer; a stream
// that falls a buffer behind is told to resume and closed. Writers are never involved: a commit
// does not wait for the hub, and the hub never waits for a stream.
// Each open stream holds one worker of the server while it lasts, so the hub bounds how many
// are open (Open answers nullptr past the limit: the handler's 503).
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cmdb/store.hpp"
#include "process/feed.hpp"

namespace cmdb::api {

class FeedHub;

// One open stream's end: the transactions the hub handed it, in order.
class FeedSubscription {
 public:
  enum class Next {
    kTxs,       // `out` holds the next transactions (the filter kept them)
    kTimeout,   // nothing arrived within the wait: time for a heartbeat
    kOverflow,  // the buffer overflowed (the consumer is too slow): resume from the last tx sent
    kClosed,    // the server is stopping
  };
  // Waits up to `wait` for transactions; moves them into `out`.
  Next Wait(std::chrono::milliseconds wait, std::vector<process::FeedTx>& out);
  // The hub's position when the stream opened: the transactions after it come through Wait,
  // those up to it the stream reads from the store itself (ReadFeed).
  TxId start() const { return start_; }
  ~FeedSubscription();

 private:
  friend class FeedHub;
  FeedSubscription(FeedHub* hub, process::FeedFilter filter, TxId start)
      : hub_(hub), filter_(std::move(filter)), start_(start) {}
  FeedHub* hub_;
  process::FeedFilter filter_;
  TxId start_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<process::FeedTx> queue_;
  bool overflow_ = false;
  bool closed_ = false;
};

class FeedHub {
 public:
  // `store` must outlive the hub. At most `max_streams` open at once, each buffering at most
  // `buffer_txs` transactions; the log is polled every `poll`.
  FeedHub(Store& store, int max_streams, size_t buffer_txs,
          std::chrono::milliseconds poll = std::chrono::milliseconds(100));
  // Stops (as Stop) and joins the thread. Every subscription must be gone by then.
  ~FeedHub();

  // A new stream with `filter`, or nullptr when `max_streams` are open or the hub stopped.
  std::shared_ptr<FeedSubscription> Open(process::FeedFilter filter);
  // Closes every stream (their Wait answers kClosed) and refuses new ones.
  void Stop();
  int max_streams() const { return max_streams_; }
  // The last transaction handed to the streams (or passed over while none was open).
  TxId position() const;
  size_t buffer_txs() const { return buffer_txs_; }

 private:
  friend class FeedSubscription;
  void Run();
  void Deliver(const process::FeedTx& tx);
  void Remove(FeedSubscription* sub);

  Store& store_;
  const int max_streams_;
  const size_t buffer_txs_;
  const std::chrono::milliseconds poll_;
  mutable std::mutex mu_;  // guards subs_, pos_, stopping_
  std::condition_variable cv_;
  std::vector<FeedSubscription*> subs_;
  TxId pos_ = 0;  // the last transaction handed out
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cmdb::api
