// The impact explorer: what fails with the chosen CIs, as a layered graph (seeds on top, down and
// degraded apart, services marked), with counts per class, the explanation path of a selected
// CI, grouping beyond a few hundred nodes and SVG, PNG and DOT export. Options live in the URL.
import type cytoscape from 'cytoscape';
import { useMemo, useRef, useState } from 'preact/hooks';
import { post, request, schema } from '../api';
import { Graph, positions } from '../graph';
import { buildImpactGraph, countsByClass, GraphNode, ImpactAnswer, kStateColours, pathOf, toSvg } from '../impact';
import { navigate } from '../nav';
import { asOfParam, ciHref, impactFromParams, impactHref, ImpactOptions } from '../url';
import { download, ErrorBox, Loading, useData } from '../ui';

export function ImpactPage({ params, asOf }: { params: URLSearchParams; asOf: string | null }) {
  const opts = impactFromParams(params);
  const key = impactHref(opts, asOf);
  const sch = useData(() => schema(), []);
  const { data, error, loading } = useData<ImpactAnswer | null>(
    () => opts.cis.length ? post<ImpactAnswer>('/v1/impact', impactBody(opts, asOf)) : Promise.resolve(null), [key]);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<GraphNode | null>(null);
  const cyRef = useRef<cytoscape.Core | null>(null);
  const serviceClasses = useMemo(() => new Set((sch.data?.classes ?? []).filter((c) => c.service).map((c) => c.name)), [sch.data]);
  const graph = useMemo(() => data ? buildImpactGraph(data, { expanded, serviceClasses }) : null, [data, expanded, serviceClasses]);
  const set = (o: Partial<ImpactOptions>) => navigate(impactHref({ ...opts, ...o }, asOf));
  const highlight = data && selected?.ci ? pathOf(data, selected.ci) : null;
  return (
    <div class="impact-page">
      <h1>Impact</h1>
      <Controls opts={opts} set={set} types={(sch.data?.relationship_types ?? []).map((t) => t.name)}
                classes={(sch.data?.classes ?? []).map((c) => c.name)} />
      {opts.cis.length === 0 && <p class="muted">Pick one or more CIs: search for one and press “Impact” on its page, or give ids above.</p>}
      <ErrorBox error={error} />
      {loading && opts.cis.length > 0 && <Loading what="Computing the impact" />}
      {data && graph && (
        <div class="impact-body">
          <div class="impact-graph">
            <div class="legend" aria-label="Legend">
              {(['seed', 'down', 'degraded', 'group'] as const).map((s) => (
                <span><i style={{ background: kStateColours[s] }} /> {s === 'seed' ? 'chosen CI' : s}</span>))}
              <span><i class="svc" /> business service</span>
            </div>
            <Graph nodes={graph.nodes} edges={graph.edges} highlight={highlight} cyRef={cyRef}
                   label={`Impact graph: ${data.seeds.length} chosen CIs, ${data.impacted.length} impacted`}
                   onSelect={(n) => n.state === 'group' ? setExpanded(new Set([...expanded, n.id])) : setSelected(n)}
                   onOpen={(n) => n.ci && navigate(ciHref(n.ci, asOf))} />
            <div class="actions">
              <button type="button" onClick={() => cyRef.current && download('impact.svg', 'image/svg+xml', toSvg(positions(cyRef.current), graph.edges))}>Export SVG</button>
              <button type="button" onClick={async () => {
                if (!cyRef.current) return;
                const blob = cyRef.current.png({ output: 'blob', full: true, bg: '#ffffff', scale: 2 }) as unknown as Blob;
                download('impact.png', 'image/png', blob);
              }}>Export PNG</button>
              <button type="button" onClick={async () => {
                const r = await request<string>('POST', '/v1/impact', { ...impactBody(opts, asOf), format: 'dot' }, { text: true });
                download('impact.dot', 'text/vnd.graphviz', r.data);
              }}>Export DOT</button>
              {graph.grouped && <span class="muted">Grouped by class and distance ({data.impacted.length} CIs); click a group to expand it.</span>}
              {expanded.size > 0 && <button type="button" class="link" onClick={() => setExpanded(new Set())}>Collapse groups</button>}
            </div>
          </div>
          <aside class="impact-side">
            <p data-testid="impact-summary"><b>{data.impacted.length}</b> CIs impacted
              ({data.impacted.filter((i) => i.state === 'down').length} down, {data.impacted.filter((i) => i.state === 'degraded').length} degraded)
              {data.depth_limited && <> · depth limit reached</>}
              {asOf && data.tx !== undefined && <> · as of transaction <span data-testid="impact-tx">{data.tx}</span></>}</p>
            {selected && <SelectedPath data={data} node={selected} asOf={asOf} />}
            <table class="counts">
              <caption>Per class</caption>
              <thead><tr><th scope="col">Class</th><th scope="col">Down</th><th scope="col">Degraded</th></tr></thead>
              <tbody>{countsByClass(data).map((c) => <tr><th scope="row">{c.cls}</th><td>{c.down}</td><td>{c.degraded}</td></tr>)}</tbody>
            </table>
            <details>
              <summary>Impacted CIs as a list</summary>
              <ul class="impact-list">
                {data.impacted.map((i) => <li><a href={ciHref(i.id, asOf)}>{i.name ?? `#${i.id}`}</a> <span class={`badge ${i.state}`}>{i.state}</span> <span class="muted">{i.class}, distance {i.distance}</span></li>)}
              </ul>
            </details>
          </aside>
        </div>
      )}
    </div>
  );
}

