// The interactive shell on a terminal: line editing, history and completion with libedit.
#pragma once

#include <string>

#include "shell/http_client.hpp"
#include "shell/session.hpp"

namespace cmdb::shell {

// Reads lines from the terminal with libedit until :quit or Ctrl-D and feeds them to `session`.
// The history is read from and saved to `history_path` (no history when empty); completion
// reads the schema from the server at start and after a statement that changed it (DDL). Ctrl-C
// drops the statement being typed, or stops waiting for the answer of the one running (the server
// may still finish it). Returns the exit code (kExitOk: the shell ends normally whatever statements
// failed).
int RunInteractive(HttpClient& client, Session& session, const std::string& history_path,
                   bool quiet);

}  // namespace cmdb::shell
