// Expression evaluation with the language's null and type rules.
#include <cmath>

#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"
#include "query/runtime/temporal.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;

std::optional<bool> AsTernary(const QValue& v, size_t offset, const char* what) {
  if (v.is_null()) return std::nullopt;
  if (v.kind() != K::kBool)
    ThrowType("InvalidArgumentType", std::string(what) + " expects a boolean, got " + v.kind_name(), offset);
  return v.as_bool();
}

QValue FromTernary(std::optional<bool> b) { return b ? QValue(*b) : QValue(); }

[[noreturn]] void Overflow(size_t offset) {
  throw QueryError("ArgumentError", "IntegerOverflow", "integer overflow", offset);
}

QValue Arithmetic(Op op, const QValue& a, const QValue& b, size_t offset) {
  if (a.is_null() || b.is_null()) return QValue();
  if ((op == Op::kAdd || op == Op::kSub) && a.kind() == K::kTemporal && b.kind() == K::kTemporal) {
    if (auto r = TemporalArithmetic(op == Op::kSub, a, b, offset)) return *r;
    ThrowType("InvalidArgumentType",
              std::string("cannot ") + (op == Op::kAdd ? "add " : "subtract ") + b.kind_name() +
                  (op == Op::kAdd ? " to " : " from ") + a.kind_name(),
              offset);
  }
  if (op == Op::kAdd) {
    if (a.kind() == K::kList || b.kind() == K::kList) {
      QList out = a.kind() == K::kList ? a.as_list() : QList{a};
      if (b.kind() == K::kList) out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      else out.push_back(b);
      return QValue(out);
    }
    if (a.kind() == K::kString || b.kind() == K::kString) {
      auto text = [&](const QValue& v) -> std::string {
        if (v.kind() == K::kString) return v.as_string();
        if (v.kind() == K::kInt) return std::to_string(v.as_int());
        if (v.kind() == K::kFloat) return FormatFloat(v.as_float());
        ThrowType("InvalidArgumentType", std::string("cannot add ") + a.kind_name() + " and " + b.kind_name(), offset);
      };
      return QValue(text(a) + text(b));
    }
  }
  if (a.kind() == K::kTemporal || b.kind() == K::kTemporal) {
    if (auto r = TemporalScale(op, a, b, offset)) return *r;
  }
  if (!a.is_number() || !b.is_number())
    ThrowType("InvalidArgumentType",
              std::string("arithmetic needs numbers, got ") + a.kind_name() + " and " + b.kind_name(), offset);
  if (a.kind() == K::kInt && b.kind() == K::kInt && op != Op::kPow) {
    int64_t x = a.as_int(), y = b.as_int(), r = 0;
    switch (op) {
      case Op::kAdd: if (__builtin_add_overflow(x, y, &r)) Overflow(offset); return QValue(r);
      case Op::kSub: if (__builtin_sub_overflow(x, y, &r)) Overflow(offset); return QValue(r);
      case Op::kMul: if (__builtin_mul_overflow(x, y, &r)) Overflow(offset); return QValue(r);
      case Op::kDiv:
        if (y == 0) throw QueryError("ArgumentError", "DivisionByZero", "division by zero", offset);
        if (x == INT64_MIN && y == -1) Overflow(offset);
        return QValue(x / y);
      case Op::kMod:
        if (y == 0) throw QueryError("ArgumentError", "DivisionByZero", "modulo by zero", offset);
        if (y == -1) return QValue(int64_t(0));
        return QValue(x % y);
      default: break;
    }
  }
  double x = a.as_number(), y = b.as_number();
  switch (op) {
    case Op::kAdd: return QValue(x + y);
    case Op::kSub: return QValue(x - y);
    case Op::kMul: return QValue(x * y);
    case Op::kDiv: return QValue(x / y);
    case Op::kMod: return QValue(std::fmod(x, y));
    case Op::kPow: return QValue(std::pow(x, y));
    default: return QValue();
  }
}

}  // namespace

// A shared payload's fixed cost: the control block, the payload's header and what malloc adds
// to its two blocks (measured: 3M three-element lists in collect() took about 250 bytes each).
constexpr size_t kPayloadBytes = 80;

