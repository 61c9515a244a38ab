// Clock: where cmdb reads the time. The core, the services, the importers and the query engine
// take a Clock instead of calling the system clock, so tests set the time instead of sleeping
// (leveldb's Env owns time the same way).
//
// Ownership: a Clock is owned by whoever builds it (the composition root, or a test); users
// hold a pointer that must not outlive it. Clock::System() lives for the whole process.
// Thread safety: every method of every Clock here may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace cmdb {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: microseconds since 1970-01-01T00:00:00Z. Transaction times, record
  // timestamps, AS OF bounds and `timestamp()` in queries read it.
  virtual int64_t NowMicros() const = 0;
  // A clock that never goes back, in microseconds from an arbitrary origin: for durations and
  // expiry (the token cache), never stored.
  virtual int64_t SteadyMicros() const = 0;

  // The system's clocks (std::chrono::system_clock and steady_clock).
  static const Clock* System();
};

// A clock that moves only when told: tests set it to a known time and advance it instead of
// sleeping. Both readings (wall and steady) are the same value.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_micros) : now_(now_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t SteadyMicros() const override { return now_.load(); }
  void Set(int64_t now_micros) { now_.store(now_micros); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace cmdb
