// Starts the real cmdbd binary as a child process on an ephemeral port, for integration tests.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cmdb::testing {

// A fresh folder for one test's database.
inline std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cmdb_it_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

class ServerProcess {
 public:
  // Starts cmdbd on `db_path` with extra flags; waits until it listens.
  ServerProcess(const std::string& db_path, std::vector<std::string> extra = {}) {
    port_file_ = db_path + ".port";
    token_file_ = db_path + ".admin-token";
    log_file_ = db_path + ".log";
    std::filesystem::remove(port_file_);
    std::vector<std::string> args = {CMDBD_PATH, "--db", db_path, "--listen", "127.0.0.1:0",
                                     "--port-file", port_file_, "--schema", std::string(CMDB_SOURCE_DIR) + "/schema",
                                     "--threads", "4", "--admin-token-file", token_file_};
    args.insert(args.end(), extra.begin(), extra.end());
    // cpp-httplib's client writes without MSG_NOSIGNAL: a server that closes a connection while a
    // request is being sent must fail that request, not kill the test binary.
    ::signal(SIGPIPE, SIG_IGN);
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* log = std::fopen(log_file_.c_str(), "a");
      ::dup2(fileno(log), 1);
      ::dup2(fileno(log), 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 600; ++i) {  // up to 60 s (a bulk demo load on a slow CI machine)
      std::ifstream in(port_file_);
      if (in >> port_) {
        std::ifstream token(token_file_);
        token >> token_;
        return;
      }
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("cmdbd exited during start-up; log: " + Log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("cmdbd did not start listening; log: " + Log());
  }
  ~ServerProcess() {
    if (pid_ > 0) Kill();
  }

  int port() const { return port_; }
  // The cmdbd process id (-1 once stopped).
  pid_t pid() const { return pid_; }
  // The admin token created on the database's first start (kept across restarts).
  const std::string& token() const { return token_; }
  // A client that sends the admin token.
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_bearer_token_auth(token_.c_str());
    c.set_read_timeout(60, 0);
    c.set_write_timeout(60, 0);
    return c;
  }
  // SIGTERM and wait; returns the exit status.
  int Stop() { return Signal(SIGTERM); }
  // SIGKILL and wait.
  void Kill() { Signal(SIGKILL); }
  std::string Log() const {
    std::ifstream in(log_file_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  int Signal(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string port_file_, log_file_, token_file_;
  std::string token_;
};

}  // namespace cmdb::testing
