// Binding clauses: scopes through MATCH, WITH, UNWIND; patterns; projections; writes.
#include "query/binder/binder.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "cmdb/suggest.hpp"
#include "query/binder/binder_state.hpp"
#include "query/common/query_error.hpp"
#include "query/runtime/functions.hpp"
#include "query/runtime/procedures.hpp"

namespace cmdb::gql {
namespace {

using detail::BinderState;
using detail::Variable;
using detail::VarType;

const char* TypeName(VarType t) {
  switch (t) {
    case VarType::kNode: return "a node";
    case VarType::kRel: return "a relationship";
    case VarType::kRelList: return "a list of relationships";
    case VarType::kPath: return "a path";
    case VarType::kValue: return "a value that is no node, relationship or path";
    default: return "a value";
  }
}

// Splits a predicate into its AND-ed conjuncts.
void Conjuncts(BoundExpr e, std::vector<BoundExpr>& out) {
  if (e.kind == ExprKind::kBinary && e.op == Op::kAnd) {  // chains of AND are all AND
    for (BoundExpr& a : e.args) Conjuncts(std::move(a), out);
  } else {
    out.push_back(std::move(e));
  }
}

bool ContainsAggregate(const BoundExpr& e) {
  if (e.kind == ExprKind::kAggregateRef) return true;
  return std::any_of(e.args.begin(), e.args.end(), ContainsAggregate);
}

bool UsesVariables(const BoundExpr& e) {
  if (e.kind == ExprKind::kVariable) return true;
  return std::any_of(e.args.begin(), e.args.end(), UsesVariables);
}

class ClauseBinder {
 public:
  ClauseBinder(BinderState& s) : s_(s) {}

  // Binds one query part. `nested`: the body of a subquery, which starts from the scope it is
  // given and may end with any clause.
  BoundSingleQuery BindSingle(const ast::SingleQuery& q, bool& writes, bool nested = false) {
    BoundSingleQuery out;
    if (!nested) s_.scope.clear();
    for (size_t i = 0; i < q.clauses.size(); ++i) {
      const ast::Clause& c = q.clauses[i];
      bool last = i + 1 == q.clauses.size();
      if (auto* m = boost::get<ast::Match>(&c)) {
        out.clauses.push_back(BindMatch(*m));
      } else if (auto* u = boost::get<ast::Unwind>(&c)) {
        out.clauses.push_back(BindUnwind(*u));
      } else if (auto* w = boost::get<ast::With>(&c)) {
        out.clauses.push_back(BindProjection(w->projection, false, w->where ? &*w->where : nullptr, *w, nullptr));
      } else if (auto* r = boost::get<ast::Return>(&c)) {
        if (!last)
          throw QueryError("SyntaxError", "InvalidClauseComposition", "RETURN must be the last clause", s_.Offset(*r));
        out.clauses.push_back(BindProjection(r->projection, true, nullptr, *r, &out.columns));
      } else if (auto* cr = boost::get<ast::Create>(&c)) {
        writes = true;
        out.clauses.push_back(BindCreate(*cr));
      } else if (auto* mg = boost::get<ast::Merge>(&c)) {
        writes = true;
        out.clauses.push_back(BindMerge(*mg));
      } else if (auto* st = boost::get<ast::Set>(&c)) {
        writes = true;
        BoundSet set;
        for (const auto& item : st->items) set.items.push_back(BindSetItem(item));
        out.clauses.push_back(std::move(set));
      } else if (auto* rm = boost::get<ast::Remove>(&c)) {
        writes = true;
        out.clauses.push_back(BindRemove(*rm));
      } else if (auto* call = boost::get<ast::Call>(&c)) {
        out.clauses.push_back(BindCall(*call));
      } else if (auto* fe = boost::get<ast::x3::forward_ast<ast::Foreach>>(&c)) {
        writes = true;
        out.clauses.push_back(BindForeach(fe->get(), writes));
      } else if (auto* cs = boost::get<ast::x3::forward_ast<ast::CallSubquery>>(&c)) {
        out.clauses.push_back(BindCallSubquery(cs->get(), writes));
      } else if (auto* d = boost::get<ast::Delete>(&c)) {
        writes = true;
        BoundDelete del;
        del.detach = d->detach;
        for (const auto& t : d->targets) {
          BoundExpr e = s_.BindExpr(t);
          if (e.kind != ExprKind::kVariable && e.kind != ExprKind::kIndex && e.kind != ExprKind::kProperty &&
              e.kind != ExprKind::kFunction)
            ThrowType("InvalidArgumentType", "DELETE expects a node, relationship or path", e.offset);
          del.targets.push_back(std::move(e));
        }
        out.clauses.push_back(std::move(del));
      }
    }
    if (nested) return out;
    if (out.clauses.size() == 1 && out.columns.empty()) {
      if (const auto* call = std::get_if<BoundCall>(&out.clauses.back()))
        out.clauses.push_back(detail::ReturnEveryField(*call, s_, out.columns));
    }
    bool ends_with_update = !std::holds_alternative<BoundProjection>(out.clauses.back()) &&
                            !std::holds_alternative<BoundMatch>(out.clauses.back()) &&
                            !std::holds_alternative<BoundCall>(out.clauses.back()) &&
                            !(std::holds_alternative<BoundCallSubquery>(out.clauses.back()) &&
                              !s_.subqueries[std::get<BoundCallSubquery>(out.clauses.back()).body].returns.empty()) &&
                            !std::holds_alternative<BoundUnwind>(out.clauses.back());
    if (!ends_with_update && out.columns.empty() && !std::get_if<BoundProjection>(&out.clauses.back())) {
      throw QueryError("SyntaxError", "InvalidClauseComposition",
                       "a query must end with RETURN or an updating clause", s_.Offset(q));
    }
    if (auto* p = std::get_if<BoundProjection>(&out.clauses.back()); p && !p->is_return)
      throw QueryError("SyntaxError", "InvalidClauseComposition",
                       "a query cannot end with WITH; add RETURN", s_.Offset(q));
    return out;
  }

