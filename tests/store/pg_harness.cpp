#include "store/pg_harness.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace cmdb::testing {

namespace {

// Runs `cmd` through the shell; its standard output (trimmed) and exit status.
std::pair<std::string, int> Run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {"", -1};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool Installed() { return ::access("/usr/lib/postgresql/15/bin/initdb", X_OK) == 0; }

}  // namespace

std::string PgServer::Script() { return std::string(CMDB_SOURCE_DIR) + "/tests/pg/start_pg.sh"; }

std::string PgServer::SkipReason() {
  return "PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin/initdb missing; "
         "apt-get install postgresql-15, or scripts/setup.sh): PostgreSQL store tests skipped";
}

PgServer* PgServer::Get() {
  static std::unique_ptr<PgServer> server;
  if (server) return server.get();
  if (!Installed()) return nullptr;
  char tmpl[] = "/tmp/cmdb_pg_test.XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("cannot create a temporary directory");
  auto [url, rc] = Run(Quote(Script()) + " start " + Quote(tmpl) + " 2>&1");
  if (rc != 0)
    throw std::runtime_error("cannot start PostgreSQL in " + std::string(tmpl) + ": " + url);
  server.reset(new PgServer());
  server->dir_ = tmpl;
  return server.get();
}

std::string PgServer::NewDatabase(const std::string& prefix) {
  std::string name = prefix + "_" + std::to_string(++next_);
  auto [url, rc] = Run(Quote(Script()) + " createdb " + Quote(dir_) + " " + Quote(name) + " 2>&1");
  if (rc != 0) throw std::runtime_error("cannot create database " + name + ": " + url);
  return url;
}

void PgServer::Sql(const std::string& url, const std::string& sql) {
  auto [out, rc] = Run("psql -q -v ON_ERROR_STOP=1 " + Quote(url) + " -c " + Quote(sql) + " 2>&1");
  if (rc != 0) throw std::runtime_error("psql failed on '" + sql + "': " + out);
}

PgServer::~PgServer() { Run(Quote(Script()) + " stop " + Quote(dir_) + " 2>&1"); }

}  // namespace cmdb::testing