size_t ApproxBytes(const QValue& root) {
  size_t bytes = 0;
  std::vector<const QValue*> todo{&root};  // no recursion, however deep the value
  while (!todo.empty()) {
    const QValue& v = *todo.back();
    todo.pop_back();
    bytes += sizeof(QValue);
    switch (v.kind()) {
      case K::kString:
        bytes += v.as_string().size();
        break;
      case K::kList: {
        const auto& p = std::get<std::shared_ptr<const ListPayload>>(v.v);
        if (p.use_count() > 1) break;  // shared: counted where it was built
        bytes += kPayloadBytes;
        for (const QValue& e : p->items) todo.push_back(&e);
        break;
      }
      case K::kMap: {
        const auto& p = std::get<std::shared_ptr<const MapPayload>>(v.v);
        if (p.use_count() > 1) break;
        bytes += kPayloadBytes;
        for (const auto& [k, e] : p->items) {
          bytes += 64 + k.size();
          todo.push_back(&e);
        }
        break;
      }
      case K::kPath: {
        const auto& p = std::get<std::shared_ptr<const PathValue>>(v.v);
        if (p.use_count() > 1) break;
        bytes += kPayloadBytes + p->nodes.size() * sizeof(NodeRef) + p->rels.size() * sizeof(RelRef);
        break;
      }
      case K::kTemporal:
        if (std::get<std::shared_ptr<const Temporal>>(v.v).use_count() == 1) bytes += kPayloadBytes;
        break;
      default:
        break;
    }
  }
  return bytes;
}

size_t RowBytes(const Row& row) {
  size_t bytes = sizeof(Row);
  for (const QValue& v : row) bytes += ApproxBytes(v);
  return bytes;
}

void Executor::ChargeBuilt(size_t bytes, const char* what, size_t offset) {
  if (bytes > options_.max_bytes) ThrowByteBudget(what, options_.max_bytes, offset);  // alone
  if (built_bytes_ + charged_bytes_ > options_.max_bytes - bytes)  // with what the query holds
    throw QueryError("ResourceExhausted", "ByteBudget",
                     "the query needs more than " + std::to_string(options_.max_bytes) +
                         " bytes in memory at once (the byte budget, max_query_bytes)");
  built_bytes_ += bytes;
  if (options_.memory && charged_bytes_ + built_bytes_ > reserved_) {
    size_t want = charged_bytes_ + built_bytes_ - reserved_;
    if (!options_.memory->Reserve(want))
      throw QueryError("ResourceExhausted", "TotalByteBudget",
                       "the running queries together need more than " + std::to_string(options_.memory->limit()) +
                           " bytes in memory (the server-wide budget, max_total_query_bytes)");
    reserved_ += want;
  }
}

void Executor::ReleaseBuilt() {
  built_bytes_ = 0;
  if (options_.memory && reserved_ > charged_bytes_) {
    options_.memory->Release(reserved_ - charged_bytes_);
    reserved_ = charged_bytes_;
  }
}

QValue Executor::Add(Op op, const QValue& a, const QValue& b, size_t offset) {
  if (op == Op::kAdd && !a.is_null() && !b.is_null()) {
    if (a.kind() == K::kList || b.kind() == K::kList) {
      size_t bytes = 80;  // the payload
      for (const QValue* v : {&a, &b}) {
        if (v->kind() == K::kList) bytes += CopyBytes(v->as_list().data(), v->as_list().data() + v->as_list().size());
        else bytes += CopyBytes(v, v + 1);
      }
      ChargeBuilt(bytes, "list concatenation", offset);
    } else if (a.kind() == K::kString || b.kind() == K::kString) {
      size_t bytes = 64;  // a number's text
      for (const QValue* v : {&a, &b})
        if (v->kind() == K::kString) bytes += v->as_string().size();
      ChargeBuilt(bytes, "string concatenation", offset);
    }
  }
  return Arithmetic(op, a, b, offset);
}

