#include "bulk/bulk_reader.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "bulk/json.hpp"

namespace cmdb::bulk {
namespace {

// The line rules (bulk_reader.hpp), applied in line order on the caller's thread; what they
// accept goes to the sink.
class BulkRules {
 public:
  BulkRules(BulkSink& sink, BulkResult& result) : sink_(sink), r_(result) {}

  // Lets the sink hand on what it took so far, unless a line was refused already (nothing will
  // be committed then).
  Status Flush() {
    sink_.BatchDone();
    return r_.error_count ? Status::Ok() : sink_.Flush();
  }

  // Applies the rules to one parsed line, in line order.
  void Line(BulkLine& line) {
    ++r_.lines;
    if (line.blank) return;
    Status st = line.error.ok() ? Apply(line) : line.error;
    if (!st.ok()) Fail(line.line_no, std::move(st));
  }

 private:
  void Fail(int64_t line_no, Status st) {
    ++r_.error_count;
    if (r_.errors.size() < r_.max_listed_errors) r_.errors.push_back({line_no, std::move(st)});
  }

  Status Apply(BulkLine& line) {
    return line.op == BulkLine::Op::kCi ? ApplyCi(line) : ApplyRel(line);
  }

  Status ApplyCi(BulkLine& line) {
    if (!line.attrs.ok()) return line.attrs.status();
    if (line.has_id) {
      if (!line.id) return Status::Invalid("\"id\" must be an integer");
    } else if (!line.cls) {
      return Status::Invalid("missing \"class\"");
    }
    auto id = sink_.Ci(line);
    if (!id.ok()) return id.status();
    if (line.has_ref) {
      if (!line.ref) return Status::Invalid("\"ref\" must be a string");
      std::string name = *line.ref;
      if (auto earlier = r_.refs.Define(std::move(*line.ref), line.ref_hash, *id, line.line_no))
        return RefDefinedTwice(name, *earlier, line.line_no);
    }
    return Status::Ok();
  }

  Result<CiId> Endpoint(const BulkLine& line, const BulkEndpoint& e, const char* field) {
    switch (e.kind) {
      case BulkEndpoint::Kind::kMissing:
        return Status::Invalid(std::string("missing \"") + field + "\"");
      case BulkEndpoint::Kind::kInvalid: return e.error;
      case BulkEndpoint::Kind::kRef: {
        auto id = r_.refs.Find(e.name, e.ref_hash);
        if (!id) return BulkUnknownRef(field, JsonText(Json(e.name)));
        return *id;
      }
      case BulkEndpoint::Kind::kId:
      case BulkEndpoint::Kind::kKey: return sink_.Endpoint(line, e, field);
    }
    return Status::Invalid("unreachable endpoint kind");
  }

  Status ApplyRel(BulkLine& line) {
    if (!line.type) return Status::Invalid("missing \"type\"");
    auto from = Endpoint(line, line.from, "from");
    if (!from.ok()) return from.status();
    auto to = Endpoint(line, line.to, "to");
    if (!to.ok()) return to.status();
    if (!line.attrs.ok()) return line.attrs.status();
    return sink_.Rel(line, *from, *to);
  }

