// Streaming a part's rows (exports): the longest run of last clauses that work row by row takes
// each input row through them and hands the RETURN's rows out as they are produced, without
// building any of them into a vector.
#include <limits>

#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;

bool Streams(const BoundClause& clause) {
  if (std::holds_alternative<BoundMatch>(clause) || std::holds_alternative<BoundUnwind>(clause))
    return true;
  const auto* p = std::get_if<BoundProjection>(&clause);
  return p && !p->aggregating && !p->distinct && p->order.empty();
}

}  // namespace

// What the streamed clauses share while rows go through them.
struct Executor::StreamState {
  const BoundSingleQuery& part;
  const PartPlan& plan;
  const RowSink& out;
  bool stop = false;  // a LIMIT was reached: nothing more can come out
  // Per clause index: SKIP and LIMIT (-1: none) and the rows the projection saw and passed.
  std::vector<int64_t> skip, limit, seen, passed;
};

size_t Executor::StreamingStart(const BoundSingleQuery& part) {
  size_t n = part.clauses.size();
  if (n == 0) return n;
  const auto* ret = std::get_if<BoundProjection>(&part.clauses.back());
  if (!ret || !ret->is_return || !Streams(part.clauses.back())) return n;
  size_t start = n - 1;
  while (start > 0 && Streams(part.clauses[start - 1])) --start;
  return start;
}

void Executor::RunStreaming(const BoundSingleQuery& part, const PartPlan& plan,
                            const RowSink& out) {
  size_t start = StreamingStart(part);
  std::vector<Row> rows = RunFrom(part, plan, std::vector<Row>(1, Row(num_slots_)), start);
  if (start == part.clauses.size()) {  // a blocking RETURN: built whole, then handed over
    for (Row& row : rows) {
      CheckDeadline();
      out(row);
      row = Row();
    }
    return;
  }
  size_t match_index = 0;  // the plan's MATCH entries of the clauses before `start`
  for (size_t k = 0; k < start; ++k) {
    if (std::holds_alternative<BoundMatch>(part.clauses[k]) ||
        std::holds_alternative<BoundMerge>(part.clauses[k]))
      ++match_index;
  }
  StreamState st{part, plan, out, false, {}, {}, {}, {}};
  size_t n = part.clauses.size();
  st.skip.assign(n, -1);
  st.limit.assign(n, -1);
  st.seen.assign(n, 0);
  st.passed.assign(n, 0);
  for (size_t k = start; k < n; ++k) {
    const auto* p = std::get_if<BoundProjection>(&part.clauses[k]);
    if (!p) continue;
    auto count = [&](const BoundExpr& e, const char* what) -> int64_t {  // as FinishProjection
      Row empty(num_slots_);
      QValue v = Eval(e, empty);
      if (v.kind() != K::kInt || v.as_int() < 0)
        ThrowArgument(v.kind() == K::kInt ? "NegativeIntegerArgument" : "InvalidArgumentType",
                      std::string(what) + " must be a non-negative integer", e.offset);
      return v.as_int();
    };
    if (p->skip) st.skip[k] = count(*p->skip, "SKIP");
    if (p->limit) st.limit[k] = count(*p->limit, "LIMIT");
    if (st.limit[k] == 0) st.stop = true;
  }
  for (Row& row : rows) {
    if (st.stop) break;
    StreamClause(start, match_index, row, st);
    row = Row();  // consumed
  }
}

void Executor::StreamClause(size_t k, size_t match_index, Row& row, StreamState& st) {
  if (st.stop) return;
  if (k == st.part.clauses.size()) {
    st.out(row);
    return;
  }
  const BoundClause& clause = st.part.clauses[k];
  if (const auto* m = std::get_if<BoundMatch>(&clause)) {
    bool matched = false;
    // The search's row is its working state: the next clauses get a copy.
    MatchRow(
        row, m->patterns, st.plan.matches[match_index],
        [&](Row& found) {
          matched = true;
          Row copy = found;
          StreamClause(k + 1, match_index + 1, copy, st);
        },
        &st.stop);
    if (m->optional && !matched && !st.stop) {
      for (int slot : m->new_slots) row[slot] = QValue();
      StreamClause(k + 1, match_index + 1, row, st);
    }
    return;
  }
  if (const auto* u = std::get_if<BoundUnwind>(&clause)) {
    QValue list = Eval(u->list, row);
    if (list.is_null()) return;
    if (list.kind() != K::kList) {
      row[u->slot] = list;
      StreamClause(k + 1, match_index, row, st);
      return;
    }
    for (const auto& item : list.as_list()) {
      if (st.stop) return;
      CheckDeadline();
      Row r = row;
      r[u->slot] = item;
      StreamClause(k + 1, match_index, r, st);
    }
    return;
  }
  const auto& p = std::get<BoundProjection>(clause);
  CheckDeadline();
  for (const auto& item : p.items) row[item.slot] = Eval(item.expr, row);
  // As FinishProjection: SKIP, then LIMIT, then WITH ... WHERE.
  if (st.skip[k] >= 0 && ++st.seen[k] <= st.skip[k]) return;
  if (st.limit[k] >= 0) {
    if (st.passed[k] >= st.limit[k]) {
      st.stop = true;
      return;
    }
    ++st.passed[k];
  }
  bool last = st.limit[k] >= 0 && st.passed[k] == st.limit[k];
  if (!p.where || IsTrue(*p.where, row)) StreamClause(k + 1, match_index, row, st);
  if (last) st.stop = true;  // nothing more passes this LIMIT: end the search
}

}  // namespace cmdb::gql
