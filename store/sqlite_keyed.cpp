// The keyed rows of the SQLite store: macs, the keyed digest, the server key (OpenKey), their
// verification, and the tokens table (every token row is keyed).
#include "store/sqlite_keyed.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "cmdb/attr_codec.hpp"
#include "store/sqlite_store.hpp"

namespace cmdb {
namespace sqlite {
namespace {

void MacField(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out += ':';
  out += v;
  out += ';';
}
void MacField(std::string& out, int64_t v) { MacField(out, std::to_string(v)); }

}  // namespace

std::string Mac(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len);
  return HexOf(digest, len);
}
std::string TokenMac(const std::string& key, int64_t id, const std::string& name,
                     const std::string& role, const std::string& hash, int64_t created_at,
                     int64_t revoked_at) {
  std::string in = "token;";
  MacField(in, id);
  MacField(in, name);
  MacField(in, role);
  MacField(in, hash);
  MacField(in, created_at);
  MacField(in, revoked_at);
  return Mac(key, in);
}
std::string ProvenanceMac(const std::string& key, int64_t rel, int64_t id, const std::string& source,
                          int64_t last_seen, int64_t stale, std::string_view owned) {
  std::string in = "provenance;";
  MacField(in, rel);
  MacField(in, id);
  MacField(in, source);
  MacField(in, last_seen);
  MacField(in, stale);
  MacField(in, owned);
  return Mac(key, in);
}
std::string MetaMac(const std::string& key, const std::string& name, const std::string& value) {
  std::string in = "meta;";
  MacField(in, name);
  MacField(in, value);
  return Mac(key, in);
}
std::string ProvenanceRow(int64_t rel, int64_t id, const std::string& source) {
  return std::string(rel ? "relationship=" : "ci=") + std::to_string(id) + " source=" + source;
}

StoredDigests ReadDigests(sqlite3* db, const std::string& key) {
  StoredDigests out;
  Stmt s(db, "SELECT value, mac FROM meta WHERE key = 'keyed_rows'");
  if (!s.ok() || s.Step() != SQLITE_ROW) return out;
  out.present = true;
  out.valid = s.Text(1) == MetaMac(key, kKeyedRows, s.Text(0));
  if (out.valid) out.digests = KeyedDigests::Parse(s.Text(0));
  out.valid = out.valid && out.digests;
  return out;
}
Status WriteDigests(sqlite3* db, const std::string& key, const KeyedDigests& d) {
  std::string value = d.Text();
  Stmt put(db, "INSERT OR REPLACE INTO meta(key, value, mac) VALUES ('keyed_rows', ?, ?)");
  if (!put.ok()) return put.Error();
  return put.Bind(1, value).Bind(2, MetaMac(key, kKeyedRows, value)).Run();
}

Result<KeyedDigests> CountKeyedRows(sqlite3* db) {
  KeyedDigests d;
  for (auto [sql, digest] :
       {std::pair{"SELECT mac FROM tokens", &d.tokens}, {"SELECT mac FROM provenance", &d.provenance},
        {"SELECT mac FROM meta WHERE key NOT IN ('key_check', 'keyed_rows')", &d.meta}}) {
    Stmt s(db, sql);
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) digest->Add(s.Text(0));
  }
  return d;
}
// Why a table's rows disagree with their stored digest ("" when they agree).
std::string DigestMismatch(const RowDigest& stored, const RowDigest& found) {
  if (stored.count != found.count) {
    return "the keyed count of its rows (meta key=keyed_rows) is " + std::to_string(stored.count) + ", but " +
           std::to_string(found.count) + " are stored: rows were " + (found.count < stored.count ? "deleted" : "added") +
           " outside cmdbd";
  }
  if (stored.x != found.x) {
    return "its rows do not match their keyed digest (meta key=keyed_rows): a row was replaced outside cmdbd (e.g."
           " by an earlier copy of itself)";
  }
  return "";
}