void Executor::Charge(size_t rows, size_t bytes, const char* what) {
  charged_rows_ += rows;
  charged_bytes_ += bytes;
  // The message is built only when it is thrown: Charge runs for every row a query holds.
  auto needs = [what] {
    return what ? std::string(what) + " needs more than " : std::string("the query needs more than ");
  };
  if (charged_rows_ > options_.max_rows)
    throw QueryError("ResourceExhausted", "RowBudget",
                     needs() + std::to_string(options_.max_rows) + " rows in memory at once (the row budget, max_query_rows)");
  if (charged_bytes_ > options_.max_bytes)
    throw QueryError("ResourceExhausted", "ByteBudget",
                     needs() + std::to_string(options_.max_bytes) +
                         " bytes in memory at once (the byte budget, max_query_bytes)");
  if (options_.memory && charged_bytes_ + built_bytes_ > reserved_) {
    constexpr size_t kChunk = 64 << 10;  // reserve ahead: the shared counter is touched rarely
    size_t want = charged_bytes_ + built_bytes_ - reserved_ + kChunk;
    if (!options_.memory->Reserve(want) && !options_.memory->Reserve(want -= kChunk))
      throw QueryError("ResourceExhausted", "TotalByteBudget",
                       "the running queries together need more than " + std::to_string(options_.memory->limit()) +
                           " bytes in memory (the server-wide budget, max_total_query_bytes)");
    reserved_ += want;
  }
}

void Executor::ResetCharges() {
  charged_rows_ = charged_bytes_ = 0;
  if (options_.memory && reserved_) options_.memory->Release(reserved_);
  reserved_ = 0;
}

QValue Executor::Built(QValue v, size_t offset) const {
  if (v.kind() != K::kList && v.kind() != K::kMap && v.kind() != K::kString) return v;
  if (v.tree_bytes() > options_.max_bytes) ThrowByteBudget("a value built here", options_.max_bytes, offset);
  if (v.depth() > kMaxValueDepth) ThrowValueTooDeep(kMaxValueDepth, offset);
  return v;
}

void Executor::CheckDeadline() {
  // Its own count: sharing CheckTime's, a row that calls both in a fixed pattern could make
  // CheckTime take every 1024th turn, and the safe point never come.
  if ((++safe_point_counter_ & 1023) != 0) return;
  if (sub_depth_ > 0) {  // a subquery may run inside the outer search, which holds records
    if (std::chrono::steady_clock::now() > options_.deadline)
      throw QueryError("TransientError", "Timeout", "the query ran past its time limit and was stopped");
    return;
  }
  if (std::chrono::steady_clock::now() > options_.deadline)
    throw QueryError("TransientError", "Timeout", "the query ran past its time limit and was stopped");
  graph_.SafePoint();
}

void Executor::CheckTime() {
  if ((++deadline_counter_ & 1023) != 0) return;
  if (std::chrono::steady_clock::now() > options_.deadline)
    throw QueryError("TransientError", "Timeout", "the query ran past its time limit and was stopped");
}

bool Executor::IsTrue(const BoundExpr& e, Row& row) {
  QValue v = Eval(e, row);
  auto b = AsTernary(v, e.offset, "a predicate");
  return b && *b;
}

QValue Executor::EvalProperty(const QValue& base, const std::string& key, size_t offset) {
  switch (base.kind()) {
    case K::kNull: return QValue();
    case K::kNode: {
      const CiRecord* ci = graph_.Node(base.as_node().id);
      if (!ci) throw QueryError("EntityNotFound", "DeletedEntityAccess", "the node was deleted", offset);
      return AttrToQValue(graph_.schema(), ci->class_name.str(), false, key, ci->attrs.Get(key));
    }
    case K::kRel: {
      std::optional<RelRecord> r = graph_.Rel(base.as_rel().id);
      if (!r) throw QueryError("EntityNotFound", "DeletedEntityAccess", "the relationship was deleted", offset);
      return AttrToQValue(graph_.schema(), r->type.str(), true, key, r->attrs.Get(key));
    }
    case K::kTemporal: return TemporalComponent(base.as_temporal(), key, offset);
    case K::kMap: {
      auto it = base.as_map().find(key);
      return it == base.as_map().end() ? QValue() : it->second;
    }
    default:
      ThrowType("InvalidArgumentType", std::string("cannot read property '") + key + "' of " + base.kind_name(), offset);
  }
}

QValue Executor::Eval(const BoundExpr& e, Row& row) {
  struct Level {
    Executor& ex;
    explicit Level(Executor& x) : ex(x) { ++ex.eval_depth_; }
    ~Level() {
      if (--ex.eval_depth_ == 0 && ex.built_bytes_) ex.ReleaseBuilt();
    }
  } level(*this);
  return EvalNode(e, row);
}

