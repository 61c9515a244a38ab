#include "cmdb/tx_chain.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "cmdb/attr_codec.hpp"
#include "cmdb/auth.hpp"

namespace cmdb {
namespace {

constexpr size_t kPipedRecords = 4096;

// Digests chunks on a helper thread while the caller formats the next ones: formatting and
// SHA-256 cost about the same, so a bulk load's hash takes the longer of the two, not the sum.
// At most kQueued chunks wait, so memory stays bounded whatever the write set's size.
class HashPipe {
 public:
  struct Chunk {
    std::string bytes;
    size_t len = 0;  // bytes [0, len) are to be digested
  };
  explicit HashPipe(EVP_MD_CTX* sha) : sha_(sha), thread_([this] { Run(); }) {}
  ~HashPipe() { Finish(); }

  // Queues `full` and returns a spare buffer (of a digested chunk when there is one).
  std::string Swap(Chunk full) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return queue_.size() < kQueued; });
    queue_.push_back(std::move(full));
    std::string spare;
    if (!spare_.empty()) {
      spare = std::move(spare_.back());
      spare_.pop_back();
    }
    cv_.notify_all();
    return spare;
  }
  // Waits until every queued chunk is digested.
  void Finish() {
    {
      std::lock_guard l(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  static constexpr size_t kQueued = 2;
  void Run() {
    for (;;) {
      Chunk chunk;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
      }
      cv_.notify_all();
      EVP_DigestUpdate(sha_, chunk.bytes.data(), chunk.len);
      std::lock_guard l(mu_);
      spare_.push_back(std::move(chunk.bytes));
    }
  }

  EVP_MD_CTX* sha_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;
  std::vector<std::string> spare_;
  bool closed_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

// Where canonical bytes go: a string (TxCanonical) or a running SHA-256 (TxChainHash), fed in
// chunks so a million-record transaction never exists as one string. Hashing a bulk load's
// write set is on its commit's critical path, so fields are formatted without allocating.
class Sink {
 public:
  static constexpr size_t kChunk = size_t(1) << 16;
  // Without `sha`, bytes accumulate (Take); with it, they are digested in chunks, on `pipe`'s
  // thread when one is given.
  explicit Sink(EVP_MD_CTX* sha = nullptr, HashPipe* pipe = nullptr) : sha_(sha), pipe_(pipe) {
    buf_.resize(2 * kChunk);
  }
  // Where to write up to `n` more bytes; Advance to the end of what was written.
  char* Room(size_t n) {
    if (len_ + n > buf_.size()) {
      Flush();
      if (len_ + n > buf_.size()) buf_.resize(std::max(2 * buf_.size(), len_ + n));
    }
    return buf_.data() + len_;
  }
  void Advance(char* end) {
    len_ = static_cast<size_t>(end - buf_.data());
    if (sha_ && len_ >= kChunk) Flush();
  }
  void Add(std::string_view bytes) {
    char* p = Room(bytes.size());
    std::memcpy(p, bytes.data(), bytes.size());
    Advance(p + bytes.size());
  }
  void Flush() {
    if (!sha_ || len_ == 0) return;
    if (pipe_) {
      size_t size = buf_.size();
      buf_ = pipe_->Swap(HashPipe::Chunk{std::move(buf_), len_});
      if (buf_.size() < size) buf_.resize(size);
    } else {
      EVP_DigestUpdate(sha_, buf_.data(), len_);
    }
    len_ = 0;
  }
  std::string Take() {
    buf_.resize(len_);
    return std::move(buf_);
  }
  std::string& scratch() { return scratch_; }  // for one field's bytes at a time

 private:
  EVP_MD_CTX* sha_;
  HashPipe* pipe_;
  std::string buf_;  // bytes [0, len_) are pending
  size_t len_ = 0;
  std::string scratch_;
};

// "<length>:<bytes>;"
void Field(Sink& out, std::string_view s) {
  char* p = out.Room(s.size() + 24);
  p = std::to_chars(p, p + 21, s.size()).ptr;
  *p++ = ':';
  std::memcpy(p, s.data(), s.size());
  p += s.size();
  *p++ = ';';
  out.Advance(p);
}
void Field(Sink& out, int64_t v) {
  char num[21];
  size_t n = static_cast<size_t>(std::to_chars(num, num + sizeof num, v).ptr - num);
  Field(out, std::string_view(num, n));
}
void AttrsField(Sink& out, const AttrMap& attrs) {
  std::string& bytes = out.scratch();
  bytes.clear();
  EncodeAttrsTo(attrs, bytes);
  Field(out, bytes);
}

void Header(Sink& out, const TxRecord& tx, const std::string& schema_ddl) {
  out.Add("tx;");
  Field(out, tx.id);
  Field(out, tx.time);
  Field(out, tx.actor);
  Field(out, tx.source);
  Field(out, tx.change_ref);
  Field(out, tx.message);
  Field(out, tx.cis_written);
  Field(out, tx.rels_written);
  Field(out, tx.schema_version);
  Field(out, schema_ddl);
  if (!tx.unauthorized.empty()) {
    out.Add("unauthorized;");
    Field(out, tx.unauthorized);
  }
}

void Put(Sink& out, const CiRecord& c) {
  out.Add("ci;");
  Field(out, c.id);
  Field(out, c.version);
  Field(out, c.class_name);
  AttrsField(out, c.attrs);
  Field(out, c.created_at);
  Field(out, c.updated_at);
  Field(out, c.retired ? 1 : 0);
}

void Put(Sink& out, const RelRecord& r) {
  out.Add("rel;");
  Field(out, r.id);
  Field(out, r.version);
  Field(out, r.type);
  Field(out, r.from);
  Field(out, r.to);
  AttrsField(out, r.attrs);
  Field(out, r.created_at);
  Field(out, r.updated_at);
  Field(out, r.retired ? 1 : 0);
}

void Put(Sink& out, const DocRecord& d) {
  out.Add("doc;");
  Field(out, d.kind);
  Field(out, d.id);
  Field(out, d.version);
  AttrsField(out, d.body);
  Field(out, d.updated_at);
  Field(out, d.retired ? 1 : 0);
}

bool DocBefore(const DocRecord& a, const DocRecord& b) {
  return std::tie(a.kind, a.id) < std::tie(b.kind, b.id);
}

// Puts records in canonical order without copying them: in place when already sorted (the
// usual case: new ids are increasing), else through a sorted list of pointers.
template <typename Record, typename Less>
void PutSorted(Sink& out, const std::vector<Record>& records, Less less) {
  if (std::is_sorted(records.begin(), records.end(), less)) {
    for (const Record& r : records) Put(out, r);
    return;
  }
  std::vector<const Record*> order;
  order.reserve(records.size());
  for (const Record& r : records) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [&](const Record* a, const Record* b) { return less(*a, *b); });
  for (const Record* r : order) Put(out, *r);
}

}  // namespace

