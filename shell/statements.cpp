#include "shell/statements.hpp"

namespace cmdb::shell {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::vector<Statement> StatementScanner::Feed(std::string_view text) {
  buf_.append(text);
  std::vector<Statement> out;
  size_t i = scanned_;
  while (i < buf_.size()) {
    char c = buf_[i];
    switch (state_) {
      case State::kCode:
        if (c == '/' && i + 1 == buf_.size()) {
          scanned_ = i;  // a comment or a division: the next piece decides
          return out;
        }
        if (c == '/' && buf_[i + 1] == '/') {
          state_ = State::kLineComment;
          ++i;
        } else if (c == '/' && buf_[i + 1] == '*') {
          state_ = State::kBlockComment;
          ++i;
        } else if (c == ';') {
          if (has_code_)
            out.push_back(Cut(i, i + 1));
          else
            Cut(i, i + 1);  // an empty statement: nothing to run
          i = 0;
          continue;
        } else if (c == '\'') {
          state_ = State::kSingle;
          has_code_ = true;
        } else if (c == '"') {
          state_ = State::kDouble;
          has_code_ = true;
        } else if (c == '`') {
          state_ = State::kBackquote;
          has_code_ = true;
        } else if (!IsSpace(c)) {
          has_code_ = true;
        }
        break;
      case State::kSingle:
      case State::kDouble:
        if (escape_)
          escape_ = false;
        else if (c == '\\')
          escape_ = true;
        else if (c == (state_ == State::kSingle ? '\'' : '"'))
          state_ = State::kCode;
        break;
      case State::kBackquote:
        if (c == '`') state_ = State::kCode;
        break;
      case State::kLineComment:
        if (c == '\n' || c == '\r') state_ = State::kCode;
        break;
      case State::kBlockComment:
        if (c == '*' && i + 1 == buf_.size()) {
          scanned_ = i;
          return out;
        }
        if (c == '*' && buf_[i + 1] == '/') {
          state_ = State::kCode;
          ++i;
        }
        break;
    }
    ++i;
  }
  scanned_ = i;
  return out;
}

Statement StatementScanner::Cut(size_t end, size_t resume) {
  // Skip the white space before the statement, moving its position on.
  size_t start = 0;
  for (; start < end && IsSpace(buf_[start]); ++start) {
    const char c = buf_[start];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {  // a character's first byte
      ++column_;
    }
  }
  Statement s{buf_.substr(start, end - start), line_, column_};
  while (!s.text.empty() && IsSpace(s.text.back())) s.text.pop_back();
  for (size_t k = start; k < resume; ++k) {
    const char c = buf_[k];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {  // a character's first byte
      ++column_;
    }
  }
  buf_.erase(0, resume);
  scanned_ = 0;
  state_ = State::kCode;
  escape_ = false;
  has_code_ = false;
  return s;
}

Statement StatementScanner::Finish() {
  Statement s;
  if (has_code_) s = Cut(buf_.size(), buf_.size());
  buf_.clear();
  scanned_ = 0;
  state_ = State::kCode;
  escape_ = false;
  has_code_ = false;
  return s;
}

bool StatementScanner::Blank() const {
  return !has_code_ && (state_ == State::kCode || state_ == State::kLineComment);
}

void StatementScanner::Discard() {
  for (char c : buf_) {
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {  // a character's first byte
      ++column_;
    }
  }
  buf_.clear();
  scanned_ = 0;
  state_ = State::kCode;
  escape_ = false;
  has_code_ = false;
}

}  // namespace cmdb::shell