QValue Executor::EvalNode(const BoundExpr& e, Row& row) {
  switch (e.kind) {
    case ExprKind::kLiteral: return e.literal;
    case ExprKind::kParameter: {
      auto it = params_.find(e.name);
      if (it == params_.end())
        throw QueryError("ParameterMissing", "MissingParameter", "parameter $" + e.name + " was not given", e.offset);
      return it->second;
    }
    case ExprKind::kVariable: return row[e.slot];
    case ExprKind::kProperty: return EvalProperty(Eval(e.args[0], row), e.name, e.offset);
    case ExprKind::kIndex: {
      QValue base = Eval(e.args[0], row), idx = Eval(e.args[1], row);
      if (base.is_null() || idx.is_null()) return QValue();
      if (base.kind() == K::kList) {
        if (idx.kind() != K::kInt) ThrowType("InvalidArgumentType", "a list index must be an integer", e.offset);
        int64_t i = idx.as_int(), n = static_cast<int64_t>(base.as_list().size());
        if (i < 0) i += n;
        return i < 0 || i >= n ? QValue() : base.as_list()[i];
      }
      if (base.kind() == K::kMap || base.kind() == K::kNode || base.kind() == K::kRel) {
        if (idx.kind() != K::kString)
          ThrowType("MapElementAccessByNonString", "a map key must be a string", e.offset);
        return EvalProperty(base, idx.as_string(), e.offset);
      }
      ThrowType("InvalidArgumentType", std::string("cannot index ") + base.kind_name(), e.offset);
    }
    case ExprKind::kSlice: {
      QValue base = Eval(e.args[0], row);
      size_t i = 1;
      QValue from = e.has_from ? Eval(e.args[i++], row) : QValue(int64_t(0));
      QValue to = e.has_to ? Eval(e.args[i++], row) : QValue();
      if (base.is_null() || from.is_null() || (e.has_to && to.is_null())) return QValue();
      if (base.kind() != K::kList) ThrowType("InvalidArgumentType", "only lists can be sliced", e.offset);
      int64_t n = static_cast<int64_t>(base.as_list().size());
      int64_t a = from.as_int(), b = e.has_to ? to.as_int() : n;
      if (a < 0) a += n;
      if (b < 0) b += n;
      a = std::clamp<int64_t>(a, 0, n);
      b = std::clamp<int64_t>(b, 0, n);
      if (a < b) ChargeBuilt(CopyBytes(base.as_list().data() + a, base.as_list().data() + b), "a slice", e.offset);
      return Built(a >= b ? QList{} : QList(base.as_list().begin() + a, base.as_list().begin() + b), e.offset);
    }
    case ExprKind::kLabelCheck: {
      QValue base = Eval(e.args[0], row);
      if (base.is_null()) return QValue();
      if (base.kind() != K::kNode) ThrowType("InvalidArgumentType", "label checks need a node", e.offset);
      const CiRecord* ci = graph_.Node(base.as_node().id);
      if (!ci) return QValue(false);
      for (const auto& l : e.keys) {
        if (!(ci->class_name == l || (graph_.schema().IsA(ci->class_name, l) && !ci->class_name.empty()))) return QValue(false);
      }
      return QValue(true);
    }
    case ExprKind::kList: {
      QList out;
      out.reserve(e.args.size());
      size_t bytes = 0;  // checked as it grows: [$s, $s, ...] copies the string every time
      for (const auto& a : e.args) {
        out.push_back(Eval(a, row));
        bytes += out.back().tree_bytes();
        if (bytes > options_.max_bytes) ThrowByteBudget("a value built here", options_.max_bytes, e.offset);
        ChargeBuilt(CopyBytes(&out.back(), &out.back() + 1), "a value built here", e.offset);
      }
      return Built(QValue(std::move(out)), e.offset);
    }
    case ExprKind::kMap: {
      QMap out;
      size_t bytes = 0;
      for (size_t i = 0; i < e.args.size(); ++i) {
        QValue& slot = out[e.keys[i]] = Eval(e.args[i], row);
        bytes += slot.tree_bytes();
        if (bytes > options_.max_bytes) ThrowByteBudget("a value built here", options_.max_bytes, e.offset);
        ChargeBuilt(CopyBytes(&slot, &slot + 1) + 64 + e.keys[i].size(), "a value built here", e.offset);
      }
      return Built(QValue(std::move(out)), e.offset);
    }
    case ExprKind::kFunction: {
      std::vector<QValue> args;
      args.reserve(e.args.size());
      for (const auto& a : e.args) args.push_back(Eval(a, row));
      return Built(e.fn->scalar(args, FnEnv{graph_, e.offset, options_.max_bytes, this,
                                            options_.now_micros, options_.store}),
                   e.offset);
    }
    case ExprKind::kAggregate:
      throw QueryError("SemanticError", "InvalidAggregation", "an aggregate cannot be used here", e.offset);
    case ExprKind::kAggregateRef:
      if (!current_aggregates_)
        throw QueryError("SemanticError", "InvalidAggregation", "an aggregate cannot be used here", e.offset);
      return (*current_aggregates_)[e.index];
    case ExprKind::kCase: {
      size_t i = 0;
      QValue subject;
      if (e.has_subject) subject = Eval(e.args[i++], row);
      size_t end = e.args.size() - (e.has_else ? 1 : 0);
      for (; i + 1 < end + 1 && i < end; i += 2) {
        QValue w = Eval(e.args[i], row);
        bool hit = e.has_subject ? Equals(subject, w).value_or(false) : (w.kind() == K::kBool && w.as_bool());
        if (hit) return Eval(e.args[i + 1], row);
      }
      return e.has_else ? Eval(e.args.back(), row) : QValue();
    }
    case ExprKind::kListComprehension: {
      QValue list = Eval(e.args[0], row);
      if (list.is_null()) return QValue();
      if (list.kind() != K::kList) ThrowType("InvalidArgumentType", "IN expects a list", e.offset);
      QList out;
      QValue saved = row[e.slot];
      size_t bytes = 0;  // what the new list holds written out in full, against the byte budget
      for (const auto& item : list.as_list()) {
        CheckTime();
        row[e.slot] = item;
        size_t i = 1;
        if (e.has_where && !IsTrue(e.args[i++], row)) continue;
        out.push_back(e.has_map ? Eval(e.args[i], row) : item);
        ChargeBuilt(CopyBytes(&out.back(), &out.back() + 1) + sizeof(QValue), "a list comprehension", e.offset);
        bytes += out.back().tree_bytes();
        if (bytes > options_.max_bytes) ThrowByteBudget("a list comprehension", options_.max_bytes, e.offset);
      }
      row[e.slot] = saved;
      return Built(QValue(std::move(out)), e.offset);
    }
    case ExprKind::kQuantifier: {
      QValue list = Eval(e.args[0], row);
      if (list.is_null()) return QValue();
      if (list.kind() != K::kList) ThrowType("InvalidArgumentType", "IN expects a list", e.offset);
      int64_t trues = 0, nulls = 0, n = 0;
      QValue saved = row[e.slot];
      for (const auto& item : list.as_list()) {
        CheckTime();
        row[e.slot] = item;
        ++n;
        auto b = e.has_where ? AsTernary(Eval(e.args[1], row), e.offset, e.name.c_str()) : AsTernary(item, e.offset, e.name.c_str());
        if (!b) ++nulls;
        else if (*b) ++trues;
      }
      row[e.slot] = saved;
      int64_t falses = n - trues - nulls;
      if (e.name == "all") return falses ? QValue(false) : nulls ? QValue() : QValue(true);
      if (e.name == "any") return trues ? QValue(true) : nulls ? QValue() : QValue(false);
      if (e.name == "none") return trues ? QValue(false) : nulls ? QValue() : QValue(true);
      if (trues > 1) return QValue(false);  // single
      if (nulls) return QValue();
      return QValue(trues == 1);
    }
    case ExprKind::kUnary: {
      QValue v = Eval(e.args[0], row);
      switch (e.op) {
        case Op::kIsNull: return QValue(v.is_null());
        case Op::kIsNotNull: return QValue(!v.is_null());
        case Op::kNot: {
          auto b = AsTernary(v, e.offset, "NOT");
          return b ? QValue(!*b) : QValue();
        }
        case Op::kNeg:
          if (v.is_null()) return v;
          if (v.kind() == K::kInt) {
            if (v.as_int() == INT64_MIN) Overflow(e.offset);
            return QValue(-v.as_int());
          }
          if (v.kind() == K::kFloat) return QValue(-v.as_float());
          ThrowType("InvalidArgumentType", std::string("cannot negate ") + v.kind_name(), e.offset);
        case Op::kPos:
          if (!v.is_null() && !v.is_number())
            ThrowType("InvalidArgumentType", std::string("unary + needs a number, got ") + v.kind_name(), e.offset);
          return v;
        default: return QValue();
      }
    }
    case ExprKind::kBinary: return EvalBinary(e, row);
    case ExprKind::kSubquery: return EvalSubquery(e, row);
    case ExprKind::kMapProjection: return EvalMapProjection(e, row);
    case ExprKind::kReduce: return EvalReduce(e, row);
  }
  return QValue();
}