 private:
  Variable& Declare(const ast::Name& name, VarType type, const std::string& label = "") {
    auto it = s_.scope.find(name.text);
    if (it != s_.scope.end())
      ThrowSemantic("VariableAlreadyBound", "variable '" + name.text + "' is already defined", s_.Offset(name));
    Variable v{s_.NewSlot(), type, label};
    return s_.scope[name.text] = v;
  }

  void CheckType(const ast::Name& name, const Variable& v, VarType want) {
    if (v.type == want || (v.type == VarType::kAny && want != VarType::kPath)) return;
    ThrowSemantic("VariableTypeConflict",
                  "variable '" + name.text + "' is " + TypeName(v.type) + ", not " + TypeName(want), s_.Offset(name));
  }

  std::vector<std::pair<std::string, BoundExpr>> BindProperties(const boost::optional<ast::Properties>& props,
                                                                size_t offset) {
    std::vector<std::pair<std::string, BoundExpr>> out;
    if (!props) return out;
    if (auto* m = boost::get<ast::x3::forward_ast<ast::MapLiteral>>(&*props)) {
      for (const auto& e : m->get().entries) out.emplace_back(e.key.text, s_.BindExpr(e.value));
    } else if (auto* p = boost::get<ast::Parameter>(&*props)) {
      if (!params_allowed_)
        throw QueryError("SyntaxError", "InvalidParameterUse",
                         "a parameter cannot stand for the properties of a pattern to match; write {key: $value}",
                         s_.Offset(*p));
      BoundExpr e;
      e.kind = ExprKind::kParameter;
      e.name = p->name;
      e.offset = s_.Offset(*p);
      out.emplace_back("", std::move(e));  // "" = the whole map comes from a parameter
    }
    (void)offset;
    return out;
  }

