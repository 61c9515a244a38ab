// Binding expressions: literals, variables, operators, functions, aggregates.
#include <cmath>
#include <cstdlib>
#include <optional>

#include "cmdb/suggest.hpp"
#include "cmdb/utf8.hpp"
#include "query/binder/binder_state.hpp"
#include "query/common/query_error.hpp"
#include "query/runtime/functions.hpp"

namespace cmdb::gql::detail {
namespace {

BoundExpr Make(ExprKind kind, size_t offset) {
  BoundExpr e;
  e.kind = kind;
  e.offset = offset;
  return e;
}

// The code point of the `n` hex digits after raw[i] (the escape letter), or nullopt.
std::optional<uint32_t> HexAt(const std::string& raw, size_t i, size_t n) {
  if (raw.size() - i - 1 < n) return std::nullopt;
  uint32_t cp = 0;
  for (size_t k = 1; k <= n; ++k) {
    char h = raw[i + k];
    if (!std::isxdigit(static_cast<unsigned char>(h))) return std::nullopt;
    cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
  }
  return cp;
}

// Applies the escapes of a string literal written at `offset` (its opening quote); errors point
// at the bad escape. \uXXXX surrogate pairs combine into one character; a lone surrogate or a
// code point past U+10FFFF is a syntax error, so no literal is ever invalid UTF-8.
std::string Unescape(const std::string& raw, size_t offset) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    size_t at = offset + 1 + i;  // the backslash
    char c = raw[++i];
    switch (c) {
      case 't': out += '\t'; break;
      case 'b': out += '\b'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'u':
      case 'U': {
        size_t n = c == 'u' ? 4 : 8;
        std::string written = raw.substr(i - 1, n + 2);
        std::optional<uint32_t> cp = HexAt(raw, i, n);
        if (!cp) throw QueryError("SyntaxError", "InvalidUnicodeLiteral", "invalid unicode escape " + written, at);
        i += n;
        if (*cp >= 0xD800 && *cp <= 0xDBFF && i + 2 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
          std::optional<uint32_t> low = HexAt(raw, i + 2, 4);
          if (low && *low >= 0xDC00 && *low <= 0xDFFF) {
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          }
        }
        if (*cp >= 0xD800 && *cp <= 0xDFFF)
          throw QueryError("SyntaxError", "InvalidUnicodeLiteral",
                           "invalid unicode escape " + written + ": a lone surrogate is not a character", at);
        if (*cp > 0x10FFFF)
          throw QueryError("SyntaxError", "InvalidUnicodeLiteral",
                           "invalid unicode escape " + written + ": past U+10FFFF", at);
        AppendUtf8(out, *cp);
        break;
      }
      default:
        out += '\\';
        out += c;
    }
  }
  return out;
}

std::string LowerCase(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsComparison(Op op) {
  return op == Op::kEq || op == Op::kNe || op == Op::kLt || op == Op::kGt || op == Op::kLe || op == Op::kGe;
}

// Operators whose chains at one precedence level bind as one flat left fold.
bool Folds(Op op) {
  switch (op) {
    case Op::kAnd: case Op::kOr: case Op::kXor: case Op::kAdd: case Op::kSub: case Op::kMul:
    case Op::kDiv: case Op::kMod: case Op::kPow:
      return true;
    default:
      return false;
  }
}

// Appends `operand` to the chain `fold` with operator `op`.
// Adds one operand to a flat chain and updates its depth from that operand alone: re-reading every
// operand (Nest) after each one made a chain of n operands cost n^2 (a 40,000-term sum took seconds).
void Append(BoundExpr& fold, Op op, BoundExpr operand) {
  if (fold.ops.empty()) fold.ops.push_back(fold.op);
  fold.ops.push_back(op);
  fold.depth = std::max(fold.depth, operand.depth + 1);
  fold.args.push_back(std::move(operand));
  if (fold.depth > kMaxExprDepth)
    throw QueryError("SyntaxError", "NestingTooDeep",
                     "the expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels",
                     fold.offset);
}

}  // namespace