// What the transaction log says about a token: the API records every token it creates or
// revokes as a process record of kind "token" (id = the token's id; body: name, role, event =
// "created with role <role>" | "revoked"; api/handlers_misc.cpp, LogTokenEvent). Why the row
// (with a valid mac) disagrees with the latest such record, or "" when it agrees or the log has
// none (tokens made with `cmdbd token` on the file, or the first admin token). The latest record
// is the one with the highest valid_from, not the one valid_to leaves open (which an edit of
// valid_to could choose); removing the record itself breaks the chain.
std::string TokenLogMismatch(sqlite3* db, int64_t id, const std::string& name, const std::string& role,
                             int64_t revoked_at) {
  Stmt s(db, "SELECT body, valid_from FROM doc_versions WHERE kind = 'token' AND id = ?"
             " ORDER BY valid_from DESC, version DESC LIMIT 1");
  if (!s.ok()) return "";
  s.Bind(1, id);
  if (s.Step() != SQLITE_ROW) return "";
  std::string tx = std::to_string(s.Int(1));
  auto body = DecodeAttrs(s.Blob(0));
  if (!body.ok()) return "the log's record of it (transaction " + tx + ") does not decode";
  auto text = [&](const char* field) {
    Value v = body->Get(field);
    return v.is_string() ? std::string(v.as_string()) : std::string();
  };
  std::string logged_name = text("name"), event = text("event");
  if (logged_name != name) {
    return "the log's latest record of token id=" + std::to_string(id) + " (transaction " + tx + ") is for token '" +
           logged_name + "': the row was replaced outside cmdbd";
  }
  if (event == "revoked") {
    if (revoked_at != 0) return "";
    return "it is valid, but the log revoked it in transaction " + tx +
           ": the row was restored outside cmdbd (a revocation cannot be undone)";
  }
  static const std::string kCreated = "created with role ";
  if (event.starts_with(kCreated) && event.substr(kCreated.size()) != role) {
    return "its role is '" + role + "', but the log created it with role '" + event.substr(kCreated.size()) +
           "' in transaction " + tx + ": the row was changed outside cmdbd";
  }
  return "";
}

std::string FailingTokenLine(int64_t id, const std::string& name) {
  return "store: token '" + name + "' (tokens row id=" + std::to_string(id) +
         ") fails its keyed check: the row was changed or added outside cmdbd; it is not accepted"
         " for authentication";
}

std::string TokenLogLine(int64_t id, const std::string& name, const std::string& why) {
  return "store: token '" + name + "' (tokens row id=" + std::to_string(id) + ") does not match the transaction log: " +
         why + "; it is not accepted for authentication";
}

// Signs the keyed rows as they are: those without a mac, or all of them when `all`. Returns the
// number of rows signed.
Result<int64_t> SignRows(sqlite3* db, const std::string& key, bool all) {
  const std::string only = all ? "" : " WHERE mac IS NULL";
  int64_t n = 0;
  std::vector<std::pair<std::string, int64_t>> tokens;
  {
    Stmt s(db, ("SELECT id, name, role, hash, created_at, revoked_at FROM tokens" + only).c_str());
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      tokens.emplace_back(TokenMac(key, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)), s.Int(0));
    }
  }
  Stmt put_token(db, "UPDATE tokens SET mac = ? WHERE id = ?");
  for (auto& [mac, id] : tokens) CMDB_RETURN_IF_ERROR(put_token.Bind(1, mac).Bind(2, id).Run());
  n += static_cast<int64_t>(tokens.size());
  struct Prov {
    std::string mac, source;
    int64_t rel, id;
  };
  std::vector<Prov> provs;
  {
    Stmt s(db, ("SELECT rel, id, source, last_seen, stale, owned FROM provenance" + only).c_str());
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      provs.push_back(Prov{ProvenanceMac(key, s.Int(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4), s.Blob(5)),
                           s.Text(2), s.Int(0), s.Int(1)});
    }
  }
  Stmt put_prov(db, "UPDATE provenance SET mac = ? WHERE rel = ? AND id = ? AND source = ?");
  for (auto& p : provs) CMDB_RETURN_IF_ERROR(put_prov.Bind(1, p.mac).Bind(2, p.rel).Bind(3, p.id).Bind(4, p.source).Run());
  n += static_cast<int64_t>(provs.size());
  std::vector<std::pair<std::string, std::string>> metas;
  {
    // The key check and the digest are written anew after signing.
    Stmt s(db, ("SELECT key, value FROM meta" + (all ? std::string(" WHERE key NOT IN ('key_check', 'keyed_rows')")
                                                     : only + " AND key NOT IN ('key_check', 'keyed_rows')")).c_str());
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) metas.emplace_back(MetaMac(key, s.Text(0), s.Text(1)), s.Text(0));
  }
  Stmt put_meta(db, "UPDATE meta SET mac = ? WHERE key = ?");
  for (auto& [mac, name] : metas) CMDB_RETURN_IF_ERROR(put_meta.Bind(1, mac).Bind(2, name).Run());
  n += static_cast<int64_t>(metas.size());
  return n;
}


}  // namespace sqlite

