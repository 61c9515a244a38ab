#include "shell/repl.hpp"

#include <editline/readline.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include "shell/completion.hpp"

namespace cmdb::shell {

namespace {

// Completion state: libedit's hooks are plain functions, so they reach the session through here.
struct CompletionContext {
  Session* session = nullptr;
  SchemaWords schema;
  std::vector<std::string> candidates;
  size_t next = 0;
};
CompletionContext* g_completion = nullptr;
volatile std::sig_atomic_t g_interrupted = 0;
int g_interrupt_pipe[2] = {-1, -1};
HttpClient* g_client = nullptr;
constexpr uint64_t kWatcherStop = UINT64_MAX;

// Ctrl-C: at the prompt the line editor returns and the statement is dropped; while a statement
// runs, the watcher thread (woken through the pipe with the number of the call then in progress)
// stops the wait for its answer, if that call still runs.
void OnInterrupt(int) {
  g_interrupted = 1;
  if (g_interrupt_pipe[1] >= 0 && g_client) {
    uint64_t call = g_client->CallNumber();
    ssize_t ignored = write(g_interrupt_pipe[1], &call, sizeof call);
    (void)ignored;
  }
}

char* NextCandidate(const char*, int state) {
  if (state == 0) g_completion->next = 0;
  if (g_completion->next >= g_completion->candidates.size()) return nullptr;
  return strdup(g_completion->candidates[g_completion->next++].c_str());
}

char** CompleteHook(const char* text, int start, int) {
  rl_attempted_completion_over = 1;  // no file names
  std::vector<std::string> params;
  for (const auto& [k, v] : g_completion->session->params()) params.push_back(k);
  std::string line = rl_line_buffer ? rl_line_buffer : "";
  g_completion->candidates =
      Complete(line, static_cast<size_t>(start), text, g_completion->session->AtStatementStart(),
               g_completion->schema, params);
  if (g_completion->candidates.empty()) return nullptr;
  // A name inside a pattern or after '.' is usually followed by ')', ']', '-' or an operator:
  // no space after it; a keyword gets one.
  char before = start > 0 && static_cast<size_t>(start) <= line.size() ? line[start - 1] : '\0';
  bool command = before == ':' && g_completion->session->AtStatementStart() &&
                 line.find_first_not_of(" \t") == static_cast<size_t>(start - 1);
  bool name = before == ':' || before == '.' || before == '|' || before == '$';
  rl_completion_append_character = name && !command ? '\0' : ' ';
  return rl_completion_matches(text, NextCandidate);
}

}  // namespace

int RunInteractive(HttpClient& client, Session& session, const std::string& history_path,
                   bool quiet) {
  CompletionContext completion;
  completion.session = &session;
  auto read_schema = [&] {
    HttpAnswer a;
    std::string ignored;
    if (client.Call("GET", "/v1/schema", "", "", &a, &ignored, 10) && a.status == 200)
      completion.schema = SchemaWordsFrom(Json::parse(a.body, nullptr, false));
  };
  read_schema();
  std::string error;
  if (!quiet) {
    std::cout << "cmdb shell on " << client.url();
    HttpAnswer h;
    if (client.Call("GET", "/healthz", "", "", &h, &error, 10) && h.status == 200) {
      Json health = Json::parse(h.body, nullptr, false);
      if (health.is_object())
        std::cout << " (" << health.value("cis", Json(0)).dump() << " CIs, tx "
                  << health.value("tx", Json(0)).dump() << ")";
    } else if (!error.empty()) {
      std::cout << " (" << error << ")";
    }
    std::cout << ". Statements end with ';'. :help for help, :quit to leave." << std::endl;
  }
  g_completion = &completion;
  rl_readline_name = "cmdb";
  rl_attempted_completion_function = CompleteHook;
  rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{(:[.,)]}+-*/%^!";
  using_history();
  stifle_history(2000);
  if (!history_path.empty()) read_history(history_path.c_str());

  std::thread watcher;
  if (pipe(g_interrupt_pipe) == 0) {
    fcntl(g_interrupt_pipe[1], F_SETFL, O_NONBLOCK);
    // The watcher never takes SIGINT itself (the line editor's thread must see it).
    sigset_t block, previous;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &previous);
    g_client = &client;
    watcher = std::thread([&client] {
      uint64_t call;
      while (true) {
        ssize_t n = read(g_interrupt_pipe[0], &call, sizeof call);
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof call) || call == kWatcherStop) break;
        client.Interrupt(call);
      }
    });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the read returns, the line is dropped
  struct sigaction old_sa {};
  sigaction(SIGINT, &sa, &old_sa);

  std::string entry;  // the lines of the statement being typed, for the history
  while (true) {
    g_interrupted = 0;
    std::string prompt = session.Prompt();
    char* raw = readline(prompt.c_str());
    if (g_interrupted) {
      if (raw) free(raw);
      std::cout << std::endl;
      session.DiscardPending();
      entry.clear();
      continue;
    }
    if (!raw) {  // Ctrl-D
      std::cout << std::endl;
      break;
    }
    std::string line = raw;
    free(raw);
    if (entry.empty() && line.find_first_not_of(" \t") == std::string::npos) continue;
    entry += (entry.empty() ? "" : "\n") + line;
    bool go_on = session.FeedLine(line);
    if (session.TakeSchemaChanged()) read_schema();  // new classes and attributes complete too
    if (session.AtStatementStart()) {
      add_history(entry.c_str());
      if (!history_path.empty()) write_history(history_path.c_str());
      entry.clear();
    }
    if (!go_on) break;
  }
  sigaction(SIGINT, &old_sa, nullptr);
  if (watcher.joinable()) {
    uint64_t stop = kWatcherStop;
    ssize_t ignored = write(g_interrupt_pipe[1], &stop, sizeof stop);
    (void)ignored;
    watcher.join();
    close(g_interrupt_pipe[0]);
    close(g_interrupt_pipe[1]);
    g_interrupt_pipe[0] = g_interrupt_pipe[1] = -1;
    g_client = nullptr;
  }
  if (!history_path.empty()) write_history(history_path.c_str());
  g_completion = nullptr;
  return kExitOk;
}

}  // namespace cmdb::shell
