// The sub-commands for everyday jobs: impact, import, baseline diff, change show. Each talks to
// the server over `client`, prints to `out` (results) and `err` (errors) and returns an exit code
// (session.hpp).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "shell/http_client.hpp"
#include "shell/render.hpp"

namespace cmdb::shell {

// How a sub-command prints.
struct CommandOutput {
  Format format = Format::kTable;
  TableStyle style;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

// cmdb impact CI...: the impact of losing the CIs (ids, or names resolved by a query) through
// POST /v1/impact. `direction` is "impacted" or "depends_on", `max_depth` 0 for the server's
// default; `dot` prints the Graphviz picture instead of rows; `paths` adds each CI's path.
struct ImpactArgs {
  std::vector<std::string> cis;
  std::string direction = "impacted";
  int max_depth = 0;
  std::vector<std::string> types, classes;
  bool dot = false;
  bool paths = false;
};
int ImpactCommand(HttpClient& client, const ImpactArgs& args, const CommandOutput& o);

// cmdb import FORMAT FILE: sends FILE ('-': standard input) to POST /v1/imports and prints the
// report (a dry run also lists what it would change).
struct ImportArgs {
  std::string format, file, source, mapping, mapping_file, change, cluster, account, region;
  bool dry_run = false;
  bool full = false;
};
int ImportCommand(HttpClient& client, const ImportArgs& args, const CommandOutput& o);

// cmdb baseline diff A [B]: baseline A against B, which is another baseline's name, "now" (the
// default) or an ISO-8601 time; every entry (all pages of GET /v1/baselines/A/diff).
struct DiffArgs {
  std::string baseline, against;
  bool include_new = false;
};
int BaselineDiffCommand(HttpClient& client, const DiffArgs& args, const CommandOutput& o);

// cmdb change show ID: a change record (1 or CHG-1) with its state, affected CIs (named),
// latest assessment and journal, from GET /v1/changes/{id}.
int ChangeShowCommand(HttpClient& client, const std::string& id, const CommandOutput& o);

}  // namespace cmdb::shell