QValue ParseNumber(const std::string& text, bool negative, size_t offset) {
  std::string t = (negative ? "-" : "") + text;
  bool is_float = text.find_first_of(".eE") != std::string::npos &&
                  !(text.size() > 1 && (text[1] == 'x' || text[1] == 'X'));
  if (!is_float) {
    errno = 0;
    char* end = nullptr;
    long long v;
    std::string digits = t;  // owns what `end` points into
    int base = 10;
    if (text.size() > 2 && (text[1] == 'x' || text[1] == 'X')) {
      digits = std::string(negative ? "-" : "") + text.substr(2);
      base = 16;
    } else if (text.size() > 2 && (text[1] == 'o' || text[1] == 'O')) {
      if (text.substr(2).find_first_not_of("01234567") != std::string::npos)
        throw QueryError("SyntaxError", "InvalidNumberLiteral", "invalid octal literal " + text, offset);
      digits = std::string(negative ? "-" : "") + text.substr(2);
      base = 8;
    }
    v = std::strtoll(digits.c_str(), &end, base);
    if (errno == ERANGE)
      throw QueryError("SyntaxError", "IntegerOverflow", "integer literal " + t + " is out of range", offset);
    if (end && *end)
      throw QueryError("SyntaxError", "InvalidNumberLiteral", "invalid number literal " + t, offset);
    return QValue(static_cast<int64_t>(v));
  }
  double d = std::strtod(t.c_str(), nullptr);
  if (std::isinf(d))
    throw QueryError("SyntaxError", "FloatingPointOverflow", "float literal " + t + " is out of range", offset);
  return QValue(d);
}

void BinderState::CheckLabel(const ast::Name& label) const {
  if (schema.open_mode() || schema.FindClass(label.text)) return;
  ThrowSemantic("UnknownLabel", schema.UnknownClassMessage(label.text), Offset(label));
}

void BinderState::CheckRelType(const ast::Name& type) const {
  if (schema.open_mode() || schema.FindRelType(type.text)) return;
  ThrowSemantic("UnknownRelationshipType", schema.UnknownRelTypeMessage(type.text), Offset(type));
}

BoundExpr BinderState::BindProjectionExpr(const ast::Expression& e, std::vector<BoundExpr>* aggregates) {
  aggregates_ = aggregates;
  BoundExpr out = BindExpr(e);
  aggregates_ = nullptr;
  return out;
}

void BinderState::Nest(BoundExpr& e) {
  int depth = 1;
  for (const BoundExpr& a : e.args) depth = std::max(depth, a.depth + 1);
  e.depth = depth;
  if (depth > kMaxExprDepth)
    throw QueryError("SyntaxError", "NestingTooDeep",
                     "the expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels", e.offset);
}

namespace {
// A literal that is certainly not a boolean (nor null) cannot be an operand of AND, OR, XOR or
// NOT: refused before the query runs.
void CheckBooleanOperand(const BoundExpr& e, const char* op) {
  bool literal = (e.kind == ExprKind::kLiteral && !e.literal.is_null() && e.literal.kind() != QValue::Kind::kBool) ||
                 e.kind == ExprKind::kList || e.kind == ExprKind::kMap;
  if (literal)
    throw QueryError("SyntaxError", "InvalidArgumentType",
                     std::string(op) + " needs booleans, not " +
                         WithArticle(e.kind == ExprKind::kList  ? std::string("list")
                                     : e.kind == ExprKind::kMap ? std::string("map")
                                                                : e.literal.kind_name()),
                     e.offset);
}
}  // namespace

BoundExpr BinderState::BindExpr(const ast::Expression& e) {
  BoundExpr out = BindExprUnchecked(e);
  if (out.kind == ExprKind::kBinary && (out.op == Op::kAnd || out.op == Op::kOr || out.op == Op::kXor)) {
    for (size_t i = 0; i < out.args.size(); ++i) {
      // ops[k] joins the fold so far and args[k + 1]: arg i's operator is ops[i - 1] (the
      // first arg's, ops[0]); a chain of comparisons folds into an AND without ops.
      size_t k = i == 0 ? 0 : i - 1;
      Op op = k < out.ops.size() ? out.ops[k] : out.op;
      CheckBooleanOperand(out.args[i], op == Op::kAnd ? "AND" : op == Op::kOr ? "OR" : "XOR");
    }
  }
  return out;
}

