// Where the shell finds its server and token: flags, then the environment, then a config file.
#pragma once

#include <map>
#include <string>

namespace cmdb::shell {

// The settings one source gives; empty strings are unset.
struct Settings {
  std::string url, token, token_file, format, history, width;
};

// Reads a config file: `key = value` lines (url, token, token_file, format, history, width),
// '#' comments, blank lines; values may be quoted with "..." . True and *out filled, or false
// with the reason ("FILE line 3: unknown key 'tokn' (url, token, ...)") in *error. `*warning`
// is set when the file holds a token and others than its owner may read it.
bool ReadConfigFile(const std::string& path, Settings* out, std::string* error,
                    std::string* warning);

// The config file to read: `flag` (--config), else $CMDB_CONFIG, else
// $XDG_CONFIG_HOME/cmdb/config, else ~/.config/cmdb/config. *explicit_path: it was named, so
// its absence is an error.
std::string ConfigPath(const std::string& flag, bool* explicit_path);

// `path` with a leading "~/" replaced by $HOME.
std::string ExpandHome(const std::string& path);

// Reads the first word of a token file; false with the reason in *error.
bool ReadTokenFile(const std::string& path, std::string* token, std::string* error);

}  // namespace cmdb::shell
