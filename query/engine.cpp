#include "query/engine.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "cmdb/time_util.hpp"
#include "query/binder/binder.hpp"
#include "query/common/location.hpp"
#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"
#include "query/parser/parse.hpp"
#include "query/planner/plan.hpp"
#include "query/runtime/graph_access.hpp"

namespace cmdb::gql {
namespace {

// Attaches records to node and relationship values so results outlive the read view. A CI or
// relationship seen twice shares one record copy.
class Resolver {
 public:
  Resolver(const GraphAccess& g, Executor& ex) : g_(g), ex_(ex) {}

  void Resolve(QValue& v) {
    ex_.CheckTime();
    switch (v.kind()) {
      case QValue::Kind::kNode: v = QValue(Node(v.as_node().id)); break;
      case QValue::Kind::kRel: v = QValue(Rel(v.as_rel().id)); break;
      case QValue::Kind::kList: {
        QList l = v.as_list();
        for (auto& e : l) Resolve(e);
        v = QValue(std::move(l));
        break;
      }
      case QValue::Kind::kMap: {
        QMap m = v.as_map();
        for (auto& [k, e] : m) Resolve(e);
        v = QValue(std::move(m));
        break;
      }
      case QValue::Kind::kPath: {
        PathValue p = v.as_path();
        for (auto& n : p.nodes) n = Node(n.id);
        for (auto& r : p.rels) r = Rel(r.id);
        v = QValue(std::move(p));
        break;
      }
      default: break;
    }
  }

  // Charges what rendering the value costs: written out in full (a shared payload every time it
  // appears), each node and relationship with its attributes. Stops at the byte budget.
  void Charge(const QValue& root) {
    std::vector<const QValue*> todo{&root};  // no recursion
    while (!todo.empty()) {
      const QValue& v = *todo.back();
      todo.pop_back();
      ex_.CheckTime();
      size_t bytes = sizeof(QValue);
      switch (v.kind()) {
        case QValue::Kind::kString: bytes += v.as_string().size(); break;
        case QValue::Kind::kList:
          for (const QValue& e : v.as_list()) todo.push_back(&e);
          break;
        case QValue::Kind::kMap:
          for (const auto& [k, e] : v.as_map()) {
            bytes += 64 + k.size();
            todo.push_back(&e);
          }
          break;
        case QValue::Kind::kNode: bytes += NodeBytes(v.as_node().id); break;
        case QValue::Kind::kRel: bytes += RelBytes(v.as_rel().id); break;
        case QValue::Kind::kPath:
          for (const NodeRef& n : v.as_path().nodes) bytes += NodeBytes(n.id);
          for (const RelRef& r : v.as_path().rels) bytes += RelBytes(r.id);
          break;
        default: break;
      }
      ex_.Charge(0, bytes, "the answer");
    }
  }

 private:
  static size_t AttrBytes(const AttrMap& attrs) {
    size_t bytes = 0;
    for (const auto& [name, value] : attrs) {
      bytes += 64 + name.size();
      if (value.kind() == Value::Kind::kString) bytes += value.as_string().size();
      if (value.kind() == Value::Kind::kList) {
        for (const Value& e : value.as_list())
          bytes += 16 + (e.kind() == Value::Kind::kString ? e.as_string().size() : 0);
      }
    }
    return bytes;
  }
  size_t NodeBytes(CiId id) {
    auto [it, fresh] = node_bytes_.try_emplace(id, 128);
    if (fresh) {
      if (const CiRecord* r = g_.Node(id)) it->second += AttrBytes(r->attrs);
    }
    return it->second;
  }
  size_t RelBytes(RelId id) {
    auto [it, fresh] = rel_bytes_.try_emplace(id, 128);
    if (fresh) {
      if (std::optional<RelRecord> r = g_.Rel(id)) it->second += AttrBytes(r->attrs);
    }
    return it->second;
  }
  NodeRef Node(CiId id) {
    auto [it, fresh] = nodes_.try_emplace(id);
    if (fresh) {
      if (const CiRecord* r = g_.Node(id)) it->second = std::make_shared<const CiRecord>(*r);
    }
    return NodeRef{id, it->second};
  }
  RelRef Rel(RelId id) {
    auto [it, fresh] = rels_.try_emplace(id);
    if (fresh) {
      if (std::optional<RelRecord> r = g_.Rel(id)) it->second = std::make_shared<const RelRecord>(std::move(*r));
    }
    return RelRef{id, it->second};
  }