BoundExpr BinderState::BindExprUnchecked(const ast::Expression& e) {
  size_t offset = Offset(e);
  BoundExpr left = BindOperand(e.first, offset);
  // Chained comparisons a < b < c mean a < b AND b < c (one flat AND).
  const BoundExpr* prev_right = nullptr;
  BoundExpr chain;
  bool chaining = false;
  bool left_folds = false;  // `left` is a chain this loop built, which more operands may join
  for (const auto& operation : e.rest) {
    if (operation.op == Op::kIsNull || operation.op == Op::kIsNotNull) {
      BoundExpr u = Make(ExprKind::kUnary, offset);
      u.op = operation.op;
      u.args.push_back(std::move(left));
      Nest(u);
      left = std::move(u);
      left_folds = false;
      prev_right = nullptr;
      continue;
    }
    BoundExpr right = BindOperand(operation.operand, offset);
    if (IsComparison(operation.op) && prev_right) {
      BoundExpr cmp = Make(ExprKind::kBinary, offset);
      cmp.op = operation.op;
      cmp.args.push_back(*prev_right);
      cmp.args.push_back(std::move(right));
      Nest(cmp);
      if (chaining) {
        Append(chain, Op::kAnd, std::move(cmp));
      } else {
        chain = Make(ExprKind::kBinary, offset);
        chain.op = Op::kAnd;
        chain.args.push_back(std::move(left));
        chain.args.push_back(std::move(cmp));
        Nest(chain);
        chaining = true;
      }
      prev_right = &chain.args.back().args[1];
      continue;
    }
    if (chaining) {
      left = std::move(chain);
      chaining = false;
      left_folds = false;
    }
    if (left_folds && Folds(operation.op)) {
      Append(left, operation.op, std::move(right));
      prev_right = nullptr;
      continue;
    }
    BoundExpr b = Make(ExprKind::kBinary, offset);
    b.op = operation.op;
    b.args.push_back(std::move(left));
    b.args.push_back(std::move(right));
    Nest(b);
    left = std::move(b);
    left_folds = Folds(operation.op);
    prev_right = IsComparison(operation.op) ? &left.args[1] : nullptr;
  }
  if (chaining) return chain;
  return left;
}

namespace {

struct OperandBinder {
  BinderState& b;
  size_t offset;
  using result_type = BoundExpr;

