import { describe, expect, it } from 'vitest';
import { buildImpactGraph, countsByClass, ImpactAnswer, pathOf, toSvg } from '../src/impact';

// A seed with a chain of `n` CIs below it, alternating classes.
function chain(n: number): ImpactAnswer {
  const impacted = [];
  for (let i = 1; i <= n; i++) {
    const cis = Array.from({ length: i + 1 }, (_, k) => k + 1);
    impacted.push({ id: i + 1, class: i % 2 ? 'VirtualMachine' : 'Application', name: `ci${i + 1}`, distance: i,
                    state: (i % 3 ? 'down' : 'degraded') as 'down' | 'degraded', path: { cis, relationships: cis.slice(1).map((c) => 100 + c) } });
  }
  return { seeds: [{ id: 1, class: 'PhysicalServer', name: 'esx' }], impacted, counts: {}, depth_limited: false,
           services: [{ id: 3 }] };
}

// A star: one seed, `n` CIs of class `cls` at distance 1 and their children at distance 2.
function star(n: number): ImpactAnswer {
  const impacted = [];
  for (let i = 0; i < n; i++) {
    impacted.push({ id: 10 + i, class: 'VirtualMachine', name: null, distance: 1, state: 'down' as const,
                    path: { cis: [1, 10 + i], relationships: [1000 + i] } });
    impacted.push({ id: 100000 + i, class: 'AppInstance', name: null, distance: 2, state: i % 2 ? 'down' as const : 'degraded' as const,
                    path: { cis: [1, 10 + i, 100000 + i], relationships: [1000 + i, 5000 + i] } });
  }
  return { seeds: [{ id: 1, class: 'HostCluster', name: 'c' }], impacted, counts: {}, depth_limited: false };
}

describe('impact graph', () => {
  it('draws every CI with its state and the last step of its path below the threshold', () => {
    const g = buildImpactGraph(chain(5));
    expect(g.grouped).toBe(false);
    expect(g.nodes.map((n) => [n.id, n.state])).toEqual([
      ['ci:1', 'seed'], ['ci:2', 'down'], ['ci:3', 'down'], ['ci:4', 'degraded'], ['ci:5', 'down'], ['ci:6', 'down']]);
    expect(g.edges.map((e) => [e.source, e.target, e.rel])).toEqual([
      ['ci:1', 'ci:2', 102], ['ci:2', 'ci:3', 103], ['ci:3', 'ci:4', 104], ['ci:4', 'ci:5', 105], ['ci:5', 'ci:6', 106]]);
    expect(g.nodes.find((n) => n.id === 'ci:3')!.service).toBe(true);
    expect(pathOf(chain(5), 4)).toEqual({ nodes: ['ci:1', 'ci:2', 'ci:3', 'ci:4'], rels: [102, 103, 104] });
  });
  it('groups by class and distance beyond the threshold, with counts that add up', () => {
    const a = star(400);
    const g = buildImpactGraph(a, { threshold: 300 });
    expect(g.grouped).toBe(true);
    expect(g.nodes.map((n) => [n.id, n.count ?? 1])).toEqual([
      ['ci:1', 1], ['group:VirtualMachine:1', 400], ['group:AppInstance:2', 400]]);
    expect(g.nodes[2].states).toEqual({ down: 200, degraded: 200 });
    expect(g.edges.map((e) => [e.source, e.target, e.count])).toEqual([
      ['ci:1', 'group:VirtualMachine:1', 400], ['group:VirtualMachine:1', 'group:AppInstance:2', 400]]);
  });
  it('expands one group into its CIs and keeps the others grouped', () => {
    const g = buildImpactGraph(star(400), { threshold: 300, expanded: new Set(['group:VirtualMachine:1']) });
    expect(g.nodes.filter((n) => n.state === 'group').map((n) => n.id)).toEqual(['group:AppInstance:2']);
    expect(g.nodes.filter((n) => n.cls === 'VirtualMachine')).toHaveLength(400);
    // Each expanded CI has its edge from the seed and into the remaining group.
    expect(g.edges.filter((e) => e.source === 'ci:1')).toHaveLength(400);
    expect(g.edges.filter((e) => e.target === 'group:AppInstance:2').reduce((s, e) => s + (e.count ?? 1), 0)).toBe(400);
  });
  it('counts per class and draws an SVG with the states', () => {
    expect(countsByClass(star(4))).toEqual([{ cls: 'AppInstance', down: 2, degraded: 2 }, { cls: 'VirtualMachine', down: 4, degraded: 0 }]);
    const g = buildImpactGraph(chain(2));
    const svg = toSvg(g.nodes.map((n, i) => ({ ...n, x: 0, y: i * 50 })), g.edges);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect((svg.match(/<circle /g) ?? []).length).toBe(3);
    expect((svg.match(/<line /g) ?? []).length).toBe(2);
    expect(svg).toContain('data-state="seed"');
    expect(toSvg([{ ...g.nodes[0], label: '<b>&', x: 0, y: 0 }], [])).toContain('&lt;b&gt;&amp;');
  });
});