  // Binds a pattern. `creating`: CREATE/MERGE rules (new variables only where they introduce
  // entities, one type per relationship, directed, fixed length).
  // `merging`: MERGE, which matches an undirected relationship either way and creates it left
  // to right.
  BoundPattern BindPattern(const ast::PatternPart& part, bool creating, std::set<std::string>& clause_vars,
                           std::vector<int>& new_slots, bool merging = false) {
    BoundPattern out;
    auto bind_node = [&](const ast::NodePattern& n) {
      BoundNode node;
      for (const auto& l : n.labels) {
        s_.CheckLabel(l);
        node.labels.push_back(l.text);
      }
      if (n.variable) {
        auto it = s_.scope.find(n.variable->text);
        if (it != s_.scope.end()) {
          CheckType(*n.variable, it->second, VarType::kNode);
          if (creating && (!n.labels.empty() || n.properties || part.steps.empty()))
            ThrowSemantic("VariableAlreadyBound",
                          "variable '" + n.variable->text +
                              "' is already bound: it cannot be created again or given labels or properties here",
                          s_.Offset(*n.variable));
          it->second.type = VarType::kNode;
          node.slot = it->second.slot;
          // Bound before this clause; a variable repeated within the clause is bound by its
          // first occurrence (then compared), not before the search starts.
          node.bound = !clause_vars.count(n.variable->text);
        } else {
          node.slot = Declare(*n.variable, VarType::kNode, node.labels.empty() ? "" : node.labels[0]).slot;
          clause_vars.insert(n.variable->text);
          new_slots.push_back(node.slot);
        }
      } else {
        node.slot = s_.NewSlot();
        new_slots.push_back(node.slot);
      }
      node.properties = BindProperties(n.properties, s_.Offset(n));
      out.nodes.push_back(std::move(node));
    };
    const ast::PathSelector* selector = part.selector ? &*part.selector : nullptr;
    if (selector) BindSelector(*selector, part, creating, out);
    bind_node(part.start);
    for (const auto& step : part.steps) {
      const ast::RelationshipPattern& rp = step.relationship;
      BoundRel rel;
      rel.direction = rp.left && !rp.right ? Direction::kIn : (!rp.left && rp.right ? Direction::kOut : Direction::kBoth);
      const ast::RelationshipDetail* d = rp.detail ? &*rp.detail : nullptr;
      const ast::Range* range = d && d->range ? &*d->range : (rp.quantifier ? &*rp.quantifier : nullptr);
      if (d) {
        for (const auto& t : d->types) {
          s_.CheckRelType(t);
          if (std::find(rel.types.begin(), rel.types.end(), t.text) == rel.types.end()) rel.types.push_back(t.text);
        }
      }
      if (range || selector) {  // a shortest path's one relationship is a list, *1..1 unless given
        rel.var_length = true;
        auto num = [&](const boost::optional<ast::NumberLiteral>& n) -> int64_t {
          QValue v = detail::ParseNumber(n->text, false, s_.Offset(*n));
          if (v.kind() != QValue::Kind::kInt)
            throw QueryError("SyntaxError", "InvalidArgumentType",
                             "a variable-length bound must be an integer, not " + n->text, s_.Offset(*n));
          return v.as_int();
        };
        if (!range) {
          rel.min_hops = rel.max_hops = 1;
        } else {
          if (range->min) rel.min_hops = num(range->min);
          if (range->max) {
            rel.max_hops = num(range->max);
          } else if (range->dots || !range->min) {
            rel.unbounded = true;
            rel.max_hops = s_.options.default_max_depth;
          } else {
            rel.max_hops = rel.min_hops;  // *3 and {3}: exactly three
          }
          if (!range->min && !range->dots && !range->max) rel.min_hops = 1;
        }
        if (selector && rel.min_hops > 1 && out.select != PathSelect::kShortestK)
          ThrowSemantic("InvalidShortestPathLength",
                        "shortestPath, allShortestPaths, ANY SHORTEST and ALL SHORTEST search from length 0 or 1, not " +
                            std::to_string(rel.min_hops) + " (SHORTEST k takes any minimum)",
                        s_.Offset(rp));
      }
      if (creating) {
        size_t at = s_.Offset(rp);
        if (rel.var_length) ThrowSemantic("CreatingVarLength", "variable-length relationships cannot be created", at);
        if (rel.types.size() != 1)
          ThrowSemantic("NoSingleRelationshipType", "a relationship to create needs exactly one type", at);
        if (rel.direction == Direction::kBoth && !merging)
          ThrowSemantic("RequiresDirectedRelationship", "a relationship to create needs a direction", at);
      }
      if (d && d->variable) {
        auto it = s_.scope.find(d->variable->text);
        VarType type = rel.var_length ? VarType::kRelList : VarType::kRel;
        if (it != s_.scope.end()) {
          if (creating || clause_vars.count(d->variable->text))
            ThrowSemantic("VariableAlreadyBound", "variable '" + d->variable->text + "' is already defined",
                          s_.Offset(*d->variable));
          CheckType(*d->variable, it->second, type);
          rel.slot = it->second.slot;
          rel.bound = true;
        } else {
          rel.slot = Declare(*d->variable, type).slot;
          clause_vars.insert(d->variable->text);
          new_slots.push_back(rel.slot);
        }
      } else {
        rel.slot = s_.NewSlot();
      }
      if (d) rel.properties = BindProperties(d->properties, s_.Offset(rp));
      out.rels.push_back(std::move(rel));
      bind_node(step.node);
    }
    if (part.path_variable) {
      out.path_slot = Declare(*part.path_variable, VarType::kPath).slot;
      new_slots.push_back(out.path_slot);
    }
    return out;
  }

  // A shortest-path selector: one relationship, not in CREATE or MERGE; SHORTEST k takes a
  // positive integer literal.
  void BindSelector(const ast::PathSelector& sel, const ast::PatternPart& part, bool creating, BoundPattern& out) {
    std::string what = sel.kind == "k" ? "SHORTEST k" : sel.kind == "any" ? "a shortest path" : "all shortest paths";
    if (creating)
      ThrowSemantic("InvalidShortestPath", "CREATE and MERGE cannot use " + what, s_.Offset(sel));
    if (part.steps.size() != 1)
      ThrowSemantic("InvalidShortestPath",
                    what + " needs a pattern of exactly one relationship, such as (a)-[:DEPENDS_ON*]->(b); this one has " +
                        std::to_string(part.steps.size()),
                    s_.Offset(sel));
    out.select = sel.kind == "any" ? PathSelect::kAnyShortest
                 : sel.kind == "all" ? PathSelect::kAllShortest : PathSelect::kShortestK;
    if (sel.count) {
      QValue k = detail::ParseNumber(sel.count->text, false, s_.Offset(*sel.count));
      if (k.kind() != QValue::Kind::kInt || k.as_int() < 1)
        throw QueryError("SyntaxError", "InvalidArgumentType",
                         "SHORTEST takes a positive integer, not " + sel.count->text, s_.Offset(*sel.count));
      out.shortest_k = k.as_int();
    }
  }