  BoundExpr operator()(const ast::Nil&) const { return Make(ExprKind::kLiteral, offset); }
  BoundExpr operator()(const ast::NullLiteral&) const { return Make(ExprKind::kLiteral, offset); }
  BoundExpr operator()(bool v) const {
    BoundExpr e = Make(ExprKind::kLiteral, offset);
    e.literal = QValue(v);
    return e;
  }
  BoundExpr operator()(const ast::NumberLiteral& n) const {
    BoundExpr e = Make(ExprKind::kLiteral, b.Offset(n));
    e.literal = ParseNumber(n.text, false, b.Offset(n));
    return e;
  }
  BoundExpr operator()(const ast::StringLiteral& s) const {
    BoundExpr e = Make(ExprKind::kLiteral, b.Offset(s));
    e.literal = QValue(Unescape(s.raw, b.Offset(s)));
    return e;
  }
  BoundExpr operator()(const ast::Parameter& p) const {
    BoundExpr e = Make(ExprKind::kParameter, b.Offset(p));
    e.name = p.name;
    return e;
  }
  BoundExpr operator()(const ast::CountStar& c) const {
    if (!b.aggregates_)
      ThrowSemantic("InvalidAggregation", "count(*) is only allowed in WITH and RETURN", b.Offset(c));
    if (b.in_aggregate_) ThrowSemantic("NestedAggregation", "aggregates cannot be nested", b.Offset(c));
    BoundExpr agg = Make(ExprKind::kAggregate, b.Offset(c));
    agg.fn = FindFunction("count");
    agg.star = true;
    return Register(std::move(agg));
  }
  BoundExpr Register(BoundExpr agg) const {
    BoundExpr ref = Make(ExprKind::kAggregateRef, agg.offset);
    ref.index = static_cast<int>(b.aggregates_->size());
    b.aggregates_->push_back(std::move(agg));
    return ref;
  }
  BoundExpr operator()(const ast::Name& n) const {
    auto it = b.scope.find(n.text);
    if (it == b.scope.end())
      ThrowSemantic("UndefinedVariable", "variable '" + n.text + "' is not defined", b.Offset(n));
    BoundExpr e = Make(ExprKind::kVariable, b.Offset(n));
    e.slot = it->second.slot;
    e.name = n.text;
    return e;
  }
  BoundExpr operator()(const ast::ListLiteral& l) const {
    BoundExpr e = Make(ExprKind::kList, b.Offset(l));
    for (const auto& item : l.items) e.args.push_back(b.BindExpr(item));
    return e;
  }
  BoundExpr operator()(const ast::MapLiteral& m) const {
    BoundExpr e = Make(ExprKind::kMap, b.Offset(m));
    for (const auto& entry : m.entries) {
      e.keys.push_back(entry.key.text);
      e.args.push_back(b.BindExpr(entry.value));
    }
    return e;
  }
  BoundExpr operator()(const ast::FunctionCall& f) const {
    size_t at = b.Offset(f);
    if (LowerCase(f.name.text) == "exists" && f.args.size() == 1 && !f.distinct) {
      // exists(pattern): a pattern predicate; exists(n.key): the property is set.
      BoundExpr arg = b.BindExpr(f.args[0]);
      if (arg.kind == ExprKind::kSubquery && arg.name == "exists") return arg;
      if (arg.kind != ExprKind::kProperty)
        ThrowType("InvalidArgumentType", "exists() takes a pattern or a property, such as exists(n.name)", at);
      BoundExpr e = Make(ExprKind::kUnary, at);
      e.op = Op::kIsNotNull;
      e.args.push_back(std::move(arg));
      return e;
    }
    const FunctionDef* fn = FindFunction(f.name.text);
    if (!fn) {
      ThrowSemantic("UnknownFunction", UnknownName("function", f.name.text, FunctionNames()), at);
    }
    int n = static_cast<int>(f.args.size());
    if (n < fn->min_args || (fn->max_args >= 0 && n > fn->max_args))
      ThrowSemantic("InvalidNumberOfArguments",
                    fn->name + "() takes " + std::to_string(fn->min_args) +
                        (fn->max_args == fn->min_args ? "" : (fn->max_args < 0 ? " or more" : " to " + std::to_string(fn->max_args))) +
                        " argument(s), not " + std::to_string(n), at);
    if (fn->aggregate) {
      if (!b.aggregates_)
        ThrowSemantic("InvalidAggregation", fn->name + "() is only allowed in WITH and RETURN", at);
      if (b.in_aggregate_) ThrowSemantic("NestedAggregation", "aggregates cannot be nested", at);
      BoundExpr agg = Make(ExprKind::kAggregate, at);
      agg.fn = fn;
      agg.distinct = f.distinct;
      b.in_aggregate_ = true;
      for (const auto& a : f.args) agg.args.push_back(b.BindExpr(a));
      b.in_aggregate_ = false;
      // An aggregate of rand() would answer differently for the same rows.
      std::vector<const BoundExpr*> todo;
      for (const auto& a : agg.args) todo.push_back(&a);
      while (!todo.empty()) {
        const BoundExpr* x = todo.back();
        todo.pop_back();
        if (x->kind == ExprKind::kFunction && x->name == "rand")
          throw QueryError("SyntaxError", "NonConstantExpression",
                           fn->name + "() cannot aggregate rand(): the result would not be repeatable", x->offset);
        for (const auto& c : x->args) todo.push_back(&c);
      }
      return Register(std::move(agg));
    }
    BoundExpr e = Make(ExprKind::kFunction, at);
    e.fn = fn;
    e.name = fn->name;
    for (const auto& a : f.args) e.args.push_back(b.BindExpr(a));
    CheckArgumentTypes(e);
    return e;
  }
  BoundExpr operator()(const ast::CaseExpression& c) const {
    BoundExpr e = Make(ExprKind::kCase, b.Offset(c));
    if (c.subject) {
      e.has_subject = true;
      e.args.push_back(b.BindExpr(*c.subject));
    }
    for (const auto& alt : c.alternatives) {
      e.args.push_back(b.BindExpr(alt.when));
      e.args.push_back(b.BindExpr(alt.then));
    }
    if (c.otherwise) {
      e.has_else = true;
      e.args.push_back(b.BindExpr(*c.otherwise));
    }
    return e;
  }
  // `x IN list [WHERE pred] [| map]`: binds the list, then pred and map with `x` in scope.
  BoundExpr BindIteration(ExprKind kind, size_t at, const ast::Name& variable, const ast::Expression& list,
                          const boost::optional<ast::Expression>& where,
                          const boost::optional<ast::Expression>& map) const {
    BoundExpr e = Make(kind, at);
    e.args.push_back(b.BindExpr(list));
    auto saved = b.scope;
    e.slot = b.NewSlot();
    b.scope[variable.text] = Variable{e.slot, VarType::kAny, ""};
    // The predicate and the mapping run per element: no aggregates in them.
    auto* saved_aggs = b.aggregates_;
    if (!b.in_aggregate_) b.aggregates_ = nullptr;
    if (where) {
      e.has_where = true;
      e.args.push_back(b.BindExpr(*where));
    }
    if (map) {
      e.has_map = true;
      e.args.push_back(b.BindExpr(*map));
    }
    b.aggregates_ = saved_aggs;
    b.scope = std::move(saved);
    return e;
  }
  BoundExpr operator()(const ast::ListComprehension& c) const {
    return BindIteration(ExprKind::kListComprehension, b.Offset(c), c.variable, c.list, c.where, c.map);
  }
  BoundExpr operator()(const ast::Quantifier& q) const {
    BoundExpr e = BindIteration(ExprKind::kQuantifier, b.Offset(q), q.variable, q.list, q.where, boost::none);
    e.name = q.kind;
    return e;
  }
  BoundExpr operator()(const ast::Expression& inner) const { return b.BindExpr(inner); }
  BoundExpr operator()(const ast::Extension& x) const { return boost::apply_visitor(*this, x); }
  BoundExpr operator()(const ast::PatternExpression& p) const {
    return b.BindPatternExpr("exists", p.pattern, boost::none, nullptr, p);
  }
  BoundExpr operator()(const ast::PatternComprehension& p) const {
    return b.BindPatternExpr("collect", p.pattern, p.where, &p.map, p);
  }
  BoundExpr operator()(const ast::Subquery& q) const { return b.BindSubqueryExpr(q.kind, q.query, b.Offset(q)); }
  BoundExpr operator()(const ast::MapProjection& m) const {
    size_t at = b.Offset(m);
    BoundExpr e = Make(ExprKind::kMapProjection, at);
    e.args.push_back((*this)(m.variable));
    for (const auto& item : m.items) {
      if (item.kind == "all") {
        e.keys.push_back("*");
        e.args.push_back(Make(ExprKind::kLiteral, at));
      } else if (item.kind == "property") {
        CheckProperty(e.args[0], item.key);  // `a {.x}` is checked as `a.x` is
        BoundExpr p = Make(ExprKind::kProperty, b.Offset(item.key));
        p.name = item.key.text;
        p.args.push_back(e.args[0]);
        BinderState::Nest(p);
        e.keys.push_back(item.key.text);
        e.args.push_back(std::move(p));
      } else if (item.kind == "variable") {
        e.keys.push_back(item.key.text);
        e.args.push_back((*this)(item.key));
      } else {
        e.keys.push_back(item.key.text);
        e.args.push_back(b.BindExpr(*item.value));
      }
    }
    return e;
  }
  BoundExpr operator()(const ast::Reduce& r) const {
    BoundExpr e = Make(ExprKind::kReduce, b.Offset(r));
    e.args.push_back(b.BindExpr(r.init));
    e.args.push_back(b.BindExpr(r.list));
    auto saved = b.scope;
    e.index = b.NewSlot();
    e.slot = b.NewSlot();
    if (r.accumulator.text == r.variable.text)
      ThrowSemantic("VariableAlreadyBound", "reduce() needs two different names, not '" + r.variable.text + "' twice",
                    b.Offset(r.variable));
    b.scope[r.accumulator.text] = Variable{e.index, VarType::kAny, ""};
    b.scope[r.variable.text] = Variable{e.slot, VarType::kAny, ""};
    if (b.aggregates_ && !b.in_aggregate_) {
      // No aggregates inside: the expression runs per element.
      auto* saved_aggs = b.aggregates_;
      b.aggregates_ = nullptr;
      e.args.push_back(b.BindExpr(r.map));
      b.aggregates_ = saved_aggs;
    } else {
      e.args.push_back(b.BindExpr(r.map));
    }
    b.scope = std::move(saved);
    return e;
  }
  BoundExpr operator()(const ast::Unary& u) const {
    size_t at = b.Offset(u);
    // A minus sign directly on a number literal makes a negative literal (so the smallest
    // integer can be written).
    size_t first_applied = u.ops.size();
    BoundExpr inner;
    const ast::Postfix* pf = nullptr;
    if (auto* p = boost::get<ast::x3::forward_ast<ast::Postfix>>(&u.operand)) pf = &p->get();
    if (!u.ops.empty() && u.ops.back() == Op::kNeg && pf && pf->ops.empty()) {
      if (auto* num = boost::get<ast::NumberLiteral>(&pf->base)) {
        inner = Make(ExprKind::kLiteral, b.Offset(*num));
        inner.literal = ParseNumber(num->text, true, b.Offset(*num));
        first_applied = u.ops.size() - 1;
      }
    }
    if (first_applied == u.ops.size()) inner = b.BindOperand(u.operand, at);
    for (size_t i = first_applied; i-- > 0;) {
      if (u.ops[i] == Op::kNot) CheckBooleanOperand(inner, "NOT");
      BoundExpr e = Make(ExprKind::kUnary, at);
      e.op = u.ops[i];
      e.args.push_back(std::move(inner));
      BinderState::Nest(e);
      inner = std::move(e);
    }
    return inner;
  }
  BoundExpr operator()(const ast::Postfix& p) const {
    size_t at = b.Offset(p);
    BoundExpr base = b.BindOperand(p.base, at);
    for (const auto& op : p.ops) {
      if (auto* prop = boost::get<ast::PropertyLookup>(&op)) {
        CheckProperty(base, prop->key);
        BoundExpr e = Make(ExprKind::kProperty, b.Offset(prop->key));
        e.name = prop->key.text;
        e.args.push_back(std::move(base));
        BinderState::Nest(e);
        base = std::move(e);
      } else if (auto* idx = boost::get<ast::IndexLookup>(&op)) {
        BoundExpr e = Make(ExprKind::kIndex, at);
        e.args.push_back(std::move(base));
        e.args.push_back(b.BindExpr(idx->index));
        BinderState::Nest(e);
        base = std::move(e);
      } else if (auto* slice = boost::get<ast::SliceLookup>(&op)) {
        BoundExpr e = Make(ExprKind::kSlice, at);
        e.args.push_back(std::move(base));
        if (slice->from) {
          e.has_from = true;
          e.args.push_back(b.BindExpr(*slice->from));
        }
        if (slice->to) {
          e.has_to = true;
          e.args.push_back(b.BindExpr(*slice->to));
        }
        BinderState::Nest(e);
        base = std::move(e);
      } else if (auto* labels = boost::get<ast::LabelCheck>(&op)) {
        BoundExpr e = Make(ExprKind::kLabelCheck, at);
        for (const auto& l : labels->labels) {
          b.CheckLabel(l);
          e.keys.push_back(l.text);
        }
        e.args.push_back(std::move(base));
        BinderState::Nest(e);
        base = std::move(e);
      }
    }
    return base;
  }
  template <typename T>
  BoundExpr operator()(const ast::x3::forward_ast<T>& f) const {
    return (*this)(f.get());
  }

