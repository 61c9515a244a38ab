// The neighbourhood of a CI: everything within one to three hops, either direction, as a layered
// graph; clicking a CI adds its own neighbours, double-clicking opens it.
import { useEffect, useState } from 'preact/hooks';
import { query } from '../api';
import { Graph } from '../graph';
import { GraphEdge, GraphNode } from '../impact';
import { navigate } from '../nav';
import { ciHref, href } from '../url';
import { ErrorBox, Loading } from '../ui';

const kMaxNodes = 400;

interface Net { nodes: Map<string, GraphNode>; edges: Map<string, GraphEdge> }

async function expand(net: Net, ids: number[], asOf: string | null) {
  const r = await query('MATCH (n)-[r]-(m) WHERE id(n) IN $ids RETURN n, r, m LIMIT 2000', { ids }, asOf);
  const added: number[] = [];
  for (const [n, rel, m] of r.rows) {
    for (const c of [n, m]) {
      const id = `ci:${c.id}`;
      if (!net.nodes.has(id) && net.nodes.size < kMaxNodes) {
        net.nodes.set(id, { id, ci: c.id, label: c.attributes?.name ?? `#${c.id}`, cls: c.class, state: 'other', distance: 0, service: false });
        added.push(c.id);
      }
    }
    const eid = `r:${rel.id}`;
    if (net.nodes.has(`ci:${rel.from}`) && net.nodes.has(`ci:${rel.to}`))
      net.edges.set(eid, { id: eid, source: `ci:${rel.from}`, target: `ci:${rel.to}`, rel: rel.id });
  }
  for (const e of net.edges.values()) (e as any).label = undefined;
  return added;
}

export function NeighbourhoodPage({ id, params, asOf }: { id: number; params: URLSearchParams; asOf: string | null }) {
  const hops = Math.min(Math.max(Number(params.get('hops') ?? '1') || 1, 1), 3);
  const [net, setNet] = useState<{ nodes: GraphNode[]; edges: GraphEdge[] } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [work, setWork] = useState<Net | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const n: Net = { nodes: new Map(), edges: new Map() };
      const self = await query('MATCH (n) WHERE id(n) = $id RETURN n', { id }, asOf);
      if (!self.rows.length) throw new Error(`CI ${id} does not exist${asOf ? ' at that time' : ''}`);
      const c = self.rows[0][0];
      n.nodes.set(`ci:${id}`, { id: `ci:${id}`, ci: id, label: c.attributes?.name ?? `#${id}`, cls: c.class, state: 'seed', distance: 0, service: false });
      let frontier = [id];
      for (let h = 0; h < hops && frontier.length; h++) frontier = await expand(n, frontier, asOf);
      if (live) { setWork(n); setNet({ nodes: [...n.nodes.values()], edges: [...n.edges.values()] }); }
    })().catch((e) => live && setError(e));
    return () => { live = false; };
  }, [id, hops, asOf]);
  const grow = async (node: GraphNode) => {
    if (!work || !node.ci) return;
    try {
      await expand(work, [node.ci], asOf);
      setNet({ nodes: [...work.nodes.values()], edges: [...work.edges.values()] });
    } catch (e) { setError(e as Error); }
  };
  return (
    <div>
      <h1>Neighbourhood of <a href={ciHref(id, asOf)}>{net?.nodes[0]?.label ?? `CI ${id}`}</a></h1>
      <p class="controls-inline">
        Hops:{' '}
        {[1, 2, 3].map((h) => <a class={`chip${h === hops ? ' on' : ''}`} aria-current={h === hops ? 'true' : undefined}
                                 href={href(`/ci/${id}/neighbourhood`, { hops: h === 1 ? undefined : h }, asOf)}>{h}</a>)}
        <span class="muted"> · click a CI to add its neighbours, double-click to open it (at most {kMaxNodes} CIs)</span>
      </p>
      <ErrorBox error={error} />
      {!net && !error && <Loading what="Loading the neighbourhood" />}
      {net && <Graph nodes={net.nodes} edges={net.edges} label={`Neighbourhood graph of CI ${id}: ${net.nodes.length} CIs`}
                     onSelect={grow} onOpen={(n) => n.ci && navigate(ciHref(n.ci, asOf))} />}
    </div>
  );
}
