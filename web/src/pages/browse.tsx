// Browse a class: chosen columns, filters on attributes, sorting and server-side paging (each page
// one query: ORDER BY, SKIP, LIMIT, and a count), and CSV export of what is shown. The class,
// columns, filters, sort and page live in the URL.
import { ClassDef, query, schema } from '../api';
import { toCsv } from '../csv';
import { formatValue } from '../diff';
import { navigate } from '../nav';
import { ciHref, href } from '../url';
import { download, ErrorBox, Loading, useData } from '../ui';

const kPage = 50;
const ident = (s: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);

export interface BrowseState { cols: string[]; sort: string; desc: boolean; page: number; filters: Record<string, string> }

export function browseState(p: URLSearchParams, cls: ClassDef | null): BrowseState {
  const names = new Set((cls?.attributes ?? []).map((a) => a.name));
  const cols = (p.get('cols') ?? '').split(',').filter((c) => names.has(c));
  const filters: Record<string, string> = {};
  for (const [k, v] of p.entries()) if (k.startsWith('f.') && names.has(k.slice(2)) && v !== '') filters[k.slice(2)] = v;
  const sortText = p.get('sort') ?? 'name';
  const desc = sortText.startsWith('-');
  const sort = desc ? sortText.slice(1) : sortText;
  return {
    cols: cols.length ? cols : ['name', ...(cls?.key ?? []).filter((k) => k !== 'name'), 'status', 'environment'].filter((c) => names.has(c)),
    sort: names.has(sort) || sort === 'id' ? sort : 'name',
    desc,
    page: Math.max(Number(p.get('page') ?? '1') || 1, 1),
    filters,
  };
}

function stateHref(cls: string, s: BrowseState, asOf: string | null) {
  const params: Record<string, string | undefined> = {
    cols: s.cols.join(','), sort: (s.desc ? '-' : '') + s.sort, page: s.page > 1 ? String(s.page) : undefined,
  };
  for (const [k, v] of Object.entries(s.filters)) params[`f.${k}`] = v;
  return href(`/browse/${cls}`, params, asOf);
}

async function loadPage(cls: ClassDef, s: BrowseState, asOf: string | null) {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  Object.entries(s.filters).forEach(([k, v], i) => {
    if (!ident(k)) return;
    where.push(`toLower(toString(n.${k})) CONTAINS $f${i}`);
    params[`f${i}`] = v.toLowerCase();
  });
  const w = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const order = s.sort === 'id' ? 'id(n)' : `n.${s.sort}`;
  params.skip = (s.page - 1) * kPage;
  params.limit = kPage;
  const [rows, count] = await Promise.all([
    query(`MATCH (n:${cls.name})${w} RETURN n ORDER BY ${order} ${s.desc ? 'DESC' : 'ASC'}, id(n) SKIP $skip LIMIT $limit`, params, asOf),
    query(`MATCH (n:${cls.name})${w} RETURN count(n)`, params, asOf),
  ]);
  return { items: rows.rows.map((r) => r[0]), total: count.rows[0][0] as number };
}

export function BrowsePage({ cls, params, asOf }: { cls: string; params: URLSearchParams; asOf: string | null }) {
  const sch = useData(() => schema(), []);
  const def = sch.data?.classes.find((c) => c.name === cls) ?? null;
  const s = browseState(params, def);
  const key = stateHref(cls, s, asOf);
  const page = useData(() => def && ident(def.name) ? loadPage(def, s, asOf) : Promise.resolve(null), [key, def]);
  if (sch.error) return <ErrorBox error={sch.error} />;
  if (!sch.data) return <Loading />;
  const go = (next: Partial<BrowseState>) => navigate(stateHref(cls, { ...s, ...next }, asOf));
  const classes = sch.data.classes.map((c) => c.name).sort();
  const pages = page.data ? Math.max(Math.ceil(page.data.total / kPage), 1) : 1;
  return (
    <div>
      <h1>Browse {cls || 'a class'}</h1>
      <div class="controls card">
        <div class="field"><label for="br-class">Class</label>
          <select id="br-class" value={cls} onChange={(e) => navigate(href(`/browse/${(e.target as HTMLSelectElement).value}`, {}, asOf))}>
            <option value="">—</option>
            {classes.map((c) => <option value={c}>{c}</option>)}
          </select></div>
        {def && (
          <fieldset class="field cols"><legend>Columns</legend>
            {def.attributes.map((a) => (
              <label class="check"><input type="checkbox" checked={s.cols.includes(a.name)}
                onChange={(e) => go({ cols: (e.target as HTMLInputElement).checked ? [...s.cols, a.name] : s.cols.filter((c) => c !== a.name) })} />
                {a.name}</label>))}
          </fieldset>
        )}
      </div>
      {!def && cls && <p class="error" role="alert">unknown class '{cls}'</p>}
      <ErrorBox error={page.error} />
      {def && (
        <>
          <table class="browse" aria-busy={page.loading} data-testid="browse">
            <thead>
              <tr>
                <th scope="col"><button type="button" class="link" onClick={() => go({ sort: 'id', desc: s.sort === 'id' && !s.desc, page: 1 })}>id{s.sort === 'id' ? (s.desc ? ' ▼' : ' ▲') : ''}</button></th>
                {s.cols.map((c) => (
                  <th scope="col" aria-sort={s.sort === c ? (s.desc ? 'descending' : 'ascending') : undefined}>
                    <button type="button" class="link" onClick={() => go({ sort: c, desc: s.sort === c && !s.desc, page: 1 })}>
                      {c}{s.sort === c ? (s.desc ? ' ▼' : ' ▲') : ''}</button>
                  </th>))}
              </tr>
              <tr class="filters">
                <td />
                {s.cols.map((c) => (
                  <td><input aria-label={`Filter ${c}`} placeholder="contains…" value={s.filters[c] ?? ''}
                             onChange={(e) => go({ filters: { ...s.filters, [c]: (e.target as HTMLInputElement).value }, page: 1 })} /></td>))}
              </tr>
            </thead>
            <tbody>
              {page.data?.items.map((n: any) => (
                <tr>
                  <td><a href={ciHref(n.id, asOf)}>{n.id}</a></td>
                  {s.cols.map((c) => <td>{c === 'name' ? <a href={ciHref(n.id, asOf)}>{formatValue(n.attributes[c])}</a> : formatValue(n.attributes[c])}</td>)}
                </tr>))}
            </tbody>
          </table>
          {page.loading && <Loading />}
          {page.data && (
            <div class="pager">
              <button type="button" disabled={s.page <= 1} onClick={() => go({ page: s.page - 1 })}>Previous</button>
              <span>Page {s.page} of {pages} · {page.data.total} CIs</span>
              <button type="button" disabled={s.page >= pages} onClick={() => go({ page: s.page + 1 })}>Next</button>
              <button type="button" onClick={() => download(`${cls}-page${s.page}.csv`, 'text/csv',
                toCsv(['id', ...s.cols], page.data!.items.map((n: any) => [n.id, ...s.cols.map((c) => n.attributes[c])])))}>Export CSV</button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
