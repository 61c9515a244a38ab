// A graph drawn by Cytoscape.js with the layered dagre layout (top to bottom: seeds on top).
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { useEffect, useRef } from 'preact/hooks';
import { GraphEdge, GraphNode, kStateColours } from './impact';

cytoscape.use(dagre);

export interface GraphProps {
  nodes: GraphNode[];
  edges: GraphEdge[];
  highlight?: { nodes: string[]; rels: number[] } | null;
  onSelect?: (n: GraphNode) => void;
  onOpen?: (n: GraphNode) => void;
  cyRef?: { current: cytoscape.Core | null };
  label: string;
}

const style: cytoscape.StylesheetStyle[] = [
  { selector: 'node', style: { 'background-color': 'data(colour)', label: 'data(label)', 'font-size': 10, color: '#6b7280',
                               'text-valign': 'bottom', 'text-margin-y': 4, width: 18, height: 18 } },
  { selector: 'node[?service]', style: { 'border-width': 3, 'border-color': '#111827', shape: 'round-rectangle', width: 24, height: 24 } },
  { selector: 'node[kind = "group"][count]', style: { shape: 'round-rectangle', width: 'mapData(count, 1, 500, 26, 60)', height: 22 } },
  { selector: 'node.hl', style: { 'underlay-color': '#facc15', 'underlay-opacity': 0.6, 'underlay-padding': 6 } },
  { selector: 'node:selected', style: { 'underlay-color': '#2563eb', 'underlay-opacity': 0.5, 'underlay-padding': 7 } },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#9ca3af', 'target-arrow-color': '#9ca3af', 'target-arrow-shape': 'triangle',
                               'curve-style': 'bezier', label: 'data(label)', 'font-size': 8, color: '#9ca3af' } },
  { selector: 'edge.hl', style: { width: 3, 'line-color': '#facc15', 'target-arrow-color': '#facc15' } },
];

export function Graph({ nodes, edges, highlight, onSelect, onOpen, cyRef, label }: GraphProps) {
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<cytoscape.Core | null>(null);
  const handlers = useRef({ onSelect, onOpen });
  handlers.current = { onSelect, onOpen };
  useEffect(() => {
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const c = cytoscape({
      container: box.current!,
      elements: [
        ...nodes.map((n) => ({ data: { ...n, kind: n.state, colour: kStateColours[n.state], id: n.id } })),
        ...edges.map((e) => ({ data: { id: e.id, source: e.source, target: e.target, rel: e.rel,
                                       label: e.count && e.count > 1 ? `×${e.count}` : '' } })),
      ],
      style: dark ? [...style, { selector: 'node', style: { color: '#d1d5db' } }] : style,
      layout: { name: 'dagre', rankDir: 'TB', nodeSep: 70, rankSep: 60, animate: false } as any,
      minZoom: 0.05,
      maxZoom: 3,
    });
    c.on('tap', 'node', (e) => handlers.current.onSelect?.(e.target.data() as GraphNode));
    c.on('dbltap', 'node', (e) => handlers.current.onOpen?.(e.target.data() as GraphNode));
    cy.current = c;
    if (cyRef) cyRef.current = c;
    (window as any).__cmdbGraph = c;  // for the end-to-end tests
    return () => { c.destroy(); cy.current = null; if (cyRef) cyRef.current = null; };
  }, [nodes, edges]);
  useEffect(() => {
    const c = cy.current;
    if (!c) return;
    c.elements().removeClass('hl');
    if (!highlight) return;
    for (const n of highlight.nodes) c.getElementById(n).addClass('hl');
    c.edges().filter((e) => highlight.rels.includes(e.data('rel'))).addClass('hl');
  }, [highlight, nodes, edges]);
  return <div class="graph" ref={box} role="img" aria-label={label} data-testid="graph" />;
}

// The laid-out positions, for the SVG export.
export function positions(c: cytoscape.Core): (GraphNode & { x: number; y: number })[] {
  return c.nodes().map((n) => ({ ...(n.data() as GraphNode), x: Math.round(n.position('x')), y: Math.round(n.position('y')) }));
}
