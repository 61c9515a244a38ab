// Presenting answers: query rows as aligned tables, CSV or JSON Lines; values as text; errors
// with their line, column and caret. nlohmann::json is the shell's view of the server's JSON.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cmdb::shell {

using Json = nlohmann::ordered_json;

enum class Format { kTable, kCsv, kJson };

// "table", "csv", "json" to a Format; false for any other word.
bool ParseFormat(const std::string& word, Format* out);
const char* FormatName(Format f);

// How tables are drawn.
struct TableStyle {
  // The widest a table may be, in terminal columns; 0: no limit (values are never cut). Columns
  // wider than their share are cut, widest first, down to 6 columns each, and cut values end in
  // the ellipsis.
  int max_width = 0;
  bool unicode = true;  // "…" for a cut value (else "...")
};

// A value as a table cell or CSV field shows it: strings as they are, null as "null", numbers
// and booleans as JSON writes them, lists and maps in the query language's literal form with
// strings quoted, a node as (id:Class {name: "...", ...}), a relationship as
// [id:TYPE from->to {...}], a path as its nodes and relationships in a chain. A value is read as a
// node, relationship or path by its exact set of keys ({"id","class","attributes"},
// {"id","type","from","to","attributes"}, {"nodes","relationships"}), as the server sends them.
std::string ValueText(const Json& v);

// A value in the query language's literal form, strings quoted (what ":params" shows).
std::string LiteralText(const Json& v);

// Writes columns and rows (the server's "columns" and "rows") in `format`: a table with a header
// and borders; CSV (RFC 4180, a header line, null as an empty field, lists, maps and graph
// values as JSON); or JSON Lines (one object per row, keys in column order, values as the
// server sent them).
void WriteRows(std::ostream& out, Format format, const Json& columns, const Json& rows,
               const TableStyle& style);

// The display width of UTF-8 text (code points; East Asian wide ones count 2, combining marks 0).
int DisplayWidth(const std::string& text);
// The characters (code points) of UTF-8 `text`: the server counts error columns in them.
int CodePointCount(const std::string& text);

// An error as the shell shows it: "<code>: <where>line L, column C: <message>" then, when the
// error has a position inside `source`, that line of `source` and a caret under column C (a
// column counted in characters, code points, as the server counts; the caret is placed by
// display width, so it stands under the character on a terminal). `where` prefixes the position (a
// file name and ':' for -f), `line_shift`/`column_shift` move the server's position into the
// input's (the statement's first line and column in the input, minus one).
struct ErrorPlace {
  std::string where;                    // e.g. "queries.gql:" or ""
  const std::string* source = nullptr;  // the text the position is in (the statement)
  int line_shift = 0;                   // added to the server's line
  int column_shift = 0;                 // added to the column when the server's line is 1
  int line_offset = 0;    // lines the shell put before the statement (:asof); taken off first
  int column_offset =
      0;  // characters the shell put before the statement on its first line (:param)
};

// The length of a leading "line L, column C: " (the server's position in a message), or 0.
size_t PositionPrefixLength(const std::string& message);

// The error body {"error": {...}} (or any other body, shown as it is) of an answer with HTTP
// status `status`, written for people.
std::string ErrorText(int status, const std::string& body, const ErrorPlace& place);

}  // namespace cmdb::shell
