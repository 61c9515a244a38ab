// The console's URLs: every page, CI, impact view with its options and the time-travel point
// live in the URL, so links can be bookmarked and shared. Pure functions (tested in test/).

export type Page =
  | 'signin' | 'home' | 'ci' | 'neighbourhood' | 'impact' | 'browse' | 'query' | 'schema' | 'notfound';

export interface Route {
  page: Page;
  id?: number;      // ci, neighbourhood
  cls?: string;     // browse
  params: URLSearchParams;
  asOf: string | null;  // the time-travel point: a transaction id or an ISO time
}

export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  const asOf = normalizeAsOf(params.get('asof'));
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const r = (page: Page, extra: Partial<Route> = {}): Route => ({ page, params, asOf, ...extra });
  if (parts.length === 0) return r('home');
  const [head, a, b] = parts;
  if (head === 'signin' && parts.length === 1) return r('signin');
  if (head === 'ci' && a && /^[1-9][0-9]*$/.test(a)) {
    if (parts.length === 2) return r('ci', { id: Number(a) });
    if (parts.length === 3 && b === 'neighbourhood') return r('neighbourhood', { id: Number(a) });
  }
  if (head === 'impact' && parts.length === 1) return r('impact');
  if (head === 'browse' && parts.length <= 2) return r('browse', { cls: a ?? '' });
  if (head === 'query' && parts.length === 1) return r('query');
  if (head === 'schema' && parts.length === 1) return r('schema');
  return r('notfound');
}

// A time-travel point as typed: a positive transaction id, or a time (kept as typed, trimmed).
// Returns null for nothing or for text that is neither.
export function normalizeAsOf(text: string | null | undefined): string | null {
  if (text == null) return null;
  const t = text.trim();
  if (t === '') return null;
  if (/^[1-9][0-9]*$/.test(t)) return t;
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return t.replace(' ', 'T');
  return null;
}

// The value of an AS OF parameter for the query API: a number for a transaction, else the text.
export function asOfParam(asOf: string): number | string {
  return /^[0-9]+$/.test(asOf) ? Number(asOf) : asOf;
}

// Builds a console link; `asOf` is carried into every link while time travel is on.
export function href(path: string, params: Record<string, string | number | undefined | null | string[]> = {},
                     asOf: string | null = null): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) { if (v.length) q.set(k, v.join(',')); } else q.set(k, String(v));
  }
  if (asOf) q.set('asof', asOf);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const ciHref = (id: number, asOf: string | null = null) => href(`/ci/${id}`, {}, asOf);

// The impact explorer's options, read from and written to the URL.
export interface ImpactOptions {
  cis: number[];
  direction: 'impacted' | 'depends_on';
  depth: number;
  types: string[];
  classes: string[];
}

export function impactFromParams(p: URLSearchParams): ImpactOptions {
  const list = (k: string) => (p.get(k) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const depth = Number(p.get('depth') ?? '6');
  return {
    cis: list('cis').filter((s) => /^[1-9][0-9]*$/.test(s)).map(Number),
    direction: p.get('direction') === 'depends_on' ? 'depends_on' : 'impacted',
    depth: Number.isInteger(depth) && depth >= 1 && depth <= 20 ? depth : 6,
    types: list('types'),
    classes: list('classes'),
  };
}

// The impact view's link; `asOf` keeps the time-travel point (the impact as it was then).
export function impactHref(o: ImpactOptions, asOf: string | null = null): string {
  return href('/impact', {
    cis: o.cis.map(String),
    direction: o.direction === 'impacted' ? undefined : o.direction,
    depth: o.depth === 6 ? undefined : o.depth,
    types: o.types,
    classes: o.classes,
  }, asOf);
}

// Sets or clears the time-travel point of a URL (path + search), keeping everything else.
export function withAsOf(pathAndSearch: string, asOf: string | null): string {
  const [path, search = ''] = pathAndSearch.split('?');
  const q = new URLSearchParams(search);
  if (asOf) q.set('asof', asOf); else q.delete('asof');
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