  // Arguments whose type is known here and which the function cannot take: a compile-time
  // error rather than one per row.
  void CheckArgumentTypes(const BoundExpr& call) const {
    for (const BoundExpr& a : call.args) {
      if (a.kind != ExprKind::kSubquery || a.keys.size() != 1 || a.keys[0] != "pattern") continue;
      if (call.name == "size")
        throw QueryError("SyntaxError", "UnexpectedSyntax",
                         "size() of a pattern predicate: use COUNT { pattern } to count its matches", a.offset);
      throw QueryError("SyntaxError", "UnexpectedSyntax",
                       "a pattern is a predicate, not a value " + call.name +
                           "() can take; use a pattern comprehension [p = (a)-->(b) | p] for its matches",
                       a.offset);
    }
    if (call.args.size() != 1) return;
    const BoundExpr& arg = call.args[0];
    if (arg.kind != ExprKind::kVariable) return;
    auto it = b.scope.find(arg.name);
    if (it == b.scope.end()) return;
    VarType t = it->second.type;
    bool bad = (call.name == "type" && (t == VarType::kNode || t == VarType::kPath || t == VarType::kValue)) ||
               (call.name == "length" && (t == VarType::kNode || t == VarType::kRel)) ||
               (call.name == "size" && t == VarType::kPath);
    if (bad)
      throw QueryError("SyntaxError", "InvalidArgumentType",
                       call.name + "() cannot take '" + arg.name + "', which is " +
                           (t == VarType::kNode ? "a node" : t == VarType::kRel ? "a relationship" :
                            t == VarType::kPath ? "a path" : "not a relationship"),
                       arg.offset);
  }

