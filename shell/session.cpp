#include "shell/session.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <ostream>
#include <sstream>

namespace cmdb::shell {

namespace {

const char* kHelp =
    R"(Statements end with ';' and may span lines. Shell commands, one line each:
  :help                     this text
  :quit, :exit              leave the shell (also Ctrl-D)
  :param NAME => EXPR       set $NAME to EXPR, evaluated by the server (:param ids => [1, 2])
  :params                   list the parameters
  :params clear [NAME...]   forget all parameters, or the ones named
  :explain STATEMENT        show the plan of STATEMENT without running it
  :asof TX|TIME             read AS OF a transaction id or an ISO-8601 time from now on
  :asof off                 back to the present (:asof alone shows the setting)
  :format table|csv|json    how results are shown (:format alone shows it)
  :width N|auto|off         cut tables to N columns, to the terminal, or never
  :timing on|off            show the server's time per statement
  :timeout MS|off           the server stops a statement after MS milliseconds
Keys: Ctrl-C drops the statement being typed, or stops waiting for the running one (the
server may still finish it); Ctrl-D leaves. Tab completes keywords, functions, classes
(after ':'), attributes (after '.'), relationship types (after '[:' or '|'), parameters
(after '$') and shell commands; Up and Down walk the history. See docs/shell.md.
)";

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The first `count` words of a statement, skipping white space and comments: each word's offset
// and its text in upper case (a word: letters, digits and '_').
std::vector<std::pair<size_t, std::string>> FirstWords(const std::string& text, size_t count) {
  std::vector<std::pair<size_t, std::string>> words;
  size_t i = 0;
  while (i < text.size() && words.size() < count) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 2;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
        ++i;
      std::string w = text.substr(start, i - start);
      for (char& ch : w) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      words.emplace_back(start, w);
    } else {
      break;
    }
  }
  return words;
}