  // The executor searches a clause's pattern one node per level of recursion: a clause may name
  // at most kMaxPatternNodes nodes.
  void CheckPatternSize(const std::vector<BoundPattern>& patterns, size_t offset) {
    size_t nodes = 0;
    for (const auto& p : patterns) nodes += p.nodes.size();
    if (nodes > kMaxPatternNodes)
      throw QueryError("ResourceExhausted", "PatternTooLarge",
                       "the pattern has " + std::to_string(nodes) + " nodes, more than the limit of " +
                           std::to_string(kMaxPatternNodes),
                       offset);
  }

  BoundMatch BindMatch(const ast::Match& m) {
    BoundMatch out;
    out.optional = m.optional;
    std::set<std::string> clause_vars;
    for (const auto& part : m.pattern) out.patterns.push_back(BindPattern(part, false, clause_vars, out.new_slots));
    CheckPatternSize(out.patterns, s_.Offset(m));
    if (m.where) {
      BoundExpr w = s_.BindExpr(*m.where);
      Conjuncts(std::move(w), out.predicates);
    }
    for (const auto& p : out.predicates) {
      if (p.kind != ExprKind::kVariable) continue;
      VarType t = s_.scope.count(p.name) ? s_.scope.at(p.name).type : VarType::kAny;
      if (t == VarType::kNode || t == VarType::kRel || t == VarType::kPath || t == VarType::kRelList)
        throw QueryError("SyntaxError", "InvalidArgumentType",
                         "WHERE needs a boolean, and '" + p.name + "' is " + TypeName(t), p.offset);
    }
    return out;
  }

  BoundCall BindCall(const ast::Call& c) {
    BoundCall out;
    out.offset = s_.Offset(c);
    const ProcedureDef* proc = FindProcedure(c.procedure.text);
    if (!proc) {
      std::string names;
      for (const auto& n : ProcedureNames()) names += (names.empty() ? "" : ", ") + n;
      std::string close = DidYouMean(c.procedure.text, ProcedureNames());
      ThrowSemantic("ProcedureNotFound",
                    "unknown procedure '" + c.procedure.text + "'" + (close.empty() ? " (available: " + names + ")" : close),
                    s_.Offset(c.procedure));
    }
    out.procedure = proc->name;
    if (static_cast<int>(c.args.size()) < proc->min_args || static_cast<int>(c.args.size()) > proc->max_args)
      ThrowSemantic("InvalidNumberOfArguments",
                    proc->signature + (proc->max_args == 0 ? " takes no arguments"
                                       : proc->min_args == 1 && proc->max_args == 2
                                           ? " takes one or two arguments"
                                           : " takes " + std::to_string(proc->min_args) + " to " +
                                                 std::to_string(proc->max_args) + " arguments"),
                    out.offset);
    for (const auto& a : c.args) out.args.push_back(s_.BindExpr(a));
    const std::vector<std::string>& fields = proc->fields;
    std::vector<ast::Name> yields = c.yields;
    if (yields.empty()) {
      for (const auto& f : fields) {
        ast::Name n;
        n.text = f;
        yields.push_back(n);
      }
    }
    for (const auto& y : yields) {
      if (std::find(fields.begin(), fields.end(), y.text) == fields.end()) {
        std::string list;
        for (size_t i = 0; i < fields.size(); ++i)
          list += (i == 0 ? "" : i + 1 == fields.size() ? " and " : ", ") + fields[i];
        ThrowSemantic("UndefinedVariable", proc->name + "() yields " + list + ", not '" + y.text + "'", s_.Offset(y));
      }
      VarType type = proc->name == "impact" && y.text == "ci"     ? VarType::kNode
                     : proc->name == "impact" && y.text == "path" ? VarType::kPath
                                                                 : VarType::kAny;
      out.yields.emplace_back(y.text, Declare(y, type).slot);
    }
    if (c.where) out.where = s_.BindExpr(*c.where);
    return out;
  }

  BoundUnwind BindUnwind(const ast::Unwind& u) {
    BoundUnwind out;
    out.list = s_.BindExpr(u.list);
    out.slot = Declare(u.variable, VarType::kAny).slot;
    return out;
  }

  BoundCreate BindCreate(const ast::Create& c) {
    BoundCreate out;
    std::set<std::string> clause_vars;
    std::vector<int> new_slots;
    params_allowed_ = true;
    for (const auto& part : c.pattern) {
      CheckOneClass(part);
      out.patterns.push_back(BindPattern(part, true, clause_vars, new_slots));
    }
    params_allowed_ = false;
    CheckPatternSize(out.patterns, s_.Offset(c));
    return out;
  }

