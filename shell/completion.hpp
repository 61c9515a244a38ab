// Tab completion for the interactive shell: keywords and functions of the query language, shell
// commands, and the classes, attributes and relationship types of the server's schema.
#pragma once

#include <string>
#include <vector>

#include "shell/render.hpp"

namespace cmdb::shell {

// The names completion offers from the schema (GET /v1/schema), each list sorted and unique.
struct SchemaWords {
  std::vector<std::string> classes;
  std::vector<std::string> attributes;  // of every class and relationship type
  std::vector<std::string> rel_types;
};

// The names in a GET /v1/schema answer; empty lists for anything it lacks.
SchemaWords SchemaWordsFrom(const Json& schema);

// The candidates for the word `text` that starts at byte `start` of `line` (the line being
// edited): after ':' at the start of a statement, shell commands; after ':' inside '[...]' or
// after '|' there, relationship types; after another ':', classes; after '.', attributes; after
// '$', parameter names; otherwise keywords and functions. Keywords come in upper case, or in
// lower case when `text` is typed in lower case. `statement_start`: no statement is pending, so
// the line may be a shell command.
std::vector<std::string> Complete(const std::string& line, size_t start, const std::string& text,
                                  bool statement_start, const SchemaWords& schema,
                                  const std::vector<std::string>& params);

}  // namespace cmdb::shell