void SortDocs(std::vector<DocRecord>& docs) { std::sort(docs.begin(), docs.end(), DocBefore); }

std::string TxCanonical(const TxRecord& tx, const std::vector<CiRecord>& cis,
                        const std::vector<RelRecord>& rels, const std::vector<DocRecord>& docs,
                        const std::string& schema_ddl) {
  Sink out;
  Header(out, tx, schema_ddl);
  for (const CiRecord& c : cis) Put(out, c);
  for (const RelRecord& r : rels) Put(out, r);
  for (const DocRecord& d : docs) Put(out, d);
  return out.Take();
}

std::string ChainHash(const std::string& prev_hash, const std::string& canonical) {
  return Sha256Hex(prev_hash + canonical);
}

std::string FormatChainHead(const ChainHead& head) {
  return std::to_string(head.tx) + ":" + head.hash;
}

Result<ChainHead> ParseChainHead(std::string_view text) {
  auto invalid = [&] {
    return Status::Invalid("a chain head is <transaction id>:<64 hex digits>, not '" +
                           std::string(text.substr(0, 200)) + "'");
  };
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return invalid();
  ChainHead head;
  auto [end, ec] = std::from_chars(text.data(), text.data() + colon, head.tx);
  if (ec != std::errc() || end != text.data() + colon || head.tx < 0) return invalid();
  std::string_view hash = text.substr(colon + 1);
  if (hash.size() != 64) return invalid();
  for (char ch : hash) {
    if (ch >= 'A' && ch <= 'F') ch = static_cast<char>(ch - 'A' + 'a');
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return invalid();
    head.hash += ch;
  }
  return head;
}

void ChainReport::Add(std::string table, std::string row, std::string why) {
  ok = false;
  if (problems.size() >= kMaxProblems) {
    ++problems_omitted;
    return;
  }
  problems.push_back(IntegrityProblem{std::move(table), std::move(row), std::move(why)});
}

std::string TxChainHash(const std::string& prev_hash, const TxRecord& tx, const WriteSet& ws) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
  // Large write sets (bulk loads) are digested on a second thread while they are formatted.
  std::optional<HashPipe> pipe;
  if (ws.cis.size() + ws.rels.size() + ws.docs.size() >= kPipedRecords) {
    try {
      pipe.emplace(sha.get());
    } catch (const std::system_error&) {  // no thread to be had: digest on this one
    }
  }
  Sink out(sha.get(), pipe ? &*pipe : nullptr);
  out.Add(prev_hash);
  Header(out, tx, ws.schema_ddl);
  auto by_id = [](const auto& a, const auto& b) { return a.id < b.id; };
  PutSorted(out, ws.cis, by_id);
  PutSorted(out, ws.rels, by_id);
  PutSorted(out, ws.docs, DocBefore);
  out.Flush();
  if (pipe) pipe->Finish();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &len);
  return HexOf(digest, len);
}

}  // namespace cmdb
