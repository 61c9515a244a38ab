// Keyed rows of the SQLite store (internal to store/): the HMAC-SHA-256 "mac" of each row of
// the tokens, provenance and meta tables under the server key, and the keyed digest (count and
// XOR of macs per table) kept in the meta row 'keyed_rows', so rows changed, added, deleted or
// swapped for an earlier copy outside cmdbd are detected (docs/security.md, tamper evidence).
// Thread safety: plain functions over a connection the caller serializes.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "cmdb/auth.hpp"
#include "cmdb/status.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb::sqlite {

// The key check written in meta 'key_check' by databases from before the keyed digest.
constexpr const char* kKeyCheck = "cmdb key check";
// The keyed count and digest of the keyed rows (meta row 'keyed_rows'): per table, how many rows
// there are and the XOR of their macs. Every write of a keyed row updates it in the same SQLite
// transaction, so a row deleted, added, or swapped for an earlier copy of itself (with the valid
// mac it had then) changes what the table holds but not the digest. Without the key the digest
// cannot be made to agree again.
constexpr const char* kKeyedRows = "keyed_rows";
// The key check of a database that keeps the digest; kKeyCheck marks one from before it.
constexpr const char* kKeyCheckDigests = "cmdb key check 2: keyed row digests";

struct RowDigest {
  int64_t count = 0;
  std::array<unsigned char, 32> x{};

  // Adds or removes (the same: XOR) a row with this mac; a missing or malformed mac counts only.
  void Toggle(std::string_view mac) {
    if (mac.size() != 64) return;
    for (size_t i = 0; i < 32; ++i) {
      auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
      x[i] ^= static_cast<unsigned char>(nibble(mac[2 * i]) << 4 | nibble(mac[2 * i + 1]));
    }
  }
  void Add(std::string_view mac) { ++count, Toggle(mac); }
  void Remove(std::string_view mac) { --count, Toggle(mac); }
  bool operator==(const RowDigest&) const = default;
};

struct KeyedDigests {
  RowDigest tokens, provenance, meta;

  // "tokens <n> <hex>;provenance <n> <hex>;meta <n> <hex>"
  std::string Text() const {
    std::string out;
    for (auto [name, d] : {std::pair{"tokens", &tokens}, {"provenance", &provenance}, {"meta", &meta}}) {
      out += std::string(out.empty() ? "" : ";") + name + " " + std::to_string(d->count) + " " +
             HexOf(d->x.data(), d->x.size());
    }
    return out;
  }
  static std::optional<KeyedDigests> Parse(const std::string& text) {
    KeyedDigests out;
    std::istringstream in(text);
    for (auto [name, d] : {std::pair{"tokens", &out.tokens}, {"provenance", &out.provenance}, {"meta", &out.meta}}) {
      std::string part, word, hex;
      if (!std::getline(in, part, ';')) return std::nullopt;
      std::istringstream fields(part);
      if (!(fields >> word >> d->count >> hex) || word != name || hex.size() != 64) return std::nullopt;
      d->Toggle(hex);
    }
    return out;
  }
};

// The stored digest: nullopt when the row is missing; `valid` false when its mac fails.
struct StoredDigests {
  std::optional<KeyedDigests> digests;
  bool present = false;
  bool valid = false;
};

// The macs of the keyed rows: mac = hex HMAC-SHA-256(key, the row's columns, each as
// "<length>:<bytes>;", after a "<table>;" prefix).
std::string TokenMac(const std::string& key, int64_t id, const std::string& name,
                     const std::string& role, const std::string& hash, int64_t created_at,
                     int64_t revoked_at);
std::string ProvenanceMac(const std::string& key, int64_t rel, int64_t id, const std::string& source,
                          int64_t last_seen, int64_t stale, std::string_view owned);
std::string MetaMac(const std::string& key, const std::string& name, const std::string& value);
// The HMAC-SHA-256 of `data` under `key`, in hex (the key check).
std::string Mac(const std::string& key, const std::string& data);
// "ci=<id> source=<source>" or "relationship=<id> source=<source>", for messages.
std::string ProvenanceRow(int64_t rel, int64_t id, const std::string& source);

// The stored digest of `db` checked with `key`.
StoredDigests ReadDigests(sqlite3* db, const std::string& key);
// Writes `d` (with its mac) as the stored digest.
Status WriteDigests(sqlite3* db, const std::string& key, const KeyedDigests& d);
// Applies a change to the stored digest, inside the caller's write transaction. A digest that is
// missing or fails its check is left as it is (verify keeps naming it): updating it would sign
// whatever was done to the rows behind the server's back.
template <typename Change>
Status UpdateDigests(sqlite3* db, const std::string& key, Change change) {
  StoredDigests stored = ReadDigests(db, key);
  if (!stored.valid) return Status::Ok();
  change(*stored.digests);
  return WriteDigests(db, key, *stored.digests);
}
// The digest of the rows as they are now (a full scan of the three tables).
Result<KeyedDigests> CountKeyedRows(sqlite3* db);
// Why a table's rows disagree with their stored digest ("" when they agree).
std::string DigestMismatch(const RowDigest& stored, const RowDigest& found);
// What the transaction log says about a token: the API records every token it creates or
// revokes as a process record of kind "token" (id = the token's id; body: name, role, event =
// "created with role <role>" | "revoked"; api/handlers_misc.cpp, LogTokenEvent). Why the row
// (with a valid mac) disagrees with the latest such record, or "" when it agrees or the log has
// none (tokens made with `cmdbd token` on the file, or the first admin token). The latest record
// is the one with the highest valid_from, not the one valid_to leaves open (which an edit of
// valid_to could choose); removing the record itself breaks the chain.
std::string TokenLogMismatch(sqlite3* db, int64_t id, const std::string& name, const std::string& role,
                             int64_t revoked_at);
// The log lines naming a token row that fails its keyed check, or disagrees with the log.
std::string FailingTokenLine(int64_t id, const std::string& name);
std::string TokenLogLine(int64_t id, const std::string& name, const std::string& why);
// Signs the keyed rows as they are: those without a mac, or all of them when `all`. Returns the
// number of rows signed.
Result<int64_t> SignRows(sqlite3* db, const std::string& key, bool all);

}  // namespace cmdb::sqlite
