// The query console: an editor with highlighting and completion from the schema, parameters,
// results as a table, JSON or a graph, EXPLAIN and PROFILE as a plan tree, errors marked at their
// line and column, and a history of the user's queries (this browser's local storage).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, post, schema } from '../api';
import { complete, Completion, offsetOf, parsePlan, PlanNode, SchemaNames, tokenize } from '../gql';
import { Graph } from '../graph';
import { GraphEdge, GraphNode } from '../impact';
import { navigate } from '../nav';
import { asOfParam, ciHref, href } from '../url';
import { useData } from '../ui';

const kHistoryKey = 'cmdb.queries';
const history = (): string[] => { try { return JSON.parse(localStorage.getItem(kHistoryKey) ?? '[]'); } catch { return []; } };

interface Result { columns: string[]; rows: unknown[][]; stats: any; plan?: string }

const isNode = (v: any) => v && typeof v === 'object' && typeof v.id === 'number' && typeof v.class === 'string';
const isRel = (v: any) => v && typeof v === 'object' && typeof v.id === 'number' && typeof v.type === 'string' && 'from' in v;

export function QueryPage({ params, asOf }: { params: URLSearchParams; asOf: string | null }) {
  const [text, setText] = useState(params.get('q') ?? 'MATCH (s:BusinessService)-[r:DEPENDS_ON]->(a)\nRETURN s, r, a');
  const [paramText, setParamText] = useState('{}');
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [view, setView] = useState<'table' | 'json' | 'graph'>('table');
  const [past, setPast] = useState<string[]>(history());
  const sch = useData(() => schema(), []);
  const names: SchemaNames = useMemo(() => ({
    classes: (sch.data?.classes ?? []).map((c) => c.name),
    types: (sch.data?.relationship_types ?? []).map((t) => t.name),
    attributes: [...new Set((sch.data?.classes ?? []).flatMap((c) => c.attributes.map((a) => a.name)))],
  }), [sch.data]);

  const run = async (mode: '' | 'EXPLAIN' | 'PROFILE' = '') => {
    let parameters: Record<string, unknown>;
    try { parameters = JSON.parse(paramText || '{}'); } catch (e) {
      setError(new ApiError(0, 'BadRequest', `parameters: ${(e as Error).message}`)); return;
    }
    setBusy(true); setError(null);
    let q = text;
    if (asOf) { parameters = { ...parameters, __asof: asOfParam(asOf) }; q = `AS OF $__asof ${q}`; }
    if (mode) q = `${mode} ${q}`;
    const shift = q.length - text.length;  // prefixes are on the first line
    try {
      const r = await post<Result>('/v1/query', { query: q, parameters });
      setResult(r);
      const h = [text, ...history().filter((x) => x !== text)].slice(0, 30);
      localStorage.setItem(kHistoryKey, JSON.stringify(h));
      setPast(h);
      navigate(href('/query', { q: text }, asOf), true);
    } catch (e) {
      const a = e as ApiError;
      if (a.line === 1 && a.column) a.column -= shift;
      if (a.line && a.column && a.column > 0) a.message = a.message.split('\n')[0].replace(/^line \d+, column \d+: /, '');
      setError(a); setResult(null);
    } finally { setBusy(false); }
  };
  const hasGraph = !!result && result.rows.some((r) => r.some((v) => isNode(v) || isRel(v) || (Array.isArray(v) && v.some(isNode))));
  useEffect(() => { if (!hasGraph && view === 'graph') setView('table'); }, [hasGraph]);
  return (
    <div class="query-page">
      <h1>Query</h1>
      <Editor text={text} setText={setText} names={names} error={error} onRun={() => run()} />
      <div class="field"><label for="q-params">Parameters (JSON)</label>
        <textarea id="q-params" rows={2} value={paramText} spellcheck={false} onInput={(e) => setParamText((e.target as HTMLTextAreaElement).value)} /></div>
      <div class="actions">
        <button type="button" onClick={() => run()} disabled={busy}>Run <kbd>Ctrl+Enter</kbd></button>
        <button type="button" onClick={() => run('EXPLAIN')} disabled={busy}>Explain</button>
        <button type="button" onClick={() => run('PROFILE')} disabled={busy}>Profile</button>
        {busy && <span class="loading">Running…</span>}
      </div>
      {error && (
        <div class="error" role="alert" data-testid="query-error">
          <strong>{error.code}</strong>{error.line ? <> at <span data-testid="error-position">line {error.line}, column {error.column}</span></> : null}: {error.message}
        </div>
      )}
      {result && (
        <div class="results">
          {result.plan && <PlanTree plan={result.plan} />}
          {(result.columns.length > 0 || !result.plan) && (
            <>
              <div role="tablist" class="tabs">
                {(['table', 'json', ...(hasGraph ? ['graph'] : [])] as const).map((v) => (
                  <button type="button" role="tab" aria-selected={view === v} onClick={() => setView(v as typeof view)}>{v}</button>))}
                <span class="muted">{result.rows.length} rows · {Number(result.stats?.elapsed_ms ?? 0).toFixed(1)} ms
                  {result.stats?.as_of_tx ? ` · as of tx ${result.stats.as_of_tx}` : ''}{result.stats?.truncated ? ' · truncated' : ''}</span>
              </div>
              {view === 'table' && <ResultTable r={result} asOf={asOf} />}
              {view === 'json' && <pre class="json">{JSON.stringify(result.rows, null, 2)}</pre>}
              {view === 'graph' && <ResultGraph r={result} asOf={asOf} />}
            </>
          )}
        </div>
      )}
      {past.length > 0 && (
        <details class="card"><summary>History ({past.length})</summary>
          <ul class="query-history">{past.map((q) => <li><button type="button" class="link" onClick={() => setText(q)}><code>{q}</code></button></li>)}</ul>
        </details>
      )}
    </div>
  );
}