  // A CI has one class: a node CREATE or MERGE makes names at most one label (the error is at
  // the second).
  void CheckOneClass(const ast::PatternPart& part) const {
    auto check = [&](const ast::NodePattern& n) {
      if (n.labels.size() > 1)
        ThrowSemantic("MultipleLabels", "a CI has exactly one class; give one label",
                      s_.Offset(n.labels[1]));
    };
    check(part.start);
    for (const auto& step : part.steps) check(step.node);
  }

  BoundMerge BindMerge(const ast::Merge& m) {
    BoundMerge out;
    std::set<std::string> clause_vars;
    CheckOneClass(m.pattern);
    out.pattern = BindPattern(m.pattern, true, clause_vars, out.new_slots, true);
    CheckPatternSize({out.pattern}, s_.Offset(m));
    for (const auto& action : m.actions) {
      auto& target = action.on == "MATCH" ? out.on_match : out.on_create;
      for (const auto& item : action.items) target.push_back(BindSetItem(item));
    }
    return out;
  }

  BoundSetItem BindSetItem(const ast::SetItem& item) {
    BoundSetItem out;
    out.offset = s_.Offset(item);
    auto it = s_.scope.find(item.variable.text);
    if (it == s_.scope.end())
      ThrowSemantic("UndefinedVariable", "variable '" + item.variable.text + "' is not defined", s_.Offset(item.variable));
    out.slot = it->second.slot;
    if (item.op == ":") {
      out.kind = BoundSetItem::Kind::kLabels;
      for (const auto& l : item.labels) out.labels.push_back(l.text);
      return out;
    }
    out.value = s_.BindExpr(*item.value);
    detail::RefuseBarePattern(out.value);
    if (item.key) {
      out.kind = BoundSetItem::Kind::kProperty;
      out.key = item.key->text;
    } else {
      out.kind = item.op == "+=" ? BoundSetItem::Kind::kMerge : BoundSetItem::Kind::kReplace;
    }
    return out;
  }

  BoundSet BindRemove(const ast::Remove& r) {
    BoundSet out;
    for (const auto& item : r.items) {
      BoundSetItem s;
      s.offset = s_.Offset(item);
      auto it = s_.scope.find(item.variable.text);
      if (it == s_.scope.end())
        ThrowSemantic("UndefinedVariable", "variable '" + item.variable.text + "' is not defined", s_.Offset(item.variable));
      s.slot = it->second.slot;
      if (item.key) {
        s.kind = BoundSetItem::Kind::kProperty;
        s.key = item.key->text;
        s.value.kind = ExprKind::kLiteral;  // null: removes
      } else {
        s.kind = BoundSetItem::Kind::kLabels;
        for (const auto& l : item.labels) s.labels.push_back("-" + l.text);
      }
      out.items.push_back(std::move(s));
    }
    return out;
  }