function impactBody(o: ImpactOptions, asOf: string | null) {
  const b: Record<string, unknown> = { cis: o.cis, direction: o.direction, max_depth: o.depth };
  if (asOf) b.as_of = asOfParam(asOf);
  if (o.types.length) b.types = o.types;
  if (o.classes.length) b.classes = o.classes;
  return b;
}

function SelectedPath({ data, node, asOf }: { data: ImpactAnswer; node: GraphNode; asOf: string | null }) {
  const it = data.impacted.find((i) => i.id === node.ci);
  const names = new Map<number, string>([...data.seeds.map((s) => [s.id, s.name ?? `#${s.id}`] as [number, string]),
                                         ...data.impacted.map((i) => [i.id, i.name ?? `#${i.id}`] as [number, string])]);
  return (
    <div class="selected" data-testid="selected">
      <h3><a href={ciHref(node.ci!, asOf)}>{node.label}</a> <span class="badge">{node.cls}</span></h3>
      {it ? <p>{it.state} at distance {it.distance}, because: {it.path.cis.map((c) => names.get(c) ?? `#${c}`).join(' → ')}</p>
          : <p>A chosen CI.</p>}
    </div>
  );
}

function Controls({ opts, set, types, classes }: { opts: ImpactOptions; set: (o: Partial<ImpactOptions>) => void;
                                                  types: string[]; classes: string[] }) {
  const [cis, setCis] = useState(opts.cis.join(', '));
  const multi = (e: Event) => [...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value);
  return (
    <form class="controls card" onSubmit={(e) => { e.preventDefault(); set({ cis: cis.split(/[ ,]+/).filter((s) => /^[1-9][0-9]*$/.test(s)).map(Number) }); }}>
      <div class="field"><label for="imp-cis">CI ids</label>
        <input id="imp-cis" value={cis} onInput={(e) => setCis((e.target as HTMLInputElement).value)} size={14} /></div>
      <div class="field"><label for="imp-dir">Direction</label>
        <select id="imp-dir" value={opts.direction} onChange={(e) => set({ direction: (e.target as HTMLSelectElement).value as ImpactOptions['direction'] })}>
          <option value="impacted">what fails with them (impacted)</option>
          <option value="depends_on">what they depend on</option>
        </select></div>
      <div class="field"><label for="imp-depth">Depth</label>
        <input id="imp-depth" type="number" min={1} max={20} value={opts.depth}
               onChange={(e) => set({ depth: Number((e.target as HTMLInputElement).value) || 6 })} /></div>
      <div class="field"><label for="imp-types">Relationship types</label>
        <select id="imp-types" multiple size={3} onChange={(e) => set({ types: multi(e) })}>
          {types.map((t) => <option value={t} selected={opts.types.includes(t)}>{t}</option>)}
        </select></div>
      <div class="field"><label for="imp-classes">Classes</label>
        <select id="imp-classes" multiple size={3} onChange={(e) => set({ classes: multi(e) })}>
          {classes.map((t) => <option value={t} selected={opts.classes.includes(t)}>{t}</option>)}
        </select></div>
      <button type="submit">Run</button>
    </form>
  );
}