  // In closed mode, reading an attribute a node variable's class does not have is an error.
  void CheckProperty(const BoundExpr& base, const ast::Name& key) const {
    if (base.kind != ExprKind::kVariable) return;
    const Variable& v = b.scope.at(base.name);
    if (v.type == VarType::kPath || v.type == VarType::kRelList)
      throw QueryError("SyntaxError", "InvalidArgumentType",
                       "'" + base.name + "' is " + (v.type == VarType::kPath ? "a path" : "a list of relationships") +
                           ", which has no property '" + key.text + "'",
                       b.Offset(key));
    if (b.schema.open_mode()) return;
    if (v.type != VarType::kNode || v.label.empty() || !b.schema.FindClass(v.label)) return;
    if (b.schema.FindAttribute(v.label, key.text)) return;
    std::vector<std::string> names;
    for (const AttributeDef* a : b.schema.AllAttributes(v.label)) names.push_back(a->name);
    ThrowSemantic("UnknownProperty",
                  "class '" + v.label + "' has no attribute '" + key.text + "'" + DidYouMean(key.text, names),
                  b.Offset(key));
  }
};

}  // namespace

BoundExpr BinderState::BindOperand(const ast::Operand& operand, size_t offset) {
  BoundExpr e = boost::apply_visitor(OperandBinder{*this, offset}, operand);
  Nest(e);
  return e;
}