  const GraphAccess& g_;
  Executor& ex_;
  std::unordered_map<CiId, CiPtr> nodes_;
  std::unordered_map<RelId, RelPtr> rels_;
  std::unordered_map<CiId, size_t> node_bytes_;
  std::unordered_map<RelId, size_t> rel_bytes_;
};

struct ResultRowHash {
  size_t operator()(const std::vector<QValue>& r) const {
    size_t h = 7;
    for (const auto& v : r) h = h * 31 + Hash(v);
    return h;
  }
};
struct ResultRowEq {
  bool operator()(const std::vector<QValue>& a, const std::vector<QValue>& b) const {
    for (size_t i = 0; i < a.size(); ++i) if (!Equivalent(a[i], b[i])) return false;
    return true;
  }
};

// Runs every part, unions them, keeps the RETURN columns, charges the answer to the budget and
// resolves records.
void Execute(const BoundQuery& bound, const LogicalPlan& plan, const GraphAccess& graph, Txn* txn,
             const QMap& params, const ExecOptions& exec, size_t max_rows, QueryResult& result) {
  Executor executor(graph, txn, params, bound.num_slots, exec, result.stats);
  executor.SetSubqueries(&bound.subqueries, &plan.subqueries);
  result.columns = bound.parts.front().columns;
  std::vector<std::vector<QValue>> rows;
  for (size_t p = 0; p < bound.parts.size(); ++p) {
    const BoundSingleQuery& part = bound.parts[p];
    std::vector<Row> part_rows = executor.Run(part, plan.parts[p]);
    if (part.columns.empty()) continue;
    const auto& ret = std::get<BoundProjection>(part.clauses.back());
    for (Row& row : part_rows) {
      executor.CheckTime();
      std::vector<QValue> out;
      for (const auto& item : ret.items) out.push_back(std::move(row[item.slot]));
      rows.push_back(std::move(out));
    }
  }
  if (bound.parts.size() > 1 && !bound.union_all) {
    std::unordered_set<std::vector<QValue>, ResultRowHash, ResultRowEq> seen;
    std::vector<std::vector<QValue>> unique;
    for (auto& r : rows) {
      executor.CheckTime();
      if (seen.insert(r).second) unique.push_back(std::move(r));
    }
    rows = std::move(unique);
  }
  if (rows.size() > max_rows) {
    rows.resize(max_rows);
    result.truncated = true;
  }
  // The answer is charged afresh: what the HTTP layer renders from it, records included.
  executor.ResetCharges();
  Resolver resolver(graph, executor);
  for (const auto& row : rows) {
    executor.Charge(1, 0, "the answer");
    for (const auto& v : row) resolver.Charge(v);
  }
  for (auto& row : rows) for (auto& v : row) resolver.Resolve(v);
  result.rows = std::move(rows);
}

// Runs a read and hands each row to `stream` as it is produced (Executor::RunStreaming per
// UNION ALL part): the rows are resolved one by one, charged and kept nowhere.
void ExecuteStreaming(const BoundQuery& bound, const LogicalPlan& plan, const GraphAccess& graph,
                      const QMap& params, const ExecOptions& exec, QueryResult& result,
                      RowStream& stream) {
  Executor executor(graph, nullptr, params, bound.num_slots, exec, result.stats);
  executor.SetSubqueries(&bound.subqueries, &plan.subqueries);
  result.columns = bound.parts.front().columns;
  stream.Columns(result.columns);
  for (size_t p = 0; p < bound.parts.size(); ++p) {
    const BoundSingleQuery& part = bound.parts[p];
    if (part.columns.empty()) continue;
    const auto& ret = std::get<BoundProjection>(part.clauses.back());
    executor.RunStreaming(part, plan.parts[p], [&](Row& row) {
      std::vector<QValue> out;
      out.reserve(ret.items.size());
      for (const auto& item : ret.items) out.push_back(std::move(row[item.slot]));
      Resolver resolver(graph, executor);  // a fresh one: it keeps nothing from row to row
      for (auto& v : out) resolver.Resolve(v);
      stream.Row(out);
    });
  }
}

// The status of an error thrown inside the pipeline: budgets and nesting limits are
// ResourceExhausted, other language errors InvalidArgument, timeouts Unavailable.
Status ErrorStatus(const QueryError& e, const std::string& source) {
  StatusCode code = e.type == "ResourceExhausted" || e.detail == "NestingTooDeep" ? StatusCode::kResourceExhausted
                                                                                  : StatusCode::kInvalidArgument;
  if (e.type == "TransientError") code = StatusCode::kUnavailable;
  std::string message = e.what();
  Status st = e.offset == QueryError::kNoOffset || code == StatusCode::kUnavailable
                  ? Status(code, message)
                  : parsing::LocatedError(code, source, e.offset, message);
  st.WithType(e.type).With("detail", e.detail);
  return st;
}

std::string ProfileText(const ExecStats& stats) {
  std::ostringstream out;
  for (const auto& [name, counts] : stats.profile)
    out << name << ": " << counts.first << " rows, " << counts.second << " us\n";
  return out.str();
}

// The transaction AS OF or USE BASELINE reads, and the baseline's members (throws QueryError).
std::pair<TxId, std::optional<BaselineSnapshot>> ResolvePast(Database& db, const BoundQuery& bound,
                                                             const QueryRequest& request) {
  const BoundExpr& at = bound.as_of ? *bound.as_of : *bound.baseline;
  QValue value = at.kind == ExprKind::kLiteral ? at.literal : QValue();
  if (at.kind == ExprKind::kParameter) {
    auto it = request.parameters.find(at.name);
    if (it == request.parameters.end())
      throw QueryError("ParameterMissing", "MissingParameter", "parameter $" + at.name + " was not given", at.offset);
    value = it->second;
  }
  if (bound.baseline) {
    if (value.kind() != QValue::Kind::kString)
      throw QueryError("TypeError", "InvalidArgumentType", "USE BASELINE needs a baseline name (a string)", at.offset);
    if (!request.baselines) throw QueryError("SemanticError", "UnknownBaseline", "baselines are not available here", at.offset);
    auto snapshot = (*request.baselines)(value.as_string());
    if (!snapshot.ok()) throw QueryError("SemanticError", "UnknownBaseline", snapshot.status().message(), at.offset);
    TxId tx = snapshot->tx;
    if (snapshot->whole) return {tx, std::nullopt};  // every CI and relationship then: AS OF tx
    return {tx, std::move(*snapshot)};
  }
  TxId last = db.Read().tx();
  if (value.kind() == QValue::Kind::kInt) {
    if (value.as_int() < 1 || value.as_int() > static_cast<int64_t>(last))
      throw QueryError("ArgumentError", "InvalidArgumentValue",
                       "AS OF " + std::to_string(value.as_int()) + ": there is no such transaction (the history runs from 1 to " +
                           std::to_string(last) + ")",
                       at.offset);
    return {value.as_int(), std::nullopt};
  }
  if (value.kind() != QValue::Kind::kString)
    throw QueryError("TypeError", "InvalidArgumentType", "AS OF needs a datetime string or a transaction id", at.offset);
  auto problem = TimestampProblem(value.as_string());
  if (problem && !problem->empty())
    throw QueryError("ArgumentError", "InvalidArgumentValue", "AS OF '" + value.as_string() + "': " + *problem,
                     at.offset);
  auto micros = problem ? std::nullopt : ParseTimestamp(value.as_string());
  if (!micros)
    throw QueryError("ArgumentError", "InvalidArgumentValue",
                     "AS OF needs an ISO-8601 date-time such as '2026-01-31T12:00:00Z'", at.offset);
  if (*micros > db.clock().NowMicros())
    throw QueryError("ArgumentError", "InvalidArgumentValue",
                     "AS OF '" + value.as_string() + "' is in the future", at.offset);
  auto found = db.store()->TxAtTime(*micros);
  if (!found.ok()) throw QueryError("InternalError", "StoreError", found.status().message(), at.offset);
  if (*found == 0) {
    auto first = db.store()->Transactions(0, 1);
    std::string since = first.ok() && !first->empty() ? " (" + FormatTimestamp(first->front().time) + ")" : "";
    throw QueryError("ArgumentError", "InvalidArgumentValue",
                     "AS OF '" + value.as_string() + "' is before the first transaction" + since, at.offset);
  }
  return {*found, std::nullopt};
}

}  // namespace

void QueryEngine::DropPastView() {
  std::unique_ptr<PastGraph> dropped;  // freed outside the lock
  std::lock_guard l(past_mu_);
  dropped = std::move(past_view_);
  past_schema_ = nullptr;
  past_schema_hold_.reset();
}

std::unique_ptr<PastGraph> QueryEngine::TakePastView(TxId tx, const ReadView& view) {
  std::unique_ptr<PastGraph> past;
  {
    std::lock_guard l(past_mu_);
    // Under another schema the view's class and type ids are stale: open afresh.
    if (!past_view_ || past_view_->tx() != tx || past_schema_ != &view.schema()) return nullptr;
    past = std::move(past_view_);
  }
  // What was written since it was kept (this ReadView holds the graph still meanwhile).
  if (!past->CatchUp(view.tx()).ok()) return nullptr;  // Run opens a view and reports the error
  return past;
}

void QueryEngine::KeepPastView(std::unique_ptr<PastGraph> past, const ReadView& view) {
  if (past->changed_cis() + past->changed_rels() > kMaxCachedChanges) return;
  std::shared_ptr<const Schema> schema = db_.schema();
  if (schema.get() != &view.schema()) return;  // a schema change landed meanwhile
  std::unique_ptr<PastGraph> replaced;  // freed outside the lock
  std::lock_guard l(past_mu_);
  replaced = std::move(past_view_);
  past_view_ = std::move(past);
  past_schema_ = schema.get();
  past_schema_hold_ = std::move(schema);
}

bool IsDdl(const std::string& text) {
  std::istringstream in(text);
  std::string a, b;
  in >> a >> b;
  for (auto* s : {&a, &b}) for (auto& c : *s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (a == "CREATE" && b == "ABSTRACT") return true;
  return (a == "CREATE" || a == "ALTER" || a == "DROP") && (b == "NODE" || b == "EDGE");
}

Result<QueryResult> QueryEngine::Run(const QueryRequest& request) {
  auto started = std::chrono::steady_clock::now();
  QueryResult result;
  if (request.timeout_ms < 0)
    return Status::Invalid("timeout_ms must not be negative (0 means the server's limit of " +
                           std::to_string(options_.timeout_ms) + " ms), got " + std::to_string(request.timeout_ms))
        .With("field", "timeout_ms");
  for (const auto& [name, value] : request.parameters) {
    if (value.depth() > kMaxParameterDepth)
      return Status(StatusCode::kResourceExhausted, "parameter $" + name + " nests deeper than " +
                                                        std::to_string(kMaxParameterDepth) + " levels")
          .With("parameter", name)
          .With("limit", static_cast<int64_t>(kMaxParameterDepth));
  }
  auto parsed = ParseQuery(request.text);  // 1. parse
  if (!parsed.ok()) return parsed.status();
  const ParsedQuery& query = **parsed;
  int64_t timeout = request.timeout_ms > 0 ? std::min(request.timeout_ms, options_.timeout_ms) : options_.timeout_ms;
  ExecOptions exec;
  exec.deadline = started + std::chrono::milliseconds(timeout);
  exec.now_micros = db_.clock().NowMicros();
  exec.store = db_.store();
  exec.max_rows = options_.max_query_rows;
  exec.max_bytes = options_.max_query_bytes;
  exec.memory = &memory_;
  // An export (request.stream): its output goes out at the executor's safe points with the read
  // view released; the time that takes is added to the deadline (a slow client is no slow query).
  Drain drain;
  if (request.stream) {
    drain.pending = [&request] { return request.stream->WantsFlush(); };
    drain.send = [&request, &exec] {
      auto before = std::chrono::steady_clock::now();
      bool sent = request.stream->Flush();
      exec.deadline += std::chrono::steady_clock::now() - before;
      if (!sent) throw QueryError("TransientError", "ClientGone", "the client went away");
    };
  }
  bool streamed = false;  // the rows went to request.stream as they were produced
  const size_t max_rows = request.stream ? static_cast<size_t>(-1) : options_.max_rows;
  try {
    BoundQuery bound = Bind(query, *db_.schema(), BindOptions{options_.default_max_depth});  // 2. bind
    result.mode = bound.mode;
    exec.profile = bound.mode == QueryMode::kProfile;
    // An export's read (one snapshot, below). Its rows stream unless it is a UNION without ALL,
    // which needs every row before the first goes out; a write commits first.
    const bool export_read = request.stream && bound.mode == QueryMode::kRun && !bound.writes;
    const bool stream_rows = export_read && (bound.parts.size() == 1 || bound.union_all);
    if (bound.writes && !request.allow_writes)
      return Status(StatusCode::kPermissionDenied, "this token's role may not run writing queries")
          .With("needs", "write CIs");
    if (bound.as_of || bound.baseline) {
      auto past_spec = ResolvePast(db_, bound, request);
      TxId tx = past_spec.first;
      const std::optional<BaselineSnapshot>& members = past_spec.second;
      if (options_.past_by_replay) {
        // The past (or a baseline) rebuilt from every stored version into a private graph under
        // the current schema: costs the whole history; the oracle of the view below.
        auto schema = db_.schema();
        Graph past;
        auto keep_ci = [&](CiId id) { return !members || std::binary_search(members->cis.begin(), members->cis.end(), id); };
        auto keep_rel = [&](RelId id) { return !members || std::binary_search(members->rels.begin(), members->rels.end(), id); };
        Status st = db_.store()->LoadAsOf(tx, [&](CiRecord&& c) { if (keep_ci(c.id)) past.PutCi(std::move(c), *schema); },
                                          [&](RelRecord&& r) { if (keep_rel(r.id)) past.PutRel(std::move(r)); });
        if (!st.ok()) return st;
        past.FinishLoad();  // the adjacency: without it the past has CIs but no relationships
        SnapshotAccess graph(past, *schema);
        LogicalPlan plan = PlanQuery(bound, graph);
        if (bound.mode == QueryMode::kExplain) result.plan = ExplainPlan(bound, plan);
        else
          Execute(bound, plan, graph, nullptr, request.parameters, exec, max_rows, result);
      } else {
        // The present with what was written since undone: costs what changed since `tx`.
        // Without a member list, the view kept from an earlier query of the same tx serves.
        ReadView view = db_.Read();
        std::unique_ptr<PastGraph> kept = members ? nullptr : TakePastView(tx, view);
        if (!kept) {
          auto past = PastGraph::Open(view.graph(), view.tx(), *db_.store(), tx, view.schema(),
                                      members ? &members->cis : nullptr, members ? &members->rels : nullptr);
          if (!past.ok()) return past.status();
          ++past_views_opened_;
          kept = std::move(*past);
        }
        PastAccess graph(*kept, view);
        LogicalPlan plan = PlanQuery(bound, graph);
        if (bound.mode == QueryMode::kExplain) {
          result.plan = ExplainPlan(bound, plan);
        } else if (stream_rows) {
          graph.SetDrain(&drain);
          ExecuteStreaming(bound, plan, graph, request.parameters, exec, result, *request.stream);
          streamed = true;
        } else {
          Execute(bound, plan, graph, nullptr, request.parameters, exec, max_rows, result);
        }
        if (!members) KeepPastView(std::move(kept), view);
      }
      result.as_of_tx = tx;
    } else if (export_read) {
      // One snapshot however long the export runs: the present as of the transaction it starts
      // at, read through a past view that undoes what writers commit meanwhile (its memory
      // follows what they write).
      ReadView view = db_.Read();
      auto past = PastGraph::Open(view.graph(), view.tx(), *db_.store(), view.tx(), view.schema());
      if (!past.ok()) return past.status();
      PastAccess graph(**past, view);
      graph.SetDrain(&drain);
      LogicalPlan plan = PlanQuery(bound, graph);  // 3. plan
      if (stream_rows) {
        // 4. execute, handing each row to the stream
        ExecuteStreaming(bound, plan, graph, request.parameters, exec, result, *request.stream);
        streamed = true;
      } else {  // UNION: built whole, handed over below
        Execute(bound, plan, graph, nullptr, request.parameters, exec, max_rows, result);
      }
    } else if (!bound.writes) {
      ReadView view = db_.Read();
      SnapshotAccess graph(view);
      LogicalPlan plan = PlanQuery(bound, graph);  // 3. plan
      if (bound.mode == QueryMode::kExplain) {
        result.plan = ExplainPlan(bound, plan);
      } else {
        // 4. execute
        Execute(bound, plan, graph, nullptr, request.parameters, exec, max_rows, result);
      }
    } else {
      if (bound.mode == QueryMode::kExplain) {
        ReadView view = db_.Read();
        SnapshotAccess graph(view);
        result.plan = ExplainPlan(bound, PlanQuery(bound, graph));
      } else {
        TxMeta meta = request.meta;
        meta.source = "query";
        std::exception_ptr failure;
        auto tx = db_.Write(meta, [&](Txn& txn) -> Status {
          try {
            TxnAccess graph(txn.graph(), txn);
            LogicalPlan plan = PlanQuery(bound, graph);
            Execute(bound, plan, graph, &txn, request.parameters, exec, max_rows, result);
            return Status::Ok();
          } catch (...) {
            failure = std::current_exception();
            return Status::Internal("query failed");
          }
        });
        if (failure) std::rethrow_exception(failure);
        if (!tx.ok()) return tx.status();
        result.tx = tx->id;
      }
    }
    if (exec.profile) result.plan = ProfileText(result.stats);
    if (request.stream && !streamed) {  // built whole (no view held now): handed over
      request.stream->Columns(result.columns);
      for (auto& row : result.rows) {
        request.stream->Row(row);
        row.clear();
        if (request.stream->WantsFlush()) drain.send();
      }
      result.rows.clear();
    }
  } catch (const QueryError& e) {
    return ErrorStatus(e, request.text);
  } catch (const StatusError& e) {
    return e.status;
  }
  result.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace cmdb::gql