using sqlite::Exec;
using sqlite::SqliteError;
using sqlite::Stmt;
using namespace sqlite;  // the keyed-row helpers above

Status SqliteStore::OpenKey(const SqliteOptions& options) {
  std::lock_guard w(write_mu_);
  std::string key_path = options.key_file.empty() ? path_ + ".key" : options.key_file;
  // Files from before keyed rows: add the mac columns (NULL until signed below).
  for (const char* table : {"meta", "provenance", "tokens"}) {
    Stmt probe(write_db_, (std::string("SELECT mac FROM ") + table + " LIMIT 0").c_str());
    if (!probe.ok()) {
      CMDB_RETURN_IF_ERROR(Exec(write_db_, (std::string("ALTER TABLE ") + table + " ADD COLUMN mac TEXT").c_str()));
    }
  }
  std::string check;
  {
    Stmt s(write_db_, "SELECT value FROM meta WHERE key = 'key_check'");
    if (!s.ok()) return s.Error();
    if (s.Step() == SQLITE_ROW) check = s.Text(0);
  }
  bool created = false, counted_before = false;
  std::error_code ec;
  if (std::filesystem::exists(key_path, ec) && !options.new_key) {
    std::ifstream in(key_path);
    std::string hex;
    in >> hex;
    std::string raw;
    for (size_t i = 0; hex.size() == 64 && i < 64; i += 2) {
      raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    if (raw.size() != 32 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::Internal("the key file '" + key_path + "' of database '" + path_ +
                              "' does not hold a key (64 hex digits)");
    }
    key_ = std::move(raw);
    counted_before = check == Mac(key_, kKeyCheckDigests);
    if (!check.empty() && !counted_before && check != Mac(key_, kKeyCheck)) {
      return Status::Internal("the key file '" + key_path + "' does not belong to database '" + path_ +
                              "': use the key file it was created with, or start with a new key to sign"
                              " its tokens, provenance and meta rows as they are");
    }
    if (check.empty()) {
      // A key but no key check: a new database (the key file may be from an open that stopped
      // before its first commit), or a keyed one whose check was deleted, which would otherwise
      // be counted again as found.
      Stmt used(write_db_,
                "SELECT EXISTS(SELECT 1 FROM transactions) OR EXISTS(SELECT 1 FROM tokens)"
                " OR EXISTS(SELECT 1 FROM provenance) OR EXISTS(SELECT 1 FROM meta)");
      if (!used.ok() || used.Step() != SQLITE_ROW) return used.Error();
      if (used.Int(0) != 0) {
        return Status::Internal("database '" + path_ + "' has a key file ('" + key_path +
                                "') but no key check (the meta row 'key_check' is missing): it was deleted outside"
                                " cmdbd; restore the database from a backup, or start with a new key to sign its"
                                " tokens, provenance and meta rows as they are");
      }
    }
  } else {
    if (!check.empty() && !options.new_key) {
      return Status::Internal("database '" + path_ + "' is keyed, but its key file '" + key_path +
                              "' is missing: restore it (backups keep a copy next to the backup), or start"
                              " with a new key to sign its tokens, provenance and meta rows as they are");
    }
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("no randomness for a database key");
    key_.assign(reinterpret_cast<const char*>(bytes), sizeof bytes);
    std::string hex = HexOf(bytes, sizeof bytes) + "\n";
    int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, hex.data(), hex.size()) != static_cast<ssize_t>(hex.size()) || ::fsync(fd) != 0) {
      std::string why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return Status::Internal("cannot write the key file '" + key_path + "': " + why);
    }
    ::close(fd);
    created = true;
  }
  if (!counted_before) {
    // A new key, a new database, or a keyed one from before the digest: sign (with a new key)
    // and count the rows as they are, and mark the database as keeping the digest.
    CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
    Result<int64_t> signed_rows = int64_t{0};
    // Rows found without a key are trusted as found only when the key is new: with an existing
    // key, a row without a mac was added behind the server's back.
    if (created) signed_rows = SignRows(write_db_, key_, options.new_key);
    Result<KeyedDigests> found = CountKeyedRows(write_db_);
    Stmt put(write_db_, "INSERT OR REPLACE INTO meta(key, value) VALUES ('key_check', ?)");
    Status st = !signed_rows.ok() ? signed_rows.status() : !found.ok() ? found.status() : Status::Ok();
    if (st.ok()) st = WriteDigests(write_db_, key_, *found);
    if (st.ok()) st = put.Bind(1, Mac(key_, kKeyCheckDigests)).Run();
    if (st.ok()) st = Exec(write_db_, "COMMIT");
    if (!st.ok()) {
      Exec(write_db_, "ROLLBACK");
      return st;
    }
    if (created && *signed_rows > 0) {
      Log("store: signed " + std::to_string(*signed_rows) + " token, provenance and meta rows of database '" + path_ +
          "' with " + (options.new_key ? "a new" : "its first") + " key (" + key_path +
          "): they are trusted as they were found");
    } else if (!created && !check.empty()) {
      Log("store: counted the keyed rows of database '" + path_ + "' for the first time (" +
          std::to_string(found->tokens.count) + " tokens, " + std::to_string(found->provenance.count) +
          " provenance and " + std::to_string(found->meta.count) +
          " meta rows): rows deleted before now cannot be detected, later deletions can");
    }
  }
  // Start-up: a token row edited behind the server's back, or restored against the log, is
  // named now, and refused at use; so is a table that no longer matches its digest.
  KeyedDigests found;
  {
    Stmt s(write_db_, "SELECT id, name, role, hash, created_at, revoked_at, mac FROM tokens ORDER BY id");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      found.tokens.Add(s.Text(6));
      if (s.Text(6) != TokenMac(key_, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5))) {
        Log(FailingTokenLine(s.Int(0), s.Text(1)));
        reported_tokens_.insert(s.Int(0));
      } else if (s.Int(5) == 0) {
        std::string why = TokenLogMismatch(write_db_, s.Int(0), s.Text(1), s.Text(2), s.Int(5));
        if (!why.empty()) {
          Log(TokenLogLine(s.Int(0), s.Text(1), why));
          reported_tokens_.insert(s.Int(0));
        }
      }
    }
    Stmt m(write_db_, "SELECT mac FROM meta WHERE key NOT IN ('key_check', 'keyed_rows')");
    if (!m.ok()) return m.Error();
    while (m.Step() == SQLITE_ROW) found.meta.Add(m.Text(0));
  }
  StoredDigests stored = ReadDigests(write_db_, key_);
  if (!stored.valid) {
    Log("store: the meta row 'keyed_rows' of database '" + path_ + "' is " +
        (stored.present ? "changed" : "missing") +
        " (outside cmdbd): deleted token, provenance and meta rows cannot be detected;"
        " GET /v1/transactions/verify reports it");
  } else {
    for (auto [table, s_d, f_d] : {std::tuple{"tokens", &stored.digests->tokens, &found.tokens},
                                   {"meta", &stored.digests->meta, &found.meta}}) {
      std::string why = DigestMismatch(*s_d, *f_d);
      if (!why.empty()) Log("store: the " + std::string(table) + " table of database '" + path_ + "': " + why);
    }
  }
  return Status::Ok();
}

