// The impact explorer's graph: nodes and edges from a POST /v1/impact answer, grouped by class
// and distance beyond a threshold (each group expandable), so thousands of CIs stay readable.
// Pure functions (tested in test/).

export interface ImpactItem {
  id: number;
  class: string;
  name: string | null;
  distance: number;
  state: 'down' | 'degraded';
  path: { cis: number[]; relationships: number[] };
}

export interface ImpactAnswer {
  seeds: { id: number; class: string; name: string | null }[];
  impacted: ImpactItem[];
  total?: number;
  services?: unknown;
  counts: Record<string, number>;
  depth_limited: boolean;
  tx?: number;
}

export type NodeState = 'seed' | 'down' | 'degraded' | 'group' | 'other';

export interface GraphNode {
  id: string;            // "ci:42" or "group:Class:3"
  ci?: number;
  label: string;
  cls: string;
  state: NodeState;
  distance: number;
  service: boolean;
  count?: number;        // groups: how many CIs
  states?: { down: number; degraded: number };
}

export interface GraphEdge { id: string; source: string; target: string; rel?: number; count?: number }

export const kGroupThreshold = 300;

export const groupKey = (cls: string, distance: number) => `group:${cls}:${distance}`;

// The CI ids of the services in an answer (its `services` list, whatever its items hold).
export function serviceIds(a: ImpactAnswer): Set<number> {
  const out = new Set<number>();
  if (Array.isArray(a.services)) {
    for (const s of a.services as unknown[]) {
      if (typeof s === 'number') out.add(s);
      else if (s && typeof s === 'object' && typeof (s as { id?: unknown }).id === 'number') out.add((s as { id: number }).id);
    }
  }
  return out;
}

// Builds the graph to draw. Up to `threshold` CIs every CI is a node, and each impacted CI has
// the edge of the last step of its explanation path. Above it, impacted CIs are grouped by
// (class, distance), except the groups listed in `expanded`; edges between groups are merged
// with a count.
export function buildImpactGraph(a: ImpactAnswer, opts: { threshold?: number; expanded?: Set<string>;
                                                          serviceClasses?: Set<string> } = {}):
    { nodes: GraphNode[]; edges: GraphEdge[]; grouped: boolean } {
  const threshold = opts.threshold ?? kGroupThreshold;
  const expanded = opts.expanded ?? new Set<string>();
  const services = serviceIds(a);
  const isService = (id: number, cls: string) => services.has(id) || (opts.serviceClasses?.has(cls) ?? false);
  const grouped = a.seeds.length + a.impacted.length > threshold;
  const nodes = new Map<string, GraphNode>();
  const where = new Map<number, string>();  // CI id -> node id
  for (const s of a.seeds) {
    const id = `ci:${s.id}`;
    nodes.set(id, { id, ci: s.id, label: s.name ?? `#${s.id}`, cls: s.class, state: 'seed', distance: 0,
                    service: isService(s.id, s.class) });
    where.set(s.id, id);
  }
  for (const it of a.impacted) {
    if (where.has(it.id)) continue;
    const key = groupKey(it.class, it.distance);
    if (grouped && !expanded.has(key)) {
      let g = nodes.get(key);
      if (!g) {
        g = { id: key, label: '', cls: it.class, state: 'group', distance: it.distance, service: false, count: 0,
              states: { down: 0, degraded: 0 } };
        nodes.set(key, g);
      }
      g.count! += 1;
      g.states![it.state] += 1;
      g.service = g.service || isService(it.id, it.class);
      where.set(it.id, key);
    } else {
      const id = `ci:${it.id}`;
      nodes.set(id, { id, ci: it.id, label: it.name ?? `#${it.id}`, cls: it.class, state: it.state,
                      distance: it.distance, service: isService(it.id, it.class) });
      where.set(it.id, id);
    }
  }
  for (const g of nodes.values()) {
    if (g.state === 'group') g.label = `${g.cls} ×${g.count} (distance ${g.distance})`;
  }
  const edges = new Map<string, GraphEdge>();
  for (const it of a.impacted) {
    const cis = it.path.cis;
    if (cis.length < 2) continue;
    const from = where.get(cis[cis.length - 2]);
    const to = where.get(cis[cis.length - 1]);
    if (!from || !to || from === to) continue;
    const rel = it.path.relationships[it.path.relationships.length - 1];
    const id = grouped ? `e:${from}>${to}` : `r:${rel}`;
    const e = edges.get(id);
    if (e) e.count = (e.count ?? 1) + 1;
    else edges.set(id, { id, source: from, target: to, rel, count: 1 });
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], grouped };
}

// The node ids and relationship ids of a CI's explanation path (to highlight it).
export function pathOf(a: ImpactAnswer, ci: number): { nodes: string[]; rels: number[] } {
  const it = a.impacted.find((i) => i.id === ci);
  if (!it) return { nodes: [`ci:${ci}`], rels: [] };
  return { nodes: it.path.cis.map((c) => `ci:${c}`), rels: it.path.relationships };
}

// Counts of impacted CIs per class, down and degraded apart, largest first.
export function countsByClass(a: ImpactAnswer): { cls: string; down: number; degraded: number }[] {
  const m = new Map<string, { cls: string; down: number; degraded: number }>();
  for (const it of a.impacted) {
    const c = m.get(it.class) ?? { cls: it.class, down: 0, degraded: 0 };
    c[it.state] += 1;
    m.set(it.class, c);
  }
  return [...m.values()].sort((x, y) => y.down + y.degraded - (x.down + x.degraded) || x.cls.localeCompare(y.cls));
}

// The colours of the states (the graph, the legend and the exported pictures).
export const kStateColours: Record<NodeState, string> = {
  seed: '#2563eb',
  down: '#dc2626',
  degraded: '#d97706',
  group: '#6b7280',
  other: '#0891b2',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// An SVG picture of a laid-out graph (node centres given), self-contained.
export function toSvg(nodes: (GraphNode & { x: number; y: number })[], edges: GraphEdge[]): string {
  const pos = new Map(nodes.map((n) => [n.id, n]));
  const xs = nodes.map((n) => n.x), ys = nodes.map((n) => n.y);
  const minX = Math.min(0, ...xs) - 120, minY = Math.min(0, ...ys) - 40;
  const w = Math.max(0, ...xs) - minX + 120, h = Math.max(0, ...ys) - minY + 60;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="${minX} ${minY} ${w} ${h}" font-family="sans-serif" font-size="11">`];
  for (const e of edges) {
    const s = pos.get(e.source), t = pos.get(e.target);
    if (s && t) out.push(`<line x1="${s.x}" y1="${s.y}" x2="${t.x}" y2="${t.y}" stroke="#9ca3af" stroke-width="1.5"/>`);
  }
  for (const n of nodes) {
    const colour = kStateColours[n.state];
    out.push(`<g data-state="${n.state}"><circle cx="${n.x}" cy="${n.y}" r="${n.service ? 14 : 10}" fill="${colour}"` +
             `${n.service ? ' stroke="#111827" stroke-width="3"' : ''}/>` +
             `<text x="${n.x}" y="${n.y + 24}" text-anchor="middle">${esc(n.label)}</text></g>`);
  }
  out.push('</svg>');
  return out.join('\n');
}