QValue Executor::EvalChain(const BoundExpr& e, Row& row) {
  Op op = e.op;
  if (op == Op::kAnd || op == Op::kOr) {  // the same as the left fold, with its short cuts
    bool unknown = false;
    for (const BoundExpr& arg : e.args) {
      auto v = AsTernary(Eval(arg, row), e.offset, "a boolean operator");
      if (!v) unknown = true;
      else if (*v == (op == Op::kOr)) return QValue(*v);
    }
    return unknown ? QValue() : QValue(op == Op::kAnd);
  }
  if (op == Op::kXor) {
    bool unknown = false, odd = false;
    for (const BoundExpr& arg : e.args) {
      auto v = AsTernary(Eval(arg, row), e.offset, "a boolean operator");
      if (!v) unknown = true;
      else odd ^= *v;
    }
    return unknown ? QValue() : QValue(odd);
  }
  QValue acc = Eval(e.args[0], row);
  for (size_t i = 1; i < e.args.size(); ++i) {
    CheckTime();
    acc = Built(Add(e.ops[i - 1], acc, Eval(e.args[i], row), e.offset), e.offset);
  }
  return acc;
}

QValue Executor::EvalBinary(const BoundExpr& e, Row& row) {
  if (e.args.size() > 2) return EvalChain(e, row);
  Op op = e.op;
  if (op == Op::kAnd || op == Op::kOr || op == Op::kXor) {
    auto a = AsTernary(Eval(e.args[0], row), e.offset, "a boolean operator");
    if (op == Op::kAnd && a && !*a) return QValue(false);
    if (op == Op::kOr && a && *a) return QValue(true);
    auto b = AsTernary(Eval(e.args[1], row), e.offset, "a boolean operator");
    if (op == Op::kAnd) {
      if (b && !*b) return QValue(false);
      return a && b ? QValue(true) : QValue();
    }
    if (op == Op::kOr) {
      if (b && *b) return QValue(true);
      return a && b ? QValue(false) : QValue();
    }
    return a && b ? QValue(*a != *b) : QValue();
  }
  QValue a = Eval(e.args[0], row), b = Eval(e.args[1], row);
  switch (op) {
    case Op::kEq: return FromTernary(Equals(a, b));
    case Op::kNe: {
      auto r = Equals(a, b);
      return r ? QValue(!*r) : QValue();
    }
    case Op::kLt: case Op::kGt: case Op::kLe: case Op::kGe: {
      // NaN is unordered: every ordering comparison of it with a number is false.
      if (a.is_number() && b.is_number() && (std::isnan(a.as_number()) || std::isnan(b.as_number())))
        return QValue(false);
      auto c = CompareForPredicate(a, b);
      if (!c) return QValue();
      bool r = op == Op::kLt ? *c < 0 : op == Op::kGt ? *c > 0 : op == Op::kLe ? *c <= 0 : *c >= 0;
      return QValue(r);
    }
    case Op::kStartsWith: case Op::kEndsWith: case Op::kContains: {
      if (a.kind() != K::kString || b.kind() != K::kString) return QValue();
      const std::string &s = a.as_string(), &t = b.as_string();
      if (op == Op::kStartsWith) return QValue(s.compare(0, t.size(), t) == 0 && s.size() >= t.size());
      if (op == Op::kEndsWith) return QValue(s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0);
      return QValue(s.find(t) != std::string::npos);
    }
    case Op::kIn: {
      if (b.is_null()) return QValue();
      if (b.kind() != K::kList) ThrowType("InvalidArgumentType", std::string("IN expects a list, got ") + b.kind_name(), e.offset);
      bool unknown = false;
      for (const auto& item : b.as_list()) {
        auto eq = Equals(a, item);
        if (!eq) unknown = true;
        else if (*eq) return QValue(true);
      }
      return unknown ? QValue() : QValue(false);
    }
    case Op::kRegex: {
      if (a.kind() != K::kString || b.kind() != K::kString) return QValue();
      return QValue(regex_.FullMatch(b.as_string(), a.as_string(), e.offset));
    }
    default: return Built(Add(op, a, b, e.offset), e.offset);
  }
}

}  // namespace cmdb::gql