  BulkSink& sink_;
  BulkResult& r_;
};

// Parses lines on worker threads while the caller stages earlier ones: the JSON parser and the
// transaction run on both cores. Batches are staged in line order whichever worker finishes
// first; at most kInFlight batches are parsed ahead, so memory stays bounded whatever the body
// size.
class ParsePipeline {
 public:
  // `schema` must stay unchanged while the pipeline lives (the transaction's, for RunBulk).
  ParsePipeline(BulkRules& rules, const Schema& schema)
      : rules_(rules), schema_(schema) {
    for (int i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~ParsePipeline() {
    {
      std::lock_guard l(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    for (std::thread& w : workers_) w.join();
  }

  void Add(std::string_view line) {
    batch_.lines.emplace_back(line);
    if (batch_.lines.size() >= kBatchLines) Flush();
  }
  // Stages every line added so far.
  void Finish() {
    Flush();
    while (in_flight_ > 0) ApplyOne();
  }
  // Why streaming the staged records to the store failed (the load cannot commit); OK otherwise.
  const Status& flush_status() const { return flush_status_; }

 private:
  static constexpr size_t kBatchLines = 1024;
  Status flush_status_;
  static constexpr int kInFlight = 8;
  // Two workers parse while this thread stages. Chosen when a line cost as much to parse as to
  // stage (an nlohmann document per line); with simdjson parsing costs about half of staging at
  // 1M, and one worker has not been measured since.
  static constexpr int kWorkers = 2;
  struct Batch {
    int64_t seq = 0;  // hand-over order, which is line order
    int64_t first_line = 0;
    std::vector<std::string> lines;
    std::vector<BulkLine> parsed;
  };

  void Flush() {
    if (batch_.lines.empty()) return;
    if (in_flight_ >= kInFlight) ApplyOne();
    int64_t next_line = batch_.first_line + static_cast<int64_t>(batch_.lines.size());
    {
      std::lock_guard l(mu_);
      batch_.seq = next_seq_++;
      todo_.push_back(std::move(batch_));
    }
    cv_.notify_all();
    ++in_flight_;
    batch_ = Batch{};
    batch_.first_line = next_line;
  }
  void ApplyOne() {
    Batch b;
    {
      std::unique_lock l(mu_);
      cv_.wait(l, [&] { return !done_.empty() && done_.begin()->first == next_apply_; });
      b = std::move(done_.begin()->second);
      done_.erase(done_.begin());
      ++next_apply_;
    }
    --in_flight_;
    for (BulkLine& line : b.parsed) rules_.Line(line);
    if (flush_status_.ok()) flush_status_ = rules_.Flush();
    // Parsed lines are freed by a worker while it keeps ahead, by this thread when the worker is
    // behind (it would only wait otherwise).
    bool worker_behind;
    {
      std::lock_guard l(mu_);
      worker_behind = (done_.empty() || done_.begin()->first != next_apply_) && !todo_.empty();
      if (!worker_behind) garbage_.push_back(std::move(b));
    }
    if (!worker_behind) cv_.notify_all();
  }
  void Work() {
    for (;;) {
      Batch b;
      std::deque<Batch> garbage;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return closed_ || !todo_.empty() || !garbage_.empty(); });
        garbage.swap(garbage_);
        if (todo_.empty() && garbage.empty()) return;
        if (!todo_.empty()) {
          b = std::move(todo_.front());
          todo_.pop_front();
        }
      }
      garbage.clear();
      if (b.lines.empty()) continue;
      b.parsed.reserve(b.lines.size());
      for (size_t i = 0; i < b.lines.size(); ++i)
        b.parsed.push_back(ParseBulkLine(b.lines[i], b.first_line + 1 + static_cast<int64_t>(i), schema_));
      b.lines = std::vector<std::string>();
      {
        std::lock_guard l(mu_);
        int64_t seq = b.seq;
        done_.emplace(seq, std::move(b));
      }
      cv_.notify_all();
    }
  }

  BulkRules& rules_;
  const Schema& schema_;
  Batch batch_;
  int in_flight_ = 0;  // batches handed over and not yet staged (caller's thread only)
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> todo_, garbage_;
  std::map<int64_t, Batch> done_;  // parsed, by seq: workers may finish out of order
  int64_t next_seq_ = 0;           // of the next batch handed over (caller's thread only)
  int64_t next_apply_ = 0;         // seq of the next batch to stage (caller's thread only)
  bool closed_ = false;
  std::vector<std::thread> workers_;  // last: start after the members they use
};

}  // namespace

uint64_t BulkRefs::Hash(std::string_view ref) { return HashIndex::HashOf(ref); }

std::optional<int64_t> BulkRefs::Define(std::string ref, uint64_t hash, CiId id, int64_t line) {
  std::optional<int64_t> earlier;
  index_.FindIf(hash, [&](int64_t at) {
    if (entries_[at].first != ref) return false;
    earlier = lines_[at];
    return true;
  });
  if (earlier) return earlier;
  index_.Insert(hash, static_cast<int64_t>(entries_.size()));
  entries_.emplace_back(std::move(ref), id);
  lines_.push_back(line);
  return std::nullopt;
}

std::optional<CiId> BulkRefs::Find(std::string_view ref, uint64_t hash) const {
  std::optional<CiId> out;
  index_.FindIf(hash, [&](int64_t at) {
    if (entries_[at].first != ref) return false;
    out = entries_[at].second;
    return true;
  });
  return out;
}

BodyReader StringReader(std::string_view text) {
  return [text](const std::function<bool(const char*, size_t)>& sink) {
    constexpr size_t kChunk = 1 << 16;
    for (size_t pos = 0; pos < text.size(); pos += kChunk) {
      if (!sink(text.data() + pos, std::min(kChunk, text.size() - pos))) return false;
    }
    return true;
  };
}

Status ReadBulk(const BodyReader& read, size_t max_bytes, const Schema& schema, BulkSink& sink,
                BulkResult& result) {
  BulkRules rules(sink, result);
  ParsePipeline pipeline(rules, schema);
  std::string partial;
  size_t total = 0;
  bool too_large = false;
  bool complete = read([&](const char* data, size_t len) {
    total += len;
    if (total > max_bytes) return too_large = true, false;
    std::string_view chunk(data, len);
    size_t start = 0;
    for (size_t nl; (nl = chunk.find('\n', start)) != std::string_view::npos; start = nl + 1) {
      if (partial.empty()) {
        pipeline.Add(chunk.substr(start, nl - start));
      } else {
        partial.append(chunk.substr(start, nl - start));
        pipeline.Add(partial);
        partial.clear();
      }
    }
    partial.append(chunk.substr(start));
    return true;
  });
  if (too_large)
    return Status(StatusCode::kPayloadTooLarge,
                  "bulk body exceeds the limit of " + std::to_string(max_bytes) + " bytes");
  if (!complete) return Status::Invalid("the request body ended early");
  if (!partial.empty()) pipeline.Add(partial);
  pipeline.Finish();
  return pipeline.flush_status();
}

}  // namespace cmdb::bulk