function Editor({ text, setText, names, error, onRun }: { text: string; setText: (s: string) => void; names: SchemaNames;
                                                         error: ApiError | null; onRun: () => void }) {
  const ta = useRef<HTMLTextAreaElement>(null);
  const pre = useRef<HTMLPreElement>(null);
  const [comp, setComp] = useState<Completion | null>(null);
  const [sel, setSel] = useState(0);
  const errAt = error?.line && error.column ? offsetOf(text, error.line, error.column) : -1;
  const tokens = tokenize(text);
  const accept = (opt: string) => {
    if (!comp) return;
    const next = text.slice(0, comp.from) + opt + text.slice(comp.to);
    setText(next);
    setComp(null);
    requestAnimationFrame(() => { ta.current!.selectionStart = ta.current!.selectionEnd = comp.from + opt.length; ta.current!.focus(); });
  };
  const suggest = (src: string, cursor: number, force: boolean) => {
    const c = complete(src, cursor, names);
    const word = src.slice(c.from, cursor);
    setComp(c.options.length && (force || word.length >= 2 || /[:.]/.test(src[c.from - 1] ?? '')) ? c : null);
    setSel(0);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); onRun(); return; }
    if (e.key === ' ' && e.ctrlKey) { e.preventDefault(); suggest(text, ta.current!.selectionStart, true); return; }
    if (!comp) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); setSel((s) => (s + 1) % comp.options.length); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setSel((s) => (s - 1 + comp.options.length) % comp.options.length); }
    else if (e.key === 'Tab' || e.key === 'Enter') { e.preventDefault(); accept(comp.options[sel]); }
    else if (e.key === 'Escape') setComp(null);
  };
  const parts: preact.JSX.Element[] = [];
  for (const t of tokens) {
    if (errAt >= t.start && errAt < t.start + t.text.length) {
      const k = errAt - t.start;
      parts.push(<span class={`t-${t.kind}`}>{t.text.slice(0, k)}</span>);
      parts.push(<mark class="err-mark" data-testid="error-mark">{t.text.slice(k, k + 1)}</mark>);
      parts.push(<span class={`t-${t.kind}`}>{t.text.slice(k + 1)}</span>);
    } else parts.push(<span class={`t-${t.kind}`}>{t.text}</span>);
  }
  if (errAt >= text.length) parts.push(<mark class="err-mark" data-testid="error-mark"> </mark>);
  return (
    <div class="editor">
      <label for="q-text" class="sr-only">Query</label>
      <pre ref={pre} aria-hidden="true" class="editor-hl">{parts}{'\n'}</pre>
      <textarea id="q-text" ref={ta} value={text} spellcheck={false} rows={6} aria-autocomplete="list"
                aria-controls="q-completions" data-error-offset={errAt}
                onInput={(e) => { const t = e.target as HTMLTextAreaElement; setText(t.value); suggest(t.value, t.selectionStart, false); }}
                onKeyDown={onKey} onScroll={(e) => { pre.current!.scrollTop = (e.target as HTMLElement).scrollTop; }}
                onBlur={() => setTimeout(() => setComp(null), 150)} />
      {comp && (
        <ul id="q-completions" role="listbox" class="completions">
          {comp.options.map((o, i) => <li role="option" aria-selected={i === sel} class={i === sel ? 'active' : ''}
                                         onMouseDown={(e) => { e.preventDefault(); accept(o); }}>{o}</li>)}
        </ul>
      )}
    </div>
  );
}