std::string Plural(long long n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

bool ParseParamAssignment(const std::string& text, std::string* name, size_t* expr_offset) {
  size_t i = text.find_first_not_of(" \t");
  if (i == std::string::npos) return false;
  size_t start = i;
  if (text[i] == '`') {
    size_t end = text.find('`', i + 1);
    if (end == std::string::npos || end == i + 1) return false;
    *name = text.substr(i + 1, end - i - 1);
    i = end + 1;
  } else {
    if (!(std::isalpha(static_cast<unsigned char>(text[i])) || text[i] == '_')) return false;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
      ++i;
    *name = text.substr(start, i - start);
  }
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (text.compare(i, 2, "=>") == 0)
    i += 2;
  else if (i < text.size() && text[i] == ':')
    i += 1;
  else
    return false;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  *expr_offset = i;
  return true;
}

int ExitCodeForStatus(int status) {
  if (status >= 200 && status < 300) return kExitOk;
  if (status == 401 || status == 403) return kExitUnauthorized;
  return kExitFailed;
}

Session::Session(HttpClient& client, SessionOptions options, std::ostream& out, std::ostream& err)
    : client_(client), options_(std::move(options)), out_(out), err_(err) {}

bool Session::Fail(int code) {
  if (exit_code_ == kExitOk) exit_code_ = code;
  return options_.interactive || !options_.fail_fast;
}

bool Session::FeedLine(const std::string& line) {
  if (scanner_.Blank()) {
    // At the terminal, positions count from the statement's first line; in a file, from the
    // file's.
    if (options_.interactive) scanner_ = StatementScanner();
    std::string t = Trim(line);
    if (!t.empty() && t[0] == ':') {
      scanner_.Discard();
      int line_no = scanner_.line();
      scanner_.SkipLine();
      bool go_on = Command(line, line_no);
      return go_on && !quit_;
    }
  }
  for (const Statement& s : scanner_.Feed(line + "\n"))
    if (!RunStatement(s, false)) return false;
  return true;
}

bool Session::Finish() {
  if (options_.interactive) {
    scanner_.Discard();
    return true;
  }
  Statement last = scanner_.Finish();
  if (last.text.empty()) return true;
  return RunStatement(last, false);
}

std::string Session::Prompt() const {
  std::string main = as_of_.empty() ? "cmdb> " : "cmdb[AS OF " + as_of_ + "]> ";
  if (scanner_.Blank()) return main;
  int w = DisplayWidth(main);
  return std::string(std::max(0, w - 3), ' ') + "-> ";
}

bool Session::Query(const std::string& text, const ErrorPlace& place, Json* answer) {
  Json body{{"query", text}};
  if (options_.timeout_ms > 0) body["timeout_ms"] = options_.timeout_ms;
  if (!params_.empty()) {
    Json p = Json::object();
    for (const auto& [k, v] : params_) p[k] = v;
    body["parameters"] = p;
  }
  HttpAnswer a;
  std::string error;
  if (!client_.Call("POST", "/v1/query", body.dump(), "application/json", &a, &error)) {
    err_ << error << std::endl;
    Fail(kExitUnreachable);
    return false;
  }
  if (a.status != 200) {
    err_ << ErrorText(a.status, a.body, place) << std::endl;
    Fail(ExitCodeForStatus(a.status));
    return false;
  }
  *answer = Json::parse(a.body, nullptr, false);
  if (answer->is_discarded() || !answer->is_object()) {
    err_ << "the server's answer is not JSON" << std::endl;
    Fail(kExitFailed);
    return false;
  }
  return true;
}

bool Session::RunStatement(const Statement& s, bool force_explain) {
  // EXPLAIN/PROFILE first, then the session's AS OF, on a line of their own before the statement
  // (whose keyword is blanked in place, so its lines and columns stay as typed).
  std::string text = s.text, keyword = force_explain ? "EXPLAIN" : "";
  auto words = FirstWords(text, 3);
  size_t next = 0;
  if (!words.empty() && (words[0].second == "EXPLAIN" || words[0].second == "PROFILE")) {
    keyword = words[0].second;
    text.replace(words[0].first, keyword.size(), std::string(keyword.size(), ' '));
    next = 1;
  }
  bool own_time =
      words.size() > next &&
      ((words[next].second == "AS" && words.size() > next + 1 && words[next + 1].second == "OF") ||
       words[next].second == "USE");
  std::string prefix = keyword;
  if (!as_of_.empty() && !own_time) prefix += (prefix.empty() ? "" : " ") + ("AS OF " + as_of_);
  ErrorPlace place;
  place.where = options_.where;
  place.source = &s.text;
  place.line_shift = s.line - 1;
  place.column_shift = s.column - 1;
  std::string sent = s.text;
  if (!prefix.empty()) {
    sent = prefix + "\n" + text;
    place.line_offset = 1;
  }
  Json answer;
  if (!Query(sent, place, &answer)) return Fail(exit_code_ == kExitOk ? kExitFailed : exit_code_);
  PrintAnswer(answer);
  return true;
}

void Session::PrintAnswer(const Json& answer) {
  const Json& stats =
      answer.contains("stats") && answer["stats"].is_object() ? answer["stats"] : Json::object();
  Json columns = answer.value("columns", Json::array());
  Json rows = answer.value("rows", Json::array());
  bool explain_only = answer.contains("plan") && columns.empty();
  if (!explain_only && !columns.empty()) {
    TableStyle style = options_.style;
    if (style.max_width < 0) {  // auto: the terminal's width, no limit when not a terminal
      struct winsize ws {};
      style.max_width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 0;
    }
    WriteRows(out_, options_.format, columns, rows, style);
  }
  if (answer.contains("plan") && answer["plan"].is_string() && options_.format == Format::kJson) {
    out_ << Json{{"plan", answer["plan"]}}.dump() << "\n";  // JSON Lines stay JSON
  } else if (answer.contains("plan") && answer["plan"].is_string()) {
    std::string plan = answer["plan"].get<std::string>();
    if (!plan.empty() && plan.back() != '\n') plan += '\n';
    out_ << plan;
  }
  if (stats.value("depth_capped", false))
    err_ << "note: a variable-length pattern stopped at the server's depth cap; give it an upper "
            "bound "
            "(e.g. *..40) to go further"
         << std::endl;
  if (options_.format != Format::kTable) {
    out_.flush();
    return;
  }
  // The footer: rows, what a write did, the transaction, AS OF, a cut answer, the time.
  std::vector<std::string> parts;
  if (stats.contains("schema_version") && stats.value("changed", false)) schema_changed_ = true;
  if (stats.contains("schema_version")) {
    parts.push_back(stats.value("changed", false)
                        ? "schema version " + stats["schema_version"].dump()
                        : "schema unchanged (version " + stats["schema_version"].dump() + ")");
  } else if (!explain_only && !columns.empty()) {  // a write without RETURN: what it did only
    parts.push_back(
        Plural(stats.value("rows", static_cast<long long>(rows.size())), "row", "rows"));
  }
  std::vector<std::string> writes;
  static const std::pair<const char*, std::pair<const char*, const char*>> kWrites[] = {
      {"nodes_created", {"node created", "nodes created"}},
      {"nodes_deleted", {"node deleted", "nodes deleted"}},
      {"relationships_created", {"relationship created", "relationships created"}},
      {"relationships_deleted", {"relationship deleted", "relationships deleted"}},
      {"properties_set", {"property set", "properties set"}}};
  for (const auto& [key, names] : kWrites) {
    long long n = stats.value(key, 0LL);
    if (n > 0) writes.push_back(Plural(n, names.first, names.second));
  }
  if (!writes.empty()) {
    std::string w;
    for (size_t i = 0; i < writes.size(); ++i) w += (i ? ", " : "") + writes[i];
    parts.push_back(w);
  }
  if (stats.contains("tx") && stats["tx"].is_number()) parts.push_back("tx " + stats["tx"].dump());
  if (stats.contains("as_of_tx")) parts.push_back("as of tx " + stats["as_of_tx"].dump());
  if (stats.value("truncated", false)) parts.push_back("cut by the server");
  if (options_.timing && stats.contains("elapsed_ms") && stats["elapsed_ms"].is_number()) {
    std::ostringstream t;
    t.precision(3);
    t << std::fixed << stats["elapsed_ms"].get<double>() << " ms";
    parts.push_back(t.str());
  }
  if (!parts.empty()) {
    std::string footer = "(";
    for (size_t i = 0; i < parts.size(); ++i) footer += (i ? "; " : "") + parts[i];
    out_ << footer << ")\n";
  }
  out_.flush();
}

bool Session::SetParam(const std::string& name, const std::string& expr, int line, int column) {
  std::string e = Trim(expr);
  while (!e.empty() && e.back() == ';') e = Trim(e.substr(0, e.size() - 1));
  if (e.empty()) {
    err_ << ":param " << name << " needs a value: :param " << name << " => EXPR" << std::endl;
    return Fail(kExitUsage);
  }
  static const std::string kPrefix = "RETURN ";
  ErrorPlace place;
  place.where = options_.where;
  place.source = &e;
  place.column_offset = static_cast<int>(kPrefix.size());
  place.line_shift = line - 1;
  place.column_shift = column - 1;
  Json answer;
  // The expression alone after RETURN, so an error's position is one in the user's text; a
  // refused expression is a bad :param (exit 2), as a wrong value is for any other command.
  int before = exit_code_;
  if (!Query(kPrefix + e, place, &answer)) {
    if (before == kExitOk && exit_code_ == kExitFailed) exit_code_ = kExitUsage;
    return Fail(exit_code_);
  }
  const Json& rows = answer["rows"];
  if (!rows.is_array() || rows.size() != 1 || !rows[0].is_array() || rows[0].size() != 1) {
    err_ << ":param " << name << ": the expression gave no single value" << std::endl;
    return Fail(kExitFailed);
  }
  params_[name] = rows[0][0];
  return true;
}

bool Session::Command(const std::string& line, int line_no) {
  std::string t = line;
  while (!t.empty() && (t.back() == ';' || std::isspace(static_cast<unsigned char>(t.back()))))
    t.pop_back();
  size_t lead = t.find_first_not_of(" \t");
  t = t.substr(lead);
  size_t sp = t.find_first_of(" \t");
  std::string cmd = Lower(t.substr(0, sp));
  std::string arg = sp == std::string::npos ? "" : Trim(t.substr(sp));
  // Where the argument starts in the line as typed (error positions).
  int arg_column = sp == std::string::npos
                       ? 1
                       : CodePointCount(line.substr(0, lead + t.find_first_not_of(" \t", sp))) + 1;
  auto usage = [&](const std::string& text) {
    err_ << text << std::endl;
    return Fail(kExitUsage);
  };
  if (cmd == ":quit" || cmd == ":exit" || cmd == ":q") {
    quit_ = true;
    return true;
  }
  if (cmd == ":help" || cmd == ":h" || cmd == ":?") {
    out_ << kHelp;
    return true;
  }
  if (cmd == ":param") {
    if (arg.empty())
      cmd = ":params";
    else {
      std::string name;
      size_t at = 0;
      if (!ParseParamAssignment(arg, &name, &at))
        return usage(":param: expected NAME => EXPR, e.g. :param name => 'Payments'");
      return SetParam(name, arg.substr(at), line_no,
                      arg_column + CodePointCount(arg.substr(0, at)));
    }
  }
  if (cmd == ":params") {
    if (arg.empty()) {
      for (const auto& [k, v] : params_) out_ << ":param " << k << " => " << LiteralText(v) << "\n";
      out_.flush();
      return true;
    }
    std::istringstream words(arg);
    std::string w;
    words >> w;
    if (Lower(w) != "clear") return usage(":params: expected :params or :params clear [NAME...]");
    bool any = false;
    while (words >> w) {
      any = true;
      if (params_.erase(w) == 0) return usage(":params clear: no parameter '" + w + "'");
    }
    if (!any) params_.clear();
    return true;
  }
  if (cmd == ":explain") {
    if (arg.empty())
      return usage(":explain: expected a statement, e.g. :explain MATCH (n:Server) RETURN n");
    Statement s{arg, line_no, arg_column};
    return RunStatement(s, true);
  }
  if (cmd == ":asof") {
    if (arg.empty()) {
      out_ << (as_of_.empty() ? "queries read the present" : "queries read AS OF " + as_of_)
           << "\n";
      out_.flush();
      return true;
    }
    std::string l = Lower(arg);
    if (l == "off" || l == "now" || l == "none") {
      as_of_.clear();
      return true;
    }
    std::string expr;
    if (std::all_of(arg.begin(), arg.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      expr = arg;
    } else {
      if (arg.size() >= 2 && (arg.front() == '\'' || arg.front() == '"') &&
          arg.back() == arg.front())
        arg = arg.substr(1, arg.size() - 2);
      expr = "'";
      for (char c : arg) expr += c == '\'' || c == '\\' ? std::string("\\") + c : std::string(1, c);
      expr += "'";
    }
    // Checked at once: a transaction that does not exist, or a time that cannot, is refused here.
    std::string probe = "AS OF " + expr + "\nRETURN 1";
    ErrorPlace place;
    place.where = options_.where;
    Json answer;
    HttpAnswer a;
    std::string error;
    if (!client_.Call("POST", "/v1/query", Json{{"query", probe}}.dump(), "application/json", &a,
                      &error)) {
      err_ << error << std::endl;
      return Fail(kExitUnreachable);
    }
    if (a.status != 200) {
      // The position is inside the shell's probe: show the reason only.
      std::string text = ErrorText(a.status, a.body, place);
      text = text.substr(0, text.find('\n'));
      size_t colon = text.find(": ");
      if (colon != std::string::npos) {
        size_t head = PositionPrefixLength(text.substr(colon + 2));
        text.erase(colon + 2, head);
      }
      err_ << text << std::endl;
      return Fail(ExitCodeForStatus(a.status));
    }
    as_of_ = expr;
    Json parsed = Json::parse(a.body, nullptr, false);
    if (parsed.is_object() && parsed.contains("stats") && parsed["stats"].contains("as_of_tx"))
      out_ << "queries now read the state after tx " << parsed["stats"]["as_of_tx"].dump()
           << " (AS OF " << expr << "; :asof off returns to the present)\n";
    out_.flush();
    return true;
  }
  if (cmd == ":format") {
    if (arg.empty()) {
      out_ << FormatName(options_.format) << "\n";
      out_.flush();
      return true;
    }
    if (!ParseFormat(Lower(arg), &options_.format))
      return usage(":format: expected table, csv or json");
    return true;
  }
  if (cmd == ":width") {
    constexpr int kMinWidth = 20;
    std::string l = Lower(arg);
    if (l == "off" || l == "0")
      options_.style.max_width = 0;
    else if (l == "auto")
      options_.style.max_width = -1;
    else if (!l.empty() && l.size() < 6 && std::all_of(l.begin(), l.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c));
             })) {
      options_.style.max_width = std::max(kMinWidth, std::stoi(l));
      if (std::stoi(l) < kMinWidth)
        err_ << ":width " << l << " is less than the least width: tables are cut to " << kMinWidth
             << " columns" << std::endl;
    } else
      return usage(":width: expected a number of columns (at least 20), auto or off");
    return true;
  }
  if (cmd == ":timeout") {
    std::string l = Lower(arg);
    if (l == "off" || l == "0")
      options_.timeout_ms = 0;
    else if (!l.empty() && l.size() < 10 && std::all_of(l.begin(), l.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c));
             }))
      options_.timeout_ms = std::stoll(l);
    else
      return usage(":timeout: expected milliseconds or off");
    return true;
  }
  if (cmd == ":timing") {
    std::string l = Lower(arg);
    if (l == "on")
      options_.timing = true;
    else if (l == "off")
      options_.timing = false;
    else
      return usage(":timing: expected on or off");
    return true;
  }
  return usage("unknown shell command '" + cmd + "' (:help lists them)");
}

}  // namespace cmdb::shell
