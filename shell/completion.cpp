#include "shell/completion.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace cmdb::shell {

namespace {

const char* const kKeywords[] = {
    "MATCH",  "OPTIONAL",  "WHERE",    "RETURN",     "WITH",     "UNWIND", "ORDER",    "BY",
    "ASC",    "ASCENDING", "DESC",     "DESCENDING", "SKIP",     "OFFSET", "LIMIT",    "CREATE",
    "INSERT", "MERGE",     "ON",       "DELETE",     "DETACH",   "SET",    "REMOVE",   "CALL",
    "YIELD",  "UNION",     "ALL",      "ANY",        "NONE",     "SINGLE", "DISTINCT", "AS",
    "OF",     "USE",       "BASELINE", "EXPLAIN",    "PROFILE",  "AND",    "OR",       "XOR",
    "NOT",    "IN",        "STARTS",   "ENDS",       "CONTAINS", "IS",     "NULL",     "TRUE",
    "FALSE",  "CASE",      "WHEN",     "THEN",       "ELSE",     "END",    "EXISTS",   "NODE",
    "EDGE",   "TYPE",      "ALTER",    "DROP",       "ADD"};

const char* const kFunctions[] = {"abs",
                                  "acos",
                                  "asin",
                                  "atan",
                                  "atan2",
                                  "avg",
                                  "ceil",
                                  "coalesce",
                                  "collect",
                                  "cos",
                                  "count",
                                  "degrees",
                                  "e",
                                  "endNode",
                                  "exp",
                                  "floor",
                                  "head",
                                  "id",
                                  "impact",
                                  "keys",
                                  "labels",
                                  "last",
                                  "left",
                                  "length",
                                  "log",
                                  "log10",
                                  "ltrim",
                                  "max",
                                  "min",
                                  "nodes",
                                  "percentileCont",
                                  "percentileDisc",
                                  "pi",
                                  "properties",
                                  "radians",
                                  "rand",
                                  "range",
                                  "relationships",
                                  "replace",
                                  "reverse",
                                  "right",
                                  "round",
                                  "rtrim",
                                  "sign",
                                  "sin",
                                  "size",
                                  "split",
                                  "sqrt",
                                  "startNode",
                                  "stDev",
                                  "stDevP",
                                  "substring",
                                  "sum",
                                  "tail",
                                  "tan",
                                  "timestamp",
                                  "toBoolean",
                                  "toFloat",
                                  "toInteger",
                                  "toLower",
                                  "toString",
                                  "toUpper",
                                  "trim",
                                  "type"};

// Functions and procedures in a namespace, completed after "namespace.".
const char* const kNamespaced[] = {
    "cmdb.class",           "cmdb.created_at",        "cmdb.created_tx",    "cmdb.id",
    "cmdb.impact",          "cmdb.last_seen",         "cmdb.provenance",    "cmdb.retired",
    "cmdb.sources",         "cmdb.updated_at",        "cmdb.updated_tx",    "cmdb.version",
    "date.truncate",        "datetime.truncate",      "db.labels",          "db.propertyKeys",
    "db.relationshipTypes", "duration.between",       "duration.inDays",    "duration.inMonths",
    "duration.inSeconds",   "localdatetime.truncate", "localtime.truncate", "time.truncate"};

const char* const kCommands[] = {"help", "quit",   "exit",  "param",  "params", "explain",
                                 "asof", "format", "width", "timing", "timeout"};

bool StartsWithNoCase(const std::string& word, const std::string& prefix) {
  if (word.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(word[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

void Sorted(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// True when the innermost bracket open before `pos` is '['.
bool InsideSquare(const std::string& line, size_t pos) {
  std::vector<char> open;
  char quote = 0;
  for (size_t i = 0; i < pos && i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"' || c == '`') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      open.push_back(c);
    } else if ((c == ')' || c == ']' || c == '}') && !open.empty()) {
      open.pop_back();
    }
  }
  return !open.empty() && open.back() == '[';
}

}  // namespace

SchemaWords SchemaWordsFrom(const Json& schema) {
  SchemaWords w;
  if (!schema.is_object()) return w;
  auto attrs = [&](const Json& owner) {
    if (owner.contains("attributes") && owner["attributes"].is_array())
      for (const auto& a : owner["attributes"])
        if (a.is_object() && a.contains("name") && a["name"].is_string())
          w.attributes.push_back(a["name"]);
  };
  if (schema.contains("classes") && schema["classes"].is_array())
    for (const auto& c : schema["classes"]) {
      if (c.is_object() && c.contains("name") && c["name"].is_string())
        w.classes.push_back(c["name"]);
      attrs(c);
    }
  if (schema.contains("relationship_types") && schema["relationship_types"].is_array())
    for (const auto& r : schema["relationship_types"]) {
      if (r.is_object() && r.contains("name") && r["name"].is_string())
        w.rel_types.push_back(r["name"]);
      attrs(r);
    }
  Sorted(w.classes);
  Sorted(w.attributes);
  Sorted(w.rel_types);
  return w;
}

std::vector<std::string> Complete(const std::string& line, size_t start, const std::string& text,
                                  bool statement_start, const SchemaWords& schema,
                                  const std::vector<std::string>& params) {
  std::vector<std::string> out;
  auto offer = [&](const std::vector<std::string>& words) {
    for (const auto& w : words)
      if (StartsWithNoCase(w, text)) out.push_back(w);
  };
  char before = start > 0 && start <= line.size() ? line[start - 1] : '\0';
  if (before == ':') {
    size_t first = line.find_first_not_of(" \t");
    if (statement_start && first == start - 1) {
      for (const char* c : kCommands)
        if (StartsWithNoCase(c, text)) out.push_back(c);
      return out;
    }
    offer(InsideSquare(line, start) ? schema.rel_types : schema.classes);
    return out;
  }
  if (before == '|' && InsideSquare(line, start)) {
    offer(schema.rel_types);
    return out;
  }
  if (before == '.') {
    // After a namespace ("duration."), its functions; after a variable, attributes (both when
    // the line also binds a variable of the namespace's name).
    size_t word_end = start - 1, word_start = word_end;
    while (word_start > 0 && (std::isalnum(static_cast<unsigned char>(line[word_start - 1])) ||
                              line[word_start - 1] == '_'))
      --word_start;
    std::string ns = line.substr(word_start, word_end - word_start);
    bool is_namespace = false;
    for (const char* f : kNamespaced) {
      std::string name = f;
      size_t dot = name.find('.');
      if (!StartsWithNoCase(name, ns + ".") || dot != ns.size()) continue;
      is_namespace = true;
      if (StartsWithNoCase(name.substr(dot + 1), text)) out.push_back(name.substr(dot + 1));
    }
    bool variable = false;
    for (const char* open : {"(", "[", ", ", "AS ", "as "}) {
      std::string bind = open + ns;
      for (size_t at = line.find(bind); at != std::string::npos && !variable;
           at = line.find(bind, at + 1)) {
        size_t after = at + bind.size();
        variable =
            after >= line.size() || !(std::isalnum(static_cast<unsigned char>(line[after])) ||
                                      line[after] == '_' || line[after] == '.');
      }
    }
    if (!is_namespace || variable) offer(schema.attributes);
    Sorted(out);
    return out;
  }
  if (before == '$') {
    offer(params);
    return out;
  }
  bool lower = !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c));
  });
  for (const char* k : kKeywords) {
    if (!StartsWithNoCase(k, text)) continue;
    std::string word = k;
    if (lower)
      for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back(word);
  }
  for (const char* f : kFunctions)
    if (StartsWithNoCase(f, text)) out.push_back(f);
  Sorted(out);
  // A keyword that is also a function ("TYPE", "type") is one candidate, so a unique completion
  // stays unique (readline rings the bell at more than one).
  std::vector<std::string> unique;
  for (auto& w : out) {
    bool same =
        !unique.empty() && unique.back().size() == w.size() && StartsWithNoCase(unique.back(), w);
    if (!same) unique.push_back(std::move(w));
  }
  return unique;
}

}  // namespace cmdb::shell
