#include "shell/render.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace cmdb::shell {

namespace {

bool HasExactKeys(const Json& v, std::initializer_list<const char*> keys) {
  if (!v.is_object() || v.size() != keys.size()) return false;
  for (const char* k : keys)
    if (!v.contains(k)) return false;
  return true;
}

bool IsNode(const Json& v) { return HasExactKeys(v, {"id", "class", "attributes"}); }
bool IsRel(const Json& v) { return HasExactKeys(v, {"id", "type", "from", "to", "attributes"}); }
bool IsPath(const Json& v) {
  return HasExactKeys(v, {"nodes", "relationships"}) && v["nodes"].is_array() &&
         v["relationships"].is_array();
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string Key(const std::string& k) {
  if (IsIdentifier(k)) return k;
  std::string out = "`";
  for (char c : k) out += c == '`' ? std::string("``") : std::string(1, c);
  return out + "`";
}

std::string Inner(const Json& v);

// A map's entries in literal form; `name` first when `name_first` (a CI's attributes).
std::string MapText(const Json& m, bool name_first) {
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& k, const Json& val) {
    if (!first) out += ", ";
    first = false;
    out += Key(k) + ": " + Inner(val);
  };
  if (name_first && m.contains("name")) add("name", m["name"]);
  for (const auto& [k, val] : m.items())
    if (!(name_first && k == "name")) add(k, val);
  return out + "}";
}

std::string NodeText(const Json& n) {
  std::string out = "(" + n["id"].dump();
  if (n["class"].is_string()) out += ":" + n["class"].get<std::string>();
  if (n["attributes"].is_object() && !n["attributes"].empty())
    out += " " + MapText(n["attributes"], true);
  return out + ")";
}

std::string RelText(const Json& r) {
  std::string out = "[" + r["id"].dump();
  if (r["type"].is_string()) out += ":" + r["type"].get<std::string>();
  out += " " + r["from"].dump() + "->" + r["to"].dump();
  if (r["attributes"].is_object() && !r["attributes"].empty())
    out += " " + MapText(r["attributes"], false);
  return out + "]";
}

// A path: (a)-[:T]->(b)<-[:U]-(c), nodes with their class and name.
std::string PathText(const Json& p) {
  const Json& nodes = p["nodes"];
  const Json& rels = p["relationships"];
  auto node = [](const Json& n) {
    if (!IsNode(n)) return Inner(n);
    std::string out = "(" + n["id"].dump();
    if (n["class"].is_string()) out += ":" + n["class"].get<std::string>();
    if (n["attributes"].is_object() && n["attributes"].contains("name"))
      out += " {name: " + Inner(n["attributes"]["name"]) + "}";
    return out + ")";
  };
  std::string out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    out += node(nodes[i]);
    if (i < rels.size()) {
      const Json& r = rels[i];
      std::string type =
          IsRel(r) && r["type"].is_string() ? ":" + r["type"].get<std::string>() : "";
      bool forward = !IsRel(r) || !IsNode(nodes[i]) || r["from"] == nodes[i]["id"];
      out += forward ? "-[" + type + "]->" : "<-[" + type + "]-";
    }
  }
  return out;
}

std::string Inner(const Json& v) {
  if (v.is_string()) return v.dump();
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Inner(v[i]);
    return out + "]";
  }
  if (IsNode(v)) return NodeText(v);
  if (IsRel(v)) return RelText(v);
  if (IsPath(v)) return PathText(v);
  if (v.is_object()) return MapText(v, false);
  return v.dump();
}

// Control characters made visible, so a value stays on its line of the table.
std::string Visible(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Decodes one UTF-8 code point at s[i]; moves i past it. Invalid bytes read as themselves.
char32_t NextCodePoint(const std::string& s, size_t& i) {
  unsigned char c = s[i];
  int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
  char32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1f) : extra == 2 ? (c & 0x0f) : (c & 0x07);
  ++i;
  for (int k = 0; k < extra && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80;
       ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3f);
  return cp;
}

int CodePointWidth(char32_t cp) {
  if (cp >= 0x300 && cp <= 0x36f) return 0;  // combining marks
  if (cp == 0x200b || cp == 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd))
    return 2;
  return 1;
}

}  // namespace

