// cmdb: the command-line client of cmdbd. An interactive shell (libedit), statements from -c, -f
// or standard input, and sub-commands for everyday jobs; it talks to the server over HTTP only.
// The manual: docs/shell.md.
#include <langinfo.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "shell/commands.hpp"
#include "shell/config.hpp"
#include "shell/http_client.hpp"
#include "shell/repl.hpp"
#include "shell/session.hpp"

#ifndef CMDB_VERSION
#define CMDB_VERSION "unknown"
#endif

namespace {

using namespace cmdb::shell;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

// Feeds a whole text to the session line by line; false when the session stopped.
bool FeedText(Session& session, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!session.FeedLine(line)) return false;
  return session.Finish();
}

bool ParseWidth(const std::string& text, int* width) {
  if (text == "auto")
    *width = -1;
  else if (text == "off" || text == "0")
    *width = 0;
  else if (!text.empty() && text.size() < 6 &&
           text.find_first_not_of("0123456789") == std::string::npos)
    *width = std::max(20, std::stoi(text));
  else
    return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_CTYPE, "");
  CLI::App app{"cmdb - the command-line client of cmdbd (docs/shell.md)", "cmdb"};
  app.set_version_flag("--version", std::string("cmdb ") + CMDB_VERSION);
  std::string url, token, token_file, config_flag, format_text, width_text;
  std::vector<std::string> commands, files, params;
  bool insecure = false, fail_at_end = false, timing = false, quiet = false;
  app.add_option(
      "--url", url,
      "the server, http[s]://HOST[:PORT] (else $CMDB_URL, the config file, http://127.0.0.1:8080)");
  auto* token_opt =
      app.add_option("--token", token, "the API token (else $CMDB_TOKEN, the config file)");
  app.add_option("--token-file", token_file, "read the token from a file")->excludes(token_opt);
  app.add_option("--config", config_flag,
                 "the config file (else $CMDB_CONFIG, ~/.config/cmdb/config)");
  app.add_flag("--insecure-tls", insecure, "do not check the server's TLS certificate");
  auto* c_opt = app.add_option("-c,--command", commands,
                               "run these statements and shell commands, then exit (repeatable)")
                    ->allow_extra_args(false);
  auto* f_opt =
      app.add_option("-f,--file", files,
                     "run the statements of a file ('-': standard input), then exit (repeatable)")
          ->allow_extra_args(false);
  app.add_option("-F,--format", format_text, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  app.add_option("-P,--param", params, "a parameter, 'NAME => EXPR' (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--width", width_text, "cut tables to N columns, auto (the terminal's) or off");
  app.add_flag("--fail-at-end", fail_at_end,
               "run every statement even after one failed (exit code: the first failure's)");
  app.add_flag("--timing", timing, "show the server's time per statement");
  long long timeout_ms = 0;
  app.add_option("--timeout", timeout_ms,
                 "the server stops a statement after this many milliseconds")
      ->check(CLI::Range(1LL, 86'400'000LL));
  app.add_flag("-q,--quiet", quiet, "no greeting in the interactive shell");
  app.fallthrough();
  app.require_subcommand(0, 1);

  ImpactArgs impact;
  auto* impact_cmd = app.add_subcommand("impact", "what losing CIs takes down (POST /v1/impact)");
  impact_cmd->add_option("ci", impact.cis, "CI ids or names")->required();
  impact_cmd->add_option("--direction", impact.direction, "impacted (default) or depends_on")
      ->check(CLI::IsMember({"impacted", "depends_on"}));
  impact_cmd->add_option("--depth", impact.max_depth, "the deepest distance to follow")
      ->check(CLI::Range(1, 1000));
  impact_cmd->add_option("--type", impact.types, "only these relationship types (repeatable)")
      ->allow_extra_args(false);
  impact_cmd->add_option("--class", impact.classes, "only CIs of these classes (repeatable)")
      ->allow_extra_args(false);
  impact_cmd->add_flag("--paths", impact.paths, "add how the failure reaches each CI");
  impact_cmd->add_flag("--dot", impact.dot, "print a Graphviz picture instead");

  ImportArgs import;
  auto* import_cmd = app.add_subcommand("import", "send a discovery file to POST /v1/imports");
  import_cmd
      ->add_option("format", import.format,
                   "ndjson, csv, nmap, kubernetes, terraform, ansible or aws")
      ->required();
  import_cmd->add_option("file", import.file, "the file ('-': standard input)")->required();
  import_cmd->add_flag("--dry-run", import.dry_run, "show what would change; apply nothing");
  import_cmd->add_option("--source", import.source, "the source's name (default: the format)");
  import_cmd->add_flag("--full", import.full,
                       "a full scan: what the source no longer reports goes stale");
  auto* mapping_opt = import_cmd->add_option("--mapping", import.mapping,
                                             "CSV: a mapping of the server's schema/mappings");
  import_cmd->add_option("--mapping-file", import.mapping_file, "CSV: a mapping file of yours")
      ->excludes(mapping_opt);
  import_cmd->add_option("--change", import.change, "the change the import belongs to (CHG-12)");
  import_cmd->add_option("--cluster", import.cluster,
                         "Kubernetes: the cluster the objects belong to (default: the source)");
  import_cmd->add_option("--account", import.account,
                         "AWS: the account of records that name none (a classic ELB list)");
  import_cmd->add_option("--region", import.region,
                         "AWS: the region of records that name none (describe-vpcs)");

  DiffArgs diff;
  auto* baseline_cmd = app.add_subcommand("baseline", "baselines");
  baseline_cmd->require_subcommand(1);
  auto* diff_cmd = baseline_cmd->add_subcommand(
      "diff", "baseline A against B: another baseline, now (default) or a time");
  diff_cmd->add_option("a", diff.baseline, "the baseline")->required();
  diff_cmd->add_option("b", diff.against, "a baseline, now, or an ISO-8601 time");
  diff_cmd->add_flag("--include-new", diff.include_new,
                     "also CIs the scope selects now that were not there");

  std::string change_id;
  auto* change_cmd = app.add_subcommand("change", "change records");
  change_cmd->require_subcommand(1);
  auto* show_cmd = change_cmd->add_subcommand("show", "a change with its assessment and journal");
  show_cmd->add_option("id", change_id, "42 or CHG-42")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  auto die = [](const std::string& msg, int code) {
    std::cerr << "cmdb: " << msg << std::endl;
    return code;
  };

  // Settings: flags, then the environment, then the config file, then the defaults.
  bool explicit_config = false;
  std::string config_path = ConfigPath(config_flag, &explicit_config);
  Settings file;
  if (!config_path.empty() && (explicit_config || access(config_path.c_str(), F_OK) == 0)) {
    std::string error, warning;
    if (!ReadConfigFile(config_path, &file, &error, &warning)) return die(error, kExitUsage);
    if (!warning.empty()) std::cerr << "cmdb: warning: " << warning << std::endl;
  }
  if (url.empty())
    url = Env("CMDB_URL")     ? Env("CMDB_URL")
          : !file.url.empty() ? file.url
                              : "http://127.0.0.1:8080";
  std::string error;
  if (!token_file.empty()) {
    if (!ReadTokenFile(ExpandHome(token_file), &token, &error)) return die(error, kExitUsage);
  } else if (token.empty()) {
    if (Env("CMDB_TOKEN"))
      token = Env("CMDB_TOKEN");
    else if (!file.token.empty())
      token = file.token;
    else if (!file.token_file.empty() && !ReadTokenFile(file.token_file, &token, &error))
      return die(error, kExitUsage);
  }
  // A token goes into a header: printable ASCII only (a stray line break would end the header).
  if (std::any_of(token.begin(), token.end(), [](char c) { return c < 0x21 || c > 0x7e; }))
    return die("the token holds a space, a line break or another character tokens do not have",
               kExitUsage);
  SessionOptions options;
  if (format_text.empty()) format_text = file.format.empty() ? "table" : file.format;
  if (!ParseFormat(format_text, &options.format))
    return die("format must be table, csv or json, not '" + format_text + "'", kExitUsage);
  if (width_text.empty()) width_text = file.width.empty() ? "auto" : file.width;
  if (!ParseWidth(width_text, &options.style.max_width))
    return die("width must be a number of columns, auto or off, not '" + width_text + "'",
               kExitUsage);
  const char* codeset = nl_langinfo(CODESET);
  options.style.unicode = codeset && std::strcmp(codeset, "UTF-8") == 0;
  options.timing = timing;
  options.timeout_ms = timeout_ms;
  options.fail_fast = !fail_at_end;

  HttpClient client(url, token, insecure);
  if (!client.Invalid().empty()) return die(client.Invalid(), kExitUsage);

  CommandOutput out{options.format, options.style, &std::cout, &std::cerr};
  if (out.style.max_width < 0) out.style.max_width = 0;  // sub-commands: cut only when asked
  if (*impact_cmd) return ImpactCommand(client, impact, out);
  if (*import_cmd) return ImportCommand(client, import, out);
  if (*diff_cmd) return BaselineDiffCommand(client, diff, out);
  if (*show_cmd) return ChangeShowCommand(client, change_id, out);

  bool interactive = commands.empty() && files.empty() && isatty(STDIN_FILENO);
  options.interactive = interactive;
  Session session(client, options, std::cout, std::cerr);
  for (const auto& p : params) {
    std::string name;
    size_t at = 0;
    if (!ParseParamAssignment(p, &name, &at))
      return die("--param expects 'NAME => EXPR', not '" + p + "'", kExitUsage);
    if (!session.SetParam(name, p.substr(at), 1, static_cast<int>(at) + 1))
      return session.exit_code();
  }
  if (interactive) {
    std::string history = Env("CMDB_HISTORY") ? Env("CMDB_HISTORY") : file.history;
    if (history.empty()) history = ExpandHome("~/.cmdb_history");
    if (history == "off") history.clear();
    return RunInteractive(client, session, history, quiet);
  }
  if (commands.empty() &&
      files.empty()) {  // standard input is not a terminal: read statements from it
    std::string line;
    bool go_on = true;
    while (go_on && std::getline(std::cin, line)) go_on = session.FeedLine(line);
    if (go_on) session.Finish();
    return session.exit_code();
  }
  // -c and -f in the order given.
  size_t next_c = 0, next_f = 0;
  for (CLI::Option* opt : app.parse_order()) {
    bool go_on = true;
    if (opt == c_opt && next_c < commands.size()) {
      session.BeginInput("");
      go_on = FeedText(session, commands[next_c++]);
    } else if (opt == f_opt && next_f < files.size()) {
      const std::string& path = files[next_f++];
      std::string text;
      if (path == "-") {
        std::stringstream s;
        s << std::cin.rdbuf();
        text = s.str();
      } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) return die("cannot read " + path, kExitUsage);
        std::stringstream s;
        s << in.rdbuf();
        text = s.str();
      }
      session.BeginInput(path == "-" ? "" : path + ", ");
      go_on = FeedText(session, text);
    }
    if (!go_on) break;
  }
  return session.exit_code();
}