  BoundProjection BindProjection(const ast::Projection& p, bool is_return, const ast::Expression* where,
                                 const ast::x3::position_tagged& clause, std::vector<std::string>* columns) {
    BoundProjection out;
    out.is_return = is_return;
    out.distinct = p.distinct;
    struct Pending {
      std::string name;
      VarType type;
      std::string label;
      int slot;
      std::string text;
    };
    std::vector<Pending> pending;
    std::set<std::string> seen;
    auto add_item = [&](BoundExpr expr, const std::string& column, size_t offset, const std::string& text) {
      if (!seen.insert(column).second)
        ThrowSemantic("ColumnNameConflict", "column '" + column + "' is defined twice", offset);
      BoundItem item;
      item.aggregating = ContainsAggregate(expr);
      out.aggregating = out.aggregating || item.aggregating;
      VarType type = VarType::kAny;
      std::string label;
      if (expr.kind == ExprKind::kVariable) {
        type = s_.scope.at(expr.name).type;
        label = s_.scope.at(expr.name).label;
      } else if ((expr.kind == ExprKind::kLiteral && !expr.literal.is_null()) || expr.kind == ExprKind::kList ||
                 expr.kind == ExprKind::kMap) {
        type = VarType::kValue;
      }
      item.expr = std::move(expr);
      item.column = column;
      item.slot = s_.NewSlot();
      pending.push_back({column, type, label, item.slot, text});
      out.items.push_back(std::move(item));
    };
    if (p.star) {
      if (s_.scope.empty() && is_return)
        ThrowSemantic("NoVariablesInScope", "RETURN * and WITH * need variables in scope", s_.Offset(clause));
      for (const auto& [name, v] : s_.scope) {
        BoundExpr e;
        e.kind = ExprKind::kVariable;
        e.slot = v.slot;
        e.name = name;
        add_item(std::move(e), name, s_.Offset(clause), name);
      }
    }
    for (const auto& item : p.items) {
      std::string text = s_.query.TextOf(item.expression);
      BoundExpr e = s_.BindProjectionExpr(item.expression, &out.aggregates);
      detail::RefuseBarePattern(e);
      if (!item.alias && !is_return && e.kind != ExprKind::kVariable)
        ThrowSemantic("NoExpressionAlias", "an expression in WITH needs an alias: " + text + " AS name",
                      s_.Offset(item.expression));
      add_item(std::move(e), item.alias ? item.alias->text : text, s_.Offset(item), text);
    }
    if (out.aggregating) detail::CheckGroupingKeys(out);
    // ORDER BY sees the projected names and, unless the projection aggregates or is DISTINCT,
    // the variables in scope before it.
    auto old_scope = s_.scope;
    std::map<std::string, Variable> new_scope;
    for (const auto& pi : pending) new_scope[pi.name] = Variable{pi.slot, pi.type, pi.label};
    if (!out.aggregating && !out.distinct) {
      s_.scope = old_scope;
      for (const auto& [k, v] : new_scope) s_.scope[k] = v;
    } else {
      s_.scope = new_scope;
    }
    for (const auto& sort : p.order) {
      std::string text = s_.query.TextOf(sort.expression);
      BoundSortItem si;
      si.descending = sort.direction && *sort.direction == "DESC";
      auto match = std::find_if(pending.begin(), pending.end(), [&](const Pending& x) { return x.text == text; });
      if (match != pending.end()) {
        si.expr.kind = ExprKind::kVariable;
        si.expr.slot = match->slot;
        si.expr.name = match->name;
      } else if (out.aggregating) {
        // An aggregating projection's ORDER BY may repeat its aggregates and grouping keys in
        // expressions: they are read from the projected row.
        auto names = s_.scope;
        s_.scope = old_scope;
        for (const auto& [k, v] : new_scope) s_.scope[k] = v;
        std::vector<BoundExpr> sort_aggs;
        si.expr = s_.BindProjectionExpr(sort.expression, &sort_aggs);
        s_.scope = names;
        std::set<int> visible;
        for (const auto& [k, v] : new_scope) visible.insert(v.slot);
        detail::ReadProjected(si.expr, sort_aggs, out, visible);
      } else {
        std::vector<BoundExpr> sort_aggs;
        si.expr = s_.BindProjectionExpr(sort.expression, &sort_aggs);
        if (!sort_aggs.empty())
          ThrowSemantic("InvalidAggregation", "ORDER BY can only use aggregates that are projected",
                        s_.Offset(sort.expression));
      }
      out.order.push_back(std::move(si));
    }
    auto bind_count = [&](const boost::optional<ast::Expression>& e, const char* what) -> std::optional<BoundExpr> {
      if (!e) return std::nullopt;
      auto saved = s_.scope;
      s_.scope.clear();
      BoundExpr b = s_.BindExpr(*e);
      s_.scope = saved;
      if (UsesVariables(b))
        ThrowSemantic("NonConstantExpression", std::string(what) + " must not use variables", s_.Offset(*e));
      if (b.kind == ExprKind::kLiteral) {
        if (b.literal.kind() != QValue::Kind::kInt)
          throw QueryError("SyntaxError", "InvalidArgumentType", std::string(what) + " must be an integer", s_.Offset(*e));
        if (b.literal.as_int() < 0)
          throw QueryError("SyntaxError", "NegativeIntegerArgument", std::string(what) + " must not be negative", s_.Offset(*e));
      }
      return b;
    };
    out.skip = bind_count(p.skip, "SKIP");
    out.limit = bind_count(p.limit, "LIMIT");
    // WITH ... WHERE sees what ORDER BY sees (the rows keep the earlier variables unless the
    // projection aggregates or is DISTINCT).
    if (where) {
      auto order_scope = s_.scope;
      if (!out.aggregating) {  // DISTINCT keeps each value's first row, earlier variables too
        s_.scope = old_scope;
        for (const auto& [k, v] : new_scope) s_.scope[k] = v;
      }
      BoundExpr w = s_.BindExpr(*where);
      out.where = std::move(w);
      s_.scope = order_scope;
    }
    s_.scope = new_scope;
    if (columns) {
      for (const auto& item : out.items) columns->push_back(item.column);
    }
    return out;
  }

