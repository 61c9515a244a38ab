// A real PostgreSQL 15 for the tests of this process (tests/pg/start_pg.sh): started on first use
// in a temporary directory (as the unprivileged user `nobody` when the tests run as root, on a
// unix socket in that directory only), one fresh database per caller, stopped and deleted when
// the process exits. Tests skip (with the reason) only when the PostgreSQL 15 binaries are absent.
// Thread safety: call from the test thread only.
#pragma once

#include <string>

namespace cmdb::testing {

class PgServer {
 public:
  // The server of this process, started on the first call; nullptr when PostgreSQL 15 is not
  // installed (SkipReason() says so). Fails the calling test (throws) when it is installed but
  // cannot start.
  static PgServer* Get();
  // Why Get() returned nullptr.
  static std::string SkipReason();
  // Creates an empty database named `<prefix>_<n>` and returns its URL
  // (postgresql://cmdb@/<db>?host=<dir>&port=<port>).
  std::string NewDatabase(const std::string& prefix);
  // Runs SQL on the database at `url` with psql (tests that alter rows behind the store's back).
  static void Sql(const std::string& url, const std::string& sql);
  // The script's directory (for tests that start their own server).
  static std::string Script();

  ~PgServer();

 private:
  PgServer() = default;
  std::string dir_;
  int next_ = 0;
};

}  // namespace cmdb::testing