int CodePointCount(const std::string& text) {
  int n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

namespace {

// The longest prefix of `s` at most `width` columns wide.
std::string Prefix(const std::string& s, int width) {
  size_t i = 0, end = 0;
  int w = 0;
  while (i < s.size()) {
    size_t at = i;
    int cw = CodePointWidth(NextCodePoint(s, i));
    if (w + cw > width) return s.substr(0, at);
    w += cw;
    end = i;
  }
  return s.substr(0, end);
}

std::string Pad(const std::string& s, int width, bool right) {
  int fill = std::max(0, width - DisplayWidth(s));
  return right ? std::string(fill, ' ') + s : s + std::string(fill, ' ');
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void WriteTable(std::ostream& out, const Json& columns, const Json& rows, const TableStyle& style) {
  size_t n = columns.size();
  std::vector<std::string> header;
  for (const auto& c : columns)
    header.push_back(Visible(c.is_string() ? c.get<std::string>() : c.dump()));
  std::vector<std::vector<std::string>> cells;
  std::vector<std::vector<bool>> numeric;
  std::vector<int> width(n, 0);
  for (size_t c = 0; c < n; ++c) width[c] = DisplayWidth(header[c]);
  for (const auto& row : rows) {
    std::vector<std::string> line(n);
    std::vector<bool> num(n, false);
    for (size_t c = 0; c < n && c < row.size(); ++c) {
      line[c] = Visible(ValueText(row[c]));
      num[c] = row[c].is_number();
      width[c] = std::max(width[c], DisplayWidth(line[c]));
    }
    cells.push_back(std::move(line));
    numeric.push_back(std::move(num));
  }
  // Too wide: take a column off the widest until it fits (or every column is down to 6).
  if (style.max_width > 0) {
    const int kMin = 6;
    int total = 1;
    for (int w : width) total += w + 3;
    while (total > style.max_width) {
      auto widest = std::max_element(width.begin(), width.end());
      if (widest == width.end() || *widest <= kMin) break;
      --*widest;
      --total;
    }
  }
  const std::string ellipsis = style.unicode ? "…" : "...";
  const int ellipsis_width = style.unicode ? 1 : 3;
  auto fit = [&](const std::string& s, int w) {
    if (DisplayWidth(s) <= w) return s;
    return Prefix(s, std::max(0, w - ellipsis_width)) + ellipsis;
  };
  std::string rule = "+";
  for (int w : width) rule += std::string(w + 2, '-') + "+";
  out << rule << "\n|";
  for (size_t c = 0; c < n; ++c)
    out << " " << Pad(fit(header[c], width[c]), width[c], false) << " |";
  out << "\n" << rule << "\n";
  for (size_t r = 0; r < cells.size(); ++r) {
    out << "|";
    for (size_t c = 0; c < n; ++c)
      out << " " << Pad(fit(cells[r][c], width[c]), width[c], numeric[r][c]) << " |";
    out << "\n";
  }
  if (!cells.empty()) out << rule << "\n";
}

}  // namespace

bool ParseFormat(const std::string& word, Format* out) {
  if (word == "table")
    *out = Format::kTable;
  else if (word == "csv")
    *out = Format::kCsv;
  else if (word == "json")
    *out = Format::kJson;
  else
    return false;
  return true;
}

const char* FormatName(Format f) {
  return f == Format::kTable ? "table" : f == Format::kCsv ? "csv" : "json";
}

std::string ValueText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return Inner(v);
}

std::string LiteralText(const Json& v) { return Inner(v); }

int DisplayWidth(const std::string& text) {
  int w = 0;
  for (size_t i = 0; i < text.size();) w += CodePointWidth(NextCodePoint(text, i));
  return w;
}

void WriteRows(std::ostream& out, Format format, const Json& columns, const Json& rows,
               const TableStyle& style) {
  if (!columns.is_array() || !rows.is_array()) return;
  switch (format) {
    case Format::kTable:
      WriteTable(out, columns, rows, style);
      break;
    case Format::kCsv: {
      for (size_t c = 0; c < columns.size(); ++c)
        out << (c ? "," : "")
            << CsvField(columns[c].is_string() ? columns[c].get<std::string>() : columns[c].dump());
      out << "\r\n";
      for (const auto& row : rows) {
        for (size_t c = 0; c < row.size(); ++c) {
          const Json& v = row[c];
          std::string text = v.is_null() ? "" : v.is_string() ? v.get<std::string>() : v.dump();
          out << (c ? "," : "") << CsvField(text);
        }
        out << "\r\n";
      }
      break;
    }
    case Format::kJson:
      for (const auto& row : rows) {
        Json obj = Json::object();
        for (size_t c = 0; c < columns.size() && c < row.size(); ++c)
          obj[columns[c].is_string() ? columns[c].get<std::string>() : columns[c].dump()] = row[c];
        out << obj.dump() << "\n";
      }
      break;
  }
}

size_t PositionPrefixLength(const std::string& message) {
  // "line" digits ", column " digits ": "
  auto digits = [&](size_t i) {
    size_t j = i;
    while (j < message.size() && std::isdigit(static_cast<unsigned char>(message[j]))) ++j;
    return j > i ? j : std::string::npos;
  };
  static const std::string kLine = "line ", kColumn = ", column ", kEnd = ": ";
  if (message.compare(0, kLine.size(), kLine) != 0) return 0;
  size_t i = digits(kLine.size());
  if (i == std::string::npos || message.compare(i, kColumn.size(), kColumn) != 0) return 0;
  i = digits(i + kColumn.size());
  if (i == std::string::npos || message.compare(i, kEnd.size(), kEnd) != 0) return 0;
  return i + kEnd.size();
}

std::string ErrorText(int status, const std::string& body, const ErrorPlace& place) {
  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("error") ||
      !parsed["error"].is_object() || !parsed["error"].value("message", Json()).is_string()) {
    std::string text = body.size() > 400 ? body.substr(0, 400) + "..." : body;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
  }
  const Json& e = parsed["error"];
  std::string code = e.value("code", Json()).is_string() ? e["code"].get<std::string>() : "Error";
  std::string message = e["message"].get<std::string>();
  if (!e.contains("line") || !e["line"].is_number_integer() || !e.contains("column") ||
      !e["column"].is_number_integer())
    return code + ": " + message;
  int line = e["line"].get<int>(), column = e["column"].get<int>();
  // The server's text: "line L, column C: what\n<the line>\n<caret>".
  std::string first = message.substr(0, message.find('\n'));
  std::string rest = message.size() > first.size() ? message.substr(first.size() + 1) : "";
  size_t head = PositionPrefixLength(first);
  if (head == 0) return code + ": " + message;  // a position in something else (an imported file)
  std::string what = first.substr(head);
  int stmt_line = line - place.line_offset;
  if (stmt_line < 1) return code + ": in the :asof setting: " + what;
  if (stmt_line == 1) column -= place.column_offset;
  int shown_line = stmt_line + place.line_shift;
  int shown_column = column + (stmt_line == 1 ? place.column_shift : 0);
  std::string out = code + ": " + place.where + "line " + std::to_string(shown_line) + ", column " +
                    std::to_string(shown_column) + ": " + what;
  // The excerpt: the statement's line with a caret under the column (tabs kept, so it lines up).
  std::string excerpt;
  bool have_excerpt = false;
  if (place.source) {
    std::istringstream in(*place.source);
    std::string l;
    for (int k = 1; std::getline(in, l); ++k) {
      if (k == stmt_line) {
        if (!l.empty() && l.back() == '\r') l.pop_back();
        excerpt = l;
        have_excerpt = true;
        break;
      }
    }
  }
  if (have_excerpt && column >= 1 && column - 1 <= CodePointCount(excerpt)) {
    // The bytes of the first column - 1 characters.
    size_t bytes = 0;
    for (int k = 0; k < column - 1; ++k) {
      ++bytes;
      while (bytes < excerpt.size() && (static_cast<unsigned char>(excerpt[bytes]) & 0xc0) == 0x80)
        ++bytes;
    }
    std::string before = excerpt.substr(0, bytes), caret;
    for (size_t i = 0; i < before.size();) {
      if (before[i] == '\t') {
        caret += '\t';
        ++i;
      } else {
        caret += std::string(CodePointWidth(NextCodePoint(before, i)), ' ');
      }
    }
    out += "\n" + excerpt + "\n" + caret + "^";
  } else if (!rest.empty()) {
    out += "\n" + rest;
  }
  return out;
}

}  // namespace cmdb::shell
