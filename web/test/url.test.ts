import { describe, expect, it } from 'vitest';
import { href, impactFromParams, impactHref, normalizeAsOf, parseRoute, withAsOf } from '../src/url';

describe('routes', () => {
  it('reads every page from its URL', () => {
    expect(parseRoute('/', '').page).toBe('home');
    expect(parseRoute('/ci/42', '')).toMatchObject({ page: 'ci', id: 42, asOf: null });
    expect(parseRoute('/ci/42/neighbourhood', '?hops=2')).toMatchObject({ page: 'neighbourhood', id: 42 });
    expect(parseRoute('/browse/VirtualMachine', '')).toMatchObject({ page: 'browse', cls: 'VirtualMachine' });
    expect(parseRoute('/query', '?asof=7').asOf).toBe('7');
    for (const bad of ['/ci/0', '/ci/abc', '/ci/1/2', '/nope', '/ci/-1']) expect(parseRoute(bad, '').page).toBe('notfound');
  });
  it('round-trips the impact options', () => {
    const o = { cis: [12, 7], direction: 'depends_on' as const, depth: 3, types: ['RUNS_ON', 'DEPENDS_ON'], classes: ['Database'] };
    const url = impactHref(o);
    const [path, search] = url.split('?');
    expect(path).toBe('/impact');
    expect(impactFromParams(new URLSearchParams(search))).toEqual(o);
    // Defaults stay out of the URL; junk falls back to them.
    expect(impactHref({ cis: [1], direction: 'impacted', depth: 6, types: [], classes: [] })).toBe('/impact?cis=1');
    // The time-travel point stays with the impact view's options (the impact as it was then).
    const past = impactHref(o, '17');
    expect(new URLSearchParams(past.split('?')[1]).get('asof')).toBe('17');
    expect(parseRoute('/impact', `?${past.split('?')[1]}`)).toMatchObject({ page: 'impact', asOf: '17' });
    expect(impactFromParams(new URLSearchParams(past.split('?')[1]))).toEqual(o);
    expect(impactFromParams(new URLSearchParams('cis=1,x,0,3&depth=99&direction=sideways')))
      .toEqual({ cis: [1, 3], direction: 'impacted', depth: 6, types: [], classes: [] });
  });
  it('keeps the time-travel point in links and can drop it', () => {
    expect(href('/ci/3', {}, '12')).toBe('/ci/3?asof=12');
    expect(withAsOf('/browse/Rack?sort=name', '2026-12-01T09:00Z')).toBe('/browse/Rack?sort=name&asof=2026-12-01T09%3A00Z');
    expect(withAsOf('/browse/Rack?sort=name&asof=3', null)).toBe('/browse/Rack?sort=name');
    expect(normalizeAsOf(' 42 ')).toBe('42');
    expect(normalizeAsOf('2026-12-01 09:00:00Z')).toBe('2026-12-01T09:00:00Z');
    for (const bad of ['', '0', 'yesterday', '42abc', null]) expect(normalizeAsOf(bad)).toBeNull();
  });
});
