// Differences between versions of a CI (its history timeline). Pure functions.

export type Attrs = Record<string, unknown>;

export interface Change {
  attribute: string;
  before: unknown;  // undefined: not set
  after: unknown;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

// The attributes that differ between two versions, by name.
export function diffAttrs(before: Attrs | null, after: Attrs): Change[] {
  const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]);
  const out: Change[] = [];
  for (const n of [...names].sort()) {
    const b = before ? before[n] : undefined;
    const a = after[n];
    if (!same(b, a)) out.push({ attribute: n, before: b, after: a });
  }
  return out;
}

export interface Version {
  version: number;
  tx: number;
  valid_to_tx: number | null;
  retired: boolean;
  attributes: Attrs;
  updated_at?: string;
}

// The version current right after transaction `tx`, or null when the CI did not exist then.
export function versionAt(versions: Version[], tx: number): Version | null {
  for (const v of versions) {
    if (v.tx <= tx && (v.valid_to_tx === null || v.valid_to_tx > tx)) return v.retired ? null : v;
  }
  return null;
}

// For each attribute of the newest version, the version (its tx) since which it holds its value:
// where the value was last set.
export function setSince(versions: Version[]): Record<string, Version> {
  const out: Record<string, Version> = {};
  if (versions.length === 0) return out;
  const last = versions[versions.length - 1];
  for (const name of Object.keys(last.attributes)) {
    let since = last;
    for (let i = versions.length - 2; i >= 0; i--) {
      if (same(versions[i].attributes[name], last.attributes[name])) since = versions[i];
      else break;
    }
    out[name] = since;
  }
  return out;
}

export function formatValue(v: unknown): string {
  if (v === undefined) return '—';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.map((e) => String(e)).join(', ');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// A server time ("2026-12-01T09:00:00.000000Z") as "2026-12-01 09:00:00 UTC".
export function formatTime(t: string | null | undefined): string {
  if (!t) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(t);
  return m ? `${m[1]} ${m[2]} UTC` : t;
}