function PlanTree({ plan }: { plan: string }) {
  const render = (ns: PlanNode[]) => <ul>{ns.map((n) => <li><span class="plan-op">{n.label}</span>{n.children.length > 0 && render(n.children)}</li>)}</ul>;
  return <div class="plan card" data-testid="plan"><h2>Plan</h2>{render(parsePlan(plan))}</div>;
}

function Cell({ v, asOf }: { v: unknown; asOf: string | null }) {
  if (isNode(v)) { const n = v as any; return <a href={ciHref(n.id, asOf)}>{n.attributes?.name ?? `#${n.id}`} <span class="badge">{n.class}</span></a>; }
  if (isRel(v)) { const r = v as any; return <span>({r.from})-[:{r.type}]→({r.to})</span>; }
  if (Array.isArray(v)) return <span>[{v.map((x, i) => <>{i > 0 && ', '}<Cell v={x} asOf={asOf} /></>)}]</span>;
  return <span>{v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v)}</span>;
}

function ResultTable({ r, asOf }: { r: Result; asOf: string | null }) {
  return (
    <table class="results-table" data-testid="results">
      <thead><tr>{r.columns.map((c) => <th scope="col">{c}</th>)}</tr></thead>
      <tbody>{r.rows.map((row) => <tr>{row.map((v) => <td><Cell v={v} asOf={asOf} /></td>)}</tr>)}</tbody>
    </table>
  );
}

function ResultGraph({ r, asOf }: { r: Result; asOf: string | null }) {
  const { nodes, edges } = useMemo(() => {
    const nodes = new Map<string, GraphNode>();
    const edges = new Map<string, GraphEdge>();
    const visit = (v: any) => {
      if (Array.isArray(v)) return v.forEach(visit);
      if (isNode(v)) nodes.set(`ci:${v.id}`, { id: `ci:${v.id}`, ci: v.id, label: v.attributes?.name ?? `#${v.id}`, cls: v.class, state: 'other', distance: 0, service: false });
      else if (isRel(v)) edges.set(`r:${v.id}`, { id: `r:${v.id}`, source: `ci:${v.from}`, target: `ci:${v.to}`, rel: v.id });
    };
    r.rows.forEach((row) => row.forEach(visit));
    return { nodes: [...nodes.values()], edges: [...edges.values()].filter((e) => nodes.has(e.source) && nodes.has(e.target)) };
  }, [r]);
  return <Graph nodes={nodes} edges={edges} label={`Query result graph: ${nodes.length} CIs`} onOpen={(n) => n.ci && navigate(ciHref(n.ci, asOf))} />;
}