Status SqliteStore::VerifyKeyedRows(ChainReport& report) {
  const char* kChanged = "its keyed check fails: the row was changed outside cmdbd";
  const char* kUnsigned = "it has no keyed check (mac is NULL): the row was added outside cmdbd";
  auto why = [&](const std::string& mac) { return mac.empty() ? kUnsigned : kChanged; };
  KeyedDigests found;
  {
    Stmt s(read_db_, "SELECT id, name, role, hash, created_at, revoked_at, mac FROM tokens ORDER BY id");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      std::string row = "id=" + std::to_string(s.Int(0)) + " name=" + s.Text(1);
      found.tokens.Add(s.Text(6));
      if (s.Text(6) != TokenMac(key_, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5))) {
        report.Add("tokens", row, why(s.Text(6)));
      } else if (std::string mismatch = TokenLogMismatch(read_db_, s.Int(0), s.Text(1), s.Text(2), s.Int(5));
                 !mismatch.empty()) {
        report.Add("tokens", row, mismatch);
      }
    }
  }
  {
    Stmt s(read_db_, "SELECT rel, id, source, last_seen, stale, owned, mac FROM provenance ORDER BY rel, id, source");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      found.provenance.Add(s.Text(6));
      if (s.Text(6) != ProvenanceMac(key_, s.Int(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4), s.Blob(5)))
        report.Add("provenance", ProvenanceRow(s.Int(0), s.Int(1), s.Text(2)), why(s.Text(6)));
    }
  }
  bool has_mode = false;
  {
    Stmt s(read_db_, "SELECT key, value, mac FROM meta WHERE key != 'key_check' ORDER BY key");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      has_mode = has_mode || s.Text(0) == "mode";
      if (s.Text(0) != kKeyedRows) found.meta.Add(s.Text(2));
      if (s.Text(2) != MetaMac(key_, s.Text(0), s.Text(1))) report.Add("meta", "key=" + s.Text(0), why(s.Text(2)));
    }
  }
  if (!has_mode) {
    Stmt logged(read_db_, "SELECT COUNT(*) FROM transactions");
    if (logged.ok() && logged.Step() == SQLITE_ROW && logged.Int(0) > 0) {
      report.Add("meta", "key=mode",
                 "it is missing, but the log holds " + std::to_string(logged.Int(0)) +
                     " transactions: it was deleted outside cmdbd");
    }
  }
  StoredDigests stored = ReadDigests(read_db_, key_);
  if (!stored.present) {
    report.Add("meta", "key=keyed_rows",
               "it is missing: it was deleted outside cmdbd (deleted token, provenance and meta rows can no longer"
               " be counted)");
  } else if (stored.valid) {  // a failing mac was reported with the meta rows above
    for (auto [table, s_d, f_d] : {std::tuple{"tokens", &stored.digests->tokens, &found.tokens},
                                   {"provenance", &stored.digests->provenance, &found.provenance},
                                   {"meta", &stored.digests->meta, &found.meta}}) {
      std::string mismatch = DigestMismatch(*s_d, *f_d);
      if (!mismatch.empty()) report.Add(table, "all rows", mismatch);
    }
  }
  return Status::Ok();
}

