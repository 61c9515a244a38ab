#include "shell/config.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cmdb::shell {

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string ExpandHome(const std::string& path) {
  if (path.rfind("~/", 0) == 0 && std::getenv("HOME"))
    return std::string(std::getenv("HOME")) + path.substr(1);
  return path;
}

std::string ConfigPath(const std::string& flag, bool* explicit_path) {
  *explicit_path = true;
  if (!flag.empty()) return ExpandHome(flag);
  if (const char* env = std::getenv("CMDB_CONFIG"); env && *env) return ExpandHome(env);
  *explicit_path = false;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::string(xdg) + "/cmdb/config";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.config/cmdb/config";
  return "";
}

bool ReadConfigFile(const std::string& path, Settings* out, std::string* error,
                    std::string* warning) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read the config file " + path;
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      *error = path + " line " + std::to_string(n) + ": expected key = value";
      return false;
    }
    std::string key = Trim(t.substr(0, eq)), value = Trim(t.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (key == "url")
      out->url = value;
    else if (key == "token")
      out->token = value;
    else if (key == "token_file")
      out->token_file = ExpandHome(value);
    else if (key == "format")
      out->format = value;
    else if (key == "history")
      out->history = ExpandHome(value);
    else if (key == "width")
      out->width = value;
    else {
      *error = path + " line " + std::to_string(n) + ": unknown key '" + key +
               "' (url, token, token_file, format, history, width)";
      return false;
    }
  }
  struct stat st {};
  if (!out->token.empty() && stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
    *warning = path + " holds a token and others may read it (chmod 600 " + path + ")";
  return true;
}

bool ReadTokenFile(const std::string& path, std::string* token, std::string* error) {
  std::ifstream in(path);
  if (!in || !(in >> *token)) {
    *error = "cannot read a token from " + path;
    return false;
  }
  return true;
}

}  // namespace cmdb::shell
