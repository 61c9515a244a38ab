// A shell session: runs statements against the server with the session's parameters, AS OF
// setting and output format, and the shell's own commands (":param", ":asof", ":help", ...).
// The same for interactive input, -c, -f and standard input.
#pragma once

#include <iosfwd>
#include <map>
#include <string>

#include "shell/http_client.hpp"
#include "shell/render.hpp"
#include "shell/statements.hpp"

namespace cmdb::shell {

// Exit codes of the cmdb command (docs/shell.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,        // the server refused a statement or request (4xx but 401/403, 5xx)
  kExitUsage = 2,         // bad option or argument, unreadable file, unknown shell command
  kExitUnreachable = 3,   // no answer from the server (connection, TLS, timeout)
  kExitUnauthorized = 4,  // 401 or 403: no valid token, or the role may not do it
};

// The exit code an HTTP status stands for (kExitOk for 2xx).
int ExitCodeForStatus(int status);

// How a session prints and behaves.
struct SessionOptions {
  Format format = Format::kTable;
  TableStyle style;          // max_width -1: the terminal's width at each answer
  bool timing = false;       // show the server's time per statement in the footer
  long long timeout_ms = 0;  // the server stops a statement past it (0: the server's limit)
  bool fail_fast = true;     // stop at the first failing statement (non-interactive input)
  bool interactive = false;  // a person at a terminal: errors never stop the session
  std::string where;         // the input's name in error positions ("queries.gql, "), or ""
};

// Reads "NAME => EXPR" (or "NAME: EXPR"; NAME an identifier or `quoted`): true with the name
// and the offset of EXPR in `text`.
bool ParseParamAssignment(const std::string& text, std::string* name, size_t* expr_offset);

// Not thread-safe. `client`, `out` (results) and `err` (errors, notes) outlive the session.
class Session {
 public:
  Session(HttpClient& client, SessionOptions options, std::ostream& out, std::ostream& err);

  // Feeds one input line (without its '\n'): runs each statement it completes and, when no
  // statement is pending, a shell command (a line starting with ':'). False when the session
  // should stop (":quit", or a failure with fail_fast and not interactive).
  bool FeedLine(const std::string& line);

  // A new input begins (a -c text, a -f file): positions count from its line 1, errors name it
  // with `where` ("queries.gql, " or "").
  void BeginInput(const std::string& where) {
    scanner_ = StatementScanner();
    options_.where = where;
  }

  // The input ended: runs a last statement that lacks its ';' (not in interactive mode, where
  // it is dropped). False as FeedLine.
  bool Finish();

  // True when no statement is pending (the prompt is the first one, not the continuation).
  bool AtStatementStart() const { return scanner_.Blank(); }

  // Drops a half-typed statement (Ctrl-C at the prompt).
  void DiscardPending() { scanner_.Discard(); }

  // Sets a parameter from an expression the server evaluates (`RETURN <expr>`), as
  // ":param name => expr" does. False (and the error printed) when it fails; an error's position
  // counts from `line` and `column`, where the expression starts in the input.
  bool SetParam(const std::string& name, const std::string& expr, int line = 1, int column = 1);

  // The prompt: "cmdb> ", or "cmdb[AS OF 42]> " under :asof; the continuation prompt has the
  // same width.
  std::string Prompt() const;

  // The first failure's exit code, kExitOk when nothing failed.
  int exit_code() const { return exit_code_; }

  // True once after a statement changed the schema (DDL), so completion reads it again.
  bool TakeSchemaChanged() {
    bool changed = schema_changed_;
    schema_changed_ = false;
    return changed;
  }

  // The parameters set so far, by name (sent with every statement).
  const std::map<std::string, Json>& params() const { return params_; }

 private:
  bool RunStatement(const Statement& s, bool force_explain);
  // Runs a shell command: `line` as typed, `line_no` its line in the input.
  bool Command(const std::string& line, int line_no);
  bool Fail(int code);
  void PrintAnswer(const Json& answer);
  // Sends a query; true with the parsed answer, else the error printed with `place`.
  bool Query(const std::string& text, const ErrorPlace& place, Json* answer);

  HttpClient& client_;
  SessionOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  StatementScanner scanner_;
  std::map<std::string, Json> params_;
  std::string as_of_;  // the AS OF expression (42 or '2026-11-01T00:00:00Z'), or empty
  int exit_code_ = kExitOk;
  bool quit_ = false;
  bool schema_changed_ = false;
};

}  // namespace cmdb::shell