BoundExpr BinderState::BindPatternExpr(const std::string& kind, const ast::PatternPart& pattern,
                                       const boost::optional<ast::Expression>& where,
                                       const ast::Expression* map, const ast::x3::position_tagged& at) {
  if (!map) {
    // A pattern predicate only tests the variables it is given: it cannot introduce new ones.
    auto known = [&](const boost::optional<ast::Name>& v) {
      if (v && !scope.count(v->text))
        ThrowSemantic("UndefinedVariable",
                      "variable '" + v->text + "' is not defined: a pattern predicate cannot introduce variables "
                      "(use EXISTS { MATCH ... } for that)", Offset(*v));
    };
    known(pattern.path_variable);
    known(pattern.start.variable);
    for (const auto& step : pattern.steps) {
      if (step.relationship.detail) known(step.relationship.detail->variable);
      known(step.node.variable);
    }
  }
  ast::SingleQuery body;
  ast::Match match;
  static_cast<ast::x3::position_tagged&>(match) = at;
  match.pattern.push_back(pattern);
  match.where = where;
  body.clauses.push_back(ast::Clause(match));
  if (map) {
    ast::Return ret;
    static_cast<ast::x3::position_tagged&>(ret) = at;
    ast::ProjectionItem item;
    static_cast<ast::x3::position_tagged&>(item) = *map;
    item.expression = *map;
    ret.projection.items.push_back(item);
    body.clauses.push_back(ast::Clause(ret));
  }
  BoundExpr e = BindSubqueryExpr(kind, body, Offset(at));
  if (!map) e.keys.push_back("pattern");  // a bare pattern: a predicate, never a value to return
  return e;
}

}  // namespace cmdb::gql::detail