 public:
  // Binds `body` as a subquery seeing `inner` (the variables it starts with) and returns its
  // index in s_.subqueries; the scope is restored afterwards.
  int BindBody(const ast::SingleQuery& body, const std::map<std::string, Variable>& inner, bool& writes) {
    auto saved_scope = s_.scope;
    auto* saved_aggs = s_.aggregates_;
    bool saved_in = s_.in_aggregate_;
    std::set<int> outer;
    for (const auto& [n, v] : saved_scope) outer.insert(v.slot);
    s_.scope = inner;
    s_.aggregates_ = nullptr;
    s_.in_aggregate_ = false;
    BoundSubquery sub;
    for (const auto& [n, v] : inner) sub.imported.push_back(v.slot);
    sub.query = BindSingle(body, writes, true);
    if (auto* p = std::get_if<BoundProjection>(&sub.query.clauses.back()); p && p->is_return) {
      for (const auto& item : p->items) sub.returns.push_back(item.slot);
    }
    std::set<int> used;
    detail::QuerySlots(sub.query, s_.subqueries, used);
    for (int slot : used)
      if (outer.count(slot)) sub.reads.push_back(slot);
    s_.scope = std::move(saved_scope);
    s_.aggregates_ = saved_aggs;
    s_.in_aggregate_ = saved_in;
    s_.subqueries.push_back(std::move(sub));
    return static_cast<int>(s_.subqueries.size()) - 1;
  }

 private:
  BoundForeach BindForeach(const ast::Foreach& f, bool& writes) {
    BoundForeach out;
    out.list = s_.BindExpr(f.list);
    for (const auto& c : f.clauses) {
      bool updating = boost::get<ast::Create>(&c) || boost::get<ast::Merge>(&c) || boost::get<ast::Set>(&c) ||
                      boost::get<ast::Remove>(&c) || boost::get<ast::Delete>(&c) ||
                      boost::get<ast::x3::forward_ast<ast::Foreach>>(&c);
      if (!updating)
        ThrowSemantic("InvalidClauseComposition",
                      "FOREACH can only hold updating clauses (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH)",
                      s_.Offset(f));
    }
    auto inner = s_.scope;
    out.slot = s_.NewSlot();
    if (inner.count(f.variable.text))
      ThrowSemantic("VariableAlreadyBound", "variable '" + f.variable.text + "' is already defined",
                    s_.Offset(f.variable));
    inner[f.variable.text] = Variable{out.slot, VarType::kAny, ""};
    ast::SingleQuery body;
    body.clauses = f.clauses;
    out.body = BindBody(body, inner, writes);
    return out;
  }

  // The importing WITH of a CALL subquery only names outer variables (WITH a, b or WITH *): an
  // expression, an alias or a filter over them belongs to a later clause.
  void CheckImportingWith(const BoundSubquery& sub, const std::map<std::string, Variable>& inner,
                          size_t offset) {
    const auto& with = std::get<BoundProjection>(sub.query.clauses.front());
    std::set<int> outer, read;
    for (const auto& [n, v] : inner) outer.insert(v.slot);
    for (const auto& item : with.items) {
      read.clear();
      detail::ExprSlots(item.expr, read);
      bool imports =
          std::any_of(read.begin(), read.end(), [&](int slot) { return outer.count(slot) > 0; });
      bool plain = item.expr.kind == ExprKind::kVariable && item.expr.name == item.column;
      if (imports && !plain)
        ThrowSemantic(
            "InvalidClauseComposition",
            "an importing WITH only names variables from outside the subquery (WITH x, not '" +
                item.column + "'); compute in a later clause, or use CALL (x) { ... }",
            item.expr.offset);
    }
    if (with.where || with.aggregating || with.distinct || !with.order.empty() || with.skip ||
        with.limit)
      ThrowSemantic("InvalidClauseComposition",
                    "an importing WITH cannot filter, sort, page or aggregate; do that in a later "
                    "clause, or use "
                    "CALL (x) { ... }",
                    offset);
  }

  BoundCallSubquery BindCallSubquery(const ast::CallSubquery& c, bool& writes) {
    BoundCallSubquery out;
    out.optional = c.optional;
    out.offset = s_.Offset(c);
    // Binds one part (the query, or a part after UNION) with what it imports.
    auto bind_part = [&](const ast::SingleQuery& query) {
      std::map<std::string, Variable> inner;
      if (c.scope) {
        if (c.scope->star) {
          inner = s_.scope;
        } else {
          for (const auto& v : c.scope->variables) {
            auto it = s_.scope.find(v.text);
            if (it == s_.scope.end())
              ThrowSemantic("UndefinedVariable", "variable '" + v.text + "' is not defined",
                            s_.Offset(v));
            inner[v.text] = it->second;
          }
        }
      } else if (!query.clauses.empty() && boost::get<ast::With>(&query.clauses.front())) {
        // An importing WITH: the subquery's first WITH reads the outer variables.
        inner = s_.scope;
      }
      bool importing = !c.scope && !inner.empty();
      int index = BindBody(query, inner, writes);
      if (importing) CheckImportingWith(s_.subqueries[index], inner, out.offset);
      return index;
    };
    out.body = bind_part(c.query);
    for (size_t i = 0; i < c.unions.size(); ++i) {
      const auto& u = c.unions[i];
      if (i > 0 && u.all != out.union_all)
        ThrowSemantic("InvalidClauseComposition", "UNION and UNION ALL cannot be mixed",
                      s_.Offset(u.query));
      out.union_all = u.all;
      int part = bind_part(u.query);
      if (s_.subqueries[part].query.columns != s_.subqueries[out.body].query.columns)
        ThrowSemantic("DifferentColumnsInUnion",
                      "every part of a UNION must return the same columns", s_.Offset(u.query));
      out.unions.push_back(part);
    }
    const BoundSubquery& sub = s_.subqueries[out.body];
    const auto* ret = std::get_if<BoundProjection>(&sub.query.clauses.back());
    if (ret && ret->is_return) {
      for (const auto& item : ret->items) {
        if (s_.scope.count(item.column))
          ThrowSemantic("VariableAlreadyBound",
                        "the CALL subquery returns '" + item.column + "', which is already defined outside it",
                        out.offset);
        VarType type = VarType::kAny;
        s_.scope[item.column] = Variable{item.slot, type, ""};
      }
    } else if (!writes) {
      ThrowSemantic("InvalidClauseComposition", "a CALL subquery must end with RETURN or an updating clause",
                    out.offset);
    }
    return out;
  }