namespace {
const char* kTokenCols = "id, name, role, hash, created_at, revoked_at";
TokenRecord ReadToken(const Stmt& s) {
  TokenRecord t;
  t.id = s.Int(0);
  t.name = s.Text(1);
  t.role = ParseRole(s.Text(2)).value_or(Role::kReader);
  t.hash = s.Text(3);
  t.created_at = s.Int(4);
  t.revoked_at = s.Int(5);
  return t;
}
}  // namespace

Result<TokenRecord> SqliteStore::CreateToken(TokenRecord token) {
  std::lock_guard l(write_mu_);
  // The id is part of the row's mac: pick it inside the transaction (another process, the token
  // command beside a server, may insert too).
  CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
  auto insert = [&]() -> Status {
    // Never an id the log has records of (a row deleted by hand would free it): the new token
    // would inherit them.
    Stmt next(write_db_,
              "SELECT MAX((SELECT COALESCE(MAX(id), 0) FROM tokens),"
              " (SELECT COALESCE(MAX(id), 0) FROM doc_versions WHERE kind = 'token')) + 1");
    if (!next.ok() || next.Step() != SQLITE_ROW) return next.Error();
    token.id = next.Int(0);
    std::string role = RoleName(token.role);
    Stmt s(write_db_, "INSERT INTO tokens(id, name, role, hash, created_at, mac) VALUES (?, ?, ?, ?, ?, ?)");
    if (!s.ok()) return s.Error();
    s.Bind(1, token.id).Bind(2, token.name).Bind(3, role).Bind(4, token.hash).Bind(5, token.created_at);
    std::string mac = TokenMac(key_, token.id, token.name, role, token.hash, token.created_at, 0);
    s.Bind(6, mac);
    int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::Conflict("a token named '" + token.name + "' already exists");
    if (rc != SQLITE_DONE) return s.Error();
    CMDB_RETURN_IF_ERROR(UpdateDigests(write_db_, key_, [&](KeyedDigests& d) { d.tokens.Add(mac); }));
    return Exec(write_db_, "COMMIT");
  };
  Status st = insert();
  if (!st.ok()) {
    Exec(write_db_, "ROLLBACK");
    return st;
  }
  return token;
}

