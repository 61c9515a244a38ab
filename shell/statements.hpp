// Splitting input into statements: a statement ends with ';' outside strings, quoted names and
// comments; it may span lines. Used for interactive input, -c, -f and standard input alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cmdb::shell {

// A statement with the position of its first character in the input (1-based line and column,
// the column counted in characters, code points, as the server counts them).
struct Statement {
  std::string text;  // without the ';' and the white space around it
  int line = 1;
  int column = 1;
};

// Reads input piece by piece (lines, or a whole text) and hands out each statement once its ';'
// arrived. Knows single- and double-quoted strings with backslash escapes, `backquoted` names,
// `// ...` and `/* ... */` comments, so a ';' inside any of them ends nothing. Statements of only
// white space and comments are dropped. Not thread-safe.
class StatementScanner {
 public:
  // Appends `text` (e.g. a line with its '\n') and returns the statements it completed.
  std::vector<Statement> Feed(std::string_view text);

  // The input ended: the rest, if it holds anything but white space and comments, as a last
  // statement without ';' (empty text when there is none). Clears the scanner.
  Statement Finish();

  // True when no statement has begun: the pending input is only white space and comments (and
  // no string or block comment is open). A line read then may be a shell command (":help").
  bool Blank() const;

  // Forgets the pending input (Ctrl-C on a half-typed statement); the position goes on.
  void Discard();

  // The line the next piece of input starts on (1-based).
  int line() const { return line_; }

  // Skips a line that was not fed (a shell command): the position of what follows moves on.
  void SkipLine() {
    ++line_;
    column_ = 1;
  }

 private:
  enum class State { kCode, kSingle, kDouble, kBackquote, kLineComment, kBlockComment };
  Statement Cut(size_t end, size_t resume);

  std::string buf_;
  size_t scanned_ = 0;
  State state_ = State::kCode;
  bool escape_ = false;
  bool has_code_ = false;
  int line_ = 1, column_ = 1;  // the position of buf_[0] in the input
};

}  // namespace cmdb::shell