  BinderState& s_;
  bool params_allowed_ = false;  // a parameter map as a pattern's properties: CREATE only
};

}  // namespace

BoundExpr detail::BinderState::BindSubqueryExpr(const std::string& kind, const ast::SingleQuery& body, size_t offset) {
  ClauseBinder binder(*this);
  bool writes = false;
  int index = binder.BindBody(body, scope, writes);
  const BoundSubquery& sub = subqueries[index];
  if (writes)
    ThrowSemantic("InvalidClauseComposition",
                  WithArticle(std::string(kind == "exists"  ? "EXISTS"
                                          : kind == "count" ? "COUNT"
                                                            : "COLLECT") +
                              " subquery cannot write"),
                  offset);
  if (kind == "collect" && sub.returns.size() != 1)
    ThrowSemantic("InvalidClauseComposition", "a COLLECT subquery must end with a RETURN of exactly one column",
                  offset);
  BoundExpr e;
  e.kind = ExprKind::kSubquery;
  e.offset = offset;
  e.name = kind;
  e.index = index;
  for (int slot : sub.reads) e.args.push_back(VariableExpr(slot, offset));
  return e;
}

BoundQuery Bind(const ParsedQuery& query, const Schema& schema, const BindOptions& options) {
  BinderState state(query, schema, options);
  ClauseBinder binder(state);
  BoundQuery out;
  if (query.ast.mode) out.mode = *query.ast.mode;
  if (query.ast.as_of) {
    BoundExpr e = state.BindExpr(*query.ast.as_of);
    if (e.kind != ExprKind::kLiteral && e.kind != ExprKind::kParameter)
      ThrowSemantic("NonConstantExpression", "AS OF takes a datetime string, a transaction id or a parameter",
                    query.OffsetOf(*query.ast.as_of));
    e.offset = query.OffsetOf(*query.ast.as_of);  // errors point at the whole expression (`-1`)
    out.as_of = std::move(e);
  }
  if (query.ast.baseline) {
    BoundExpr e = state.BindExpr(*query.ast.baseline);
    if (e.kind != ExprKind::kLiteral && e.kind != ExprKind::kParameter)
      ThrowSemantic("NonConstantExpression", "USE BASELINE takes a baseline name or a parameter",
                    query.OffsetOf(*query.ast.baseline));
    if (out.as_of)
      ThrowSemantic("InvalidClauseComposition", "a query reads either AS OF a time or USE BASELINE, not both",
                    query.OffsetOf(*query.ast.baseline));
    out.baseline = std::move(e);
  }
  out.parts.push_back(binder.BindSingle(query.ast.first, out.writes));
  for (size_t i = 0; i < query.ast.unions.size(); ++i) {
    const auto& u = query.ast.unions[i];
    if (i > 0 && u.all != out.union_all)
      ThrowSemantic("InvalidClauseComposition", "UNION and UNION ALL cannot be mixed", query.OffsetOf(u.query));
    out.union_all = u.all;
    out.parts.push_back(binder.BindSingle(u.query, out.writes));
    if (out.parts.back().columns != out.parts.front().columns)
      ThrowSemantic("DifferentColumnsInUnion", "every part of a UNION must return the same columns",
                    query.OffsetOf(u.query));
  }
  if (out.as_of && out.writes)
    ThrowSemantic("InvalidClauseComposition", "AS OF queries read the past and cannot write",
                  query.OffsetOf(*query.ast.as_of));
  if (out.baseline && out.writes)
    ThrowSemantic("InvalidClauseComposition", "USE BASELINE queries read a baseline and cannot write",
                  query.OffsetOf(*query.ast.baseline));
  out.num_slots = state.num_slots;
  out.subqueries = std::move(state.subqueries);
  return out;
}

}  // namespace cmdb::gql