Result<std::vector<TokenRecord>> SqliteStore::ListTokens() {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kTokenCols + " FROM tokens ORDER BY id").c_str());
  if (!s.ok()) return s.Error();
  std::vector<TokenRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadToken(s));
  return out;
}

Status SqliteStore::RevokeToken(const std::string& name, int64_t now) {
  std::lock_guard l(write_mu_);
  CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
  auto revoke = [&]() -> Status {
    Stmt row(write_db_, "SELECT id, role, hash, created_at, mac FROM tokens WHERE name = ? AND revoked_at = 0");
    if (!row.ok()) return row.Error();
    row.Bind(1, name);
    if (row.Step() != SQLITE_ROW) return Status::NotFound("no valid token named '" + name + "'");
    // Re-signed as revoked: a row that failed its check before stays refused, now for good.
    Stmt s(write_db_, "UPDATE tokens SET revoked_at = ?, mac = ? WHERE id = ?");
    if (!s.ok()) return s.Error();
    std::string mac = TokenMac(key_, row.Int(0), name, row.Text(1), row.Text(2), row.Int(3), now);
    s.Bind(1, now).Bind(2, mac).Bind(3, row.Int(0));
    CMDB_RETURN_IF_ERROR(s.Run());
    CMDB_RETURN_IF_ERROR(UpdateDigests(write_db_, key_, [&](KeyedDigests& d) {
      d.tokens.Remove(row.Text(4));
      d.tokens.Add(mac);
    }));
    return Exec(write_db_, "COMMIT");
  };
  Status st = revoke();
  if (!st.ok()) Exec(write_db_, "ROLLBACK");
  return st;
}

Result<std::optional<TokenRecord>> SqliteStore::FindToken(const std::string& hash) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kTokenCols + ", mac, role FROM tokens WHERE hash = ? AND revoked_at = 0").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, hash);
  if (s.Step() != SQLITE_ROW) return std::optional<TokenRecord>();
  TokenRecord t = ReadToken(s);
  if (s.Text(6) != TokenMac(key_, t.id, t.name, s.Text(7), t.hash, t.created_at, t.revoked_at)) {
    if (reported_tokens_.insert(t.id).second) Log(FailingTokenLine(t.id, t.name));
    return std::optional<TokenRecord>();
  }
  // The row is one cmdbd wrote; it must also be the token's latest state in the log (a revoked
  // row's earlier copy has a valid mac too).
  if (std::string why = TokenLogMismatch(read_db_, t.id, t.name, s.Text(7), t.revoked_at); !why.empty()) {
    if (reported_tokens_.insert(t.id).second) Log(TokenLogLine(t.id, t.name, why));
    return std::optional<TokenRecord>();
  }
  return std::optional<TokenRecord>(std::move(t));
}

}  // namespace cmdb
