// A CI: its attributes with types and provenance, its relationships both ways grouped by type,
// its history with before/after diffs, and a schema-driven edit form sending If-Match.
import { useState } from 'preact/hooks';
import { ApiError, AttrDef, ClassDef, get, query, request, schema } from '../api';
import { diffAttrs, formatTime, formatValue, setSince, Version, versionAt } from '../diff';
import { ciHref, href } from '../url';
import { ErrorBox, Loading, Section, useData } from '../ui';

interface Ci { id: number; class: string; version: number; attributes: Record<string, unknown> }
interface Tx { tx: number; time: string; actor: string; source: string; change_ref: string | null; message: string | null }
interface Rel { id: number; type: string; from: number; to: number; other: { id: number; class: string; name: string } }

async function loadCi(id: number, asOf: string | null) {
  const [sch, hist] = await Promise.all([schema(), get<{ versions: Version[] }>(`/v1/cis/${id}/history`)]);
  const versions = hist.versions;
  let ci: Ci;
  let asOfTx: number | null = null;
  if (asOf) {
    const r = await query('MATCH (n) WHERE id(n) = $id RETURN n', { id }, asOf);
    asOfTx = r.stats.as_of_tx ?? null;
    if (r.rows.length === 0) throw new ApiError(404, 'NotFound', `CI ${id} did not exist at ${asOf}`);
    const v = asOfTx !== null ? versionAt(versions, asOfTx) : null;
    ci = { ...r.rows[0][0], version: v?.version ?? 0 };
  } else {
    ci = (await request<Ci>('GET', `/v1/cis/${id}`)).data;
  }
  const [out, inc, prov] = await Promise.all([
    query('MATCH (n)-[r]->(m) WHERE id(n) = $id RETURN r, m', { id }, asOf),
    query('MATCH (n)<-[r]-(m) WHERE id(n) = $id RETURN r, m', { id }, asOf),
    asOf ? Promise.resolve({ sources: [] }) : get<{ sources: any[] }>(`/v1/cis/${id}/provenance`),
  ]);
  const rel = (row: any[]): Rel => ({ ...row[0], other: { id: row[1].id, class: row[1].class, name: row[1].attributes?.name } });
  // The transactions of the versions shown (the newest 25).
  const shown = versions.filter((v) => asOfTx === null || v.tx <= asOfTx).slice(-25);
  const txs: Record<number, Tx> = {};
  await Promise.all([...new Set(shown.map((v) => v.tx))].map(async (tx) => {
    const r = await get<{ items: Tx[] }>(`/v1/transactions?since=${tx - 1}&limit=1`);
    if (r.items[0]) txs[tx] = r.items[0];
  }));
  const cls = sch.classes.find((c) => c.name === ci.class) ?? null;
  return { ci, versions, shown, txs, cls, out: out.rows.map(rel), inc: inc.rows.map(rel), prov: prov.sources, asOfTx };
}

export function CiPage({ id, asOf }: { id: number; asOf: string | null }) {
  const { data, error, loading, reload } = useData(() => loadCi(id, asOf), [id, asOf]);
  const [editing, setEditing] = useState(false);
  if (error) return <div class="card"><h1>CI {id}</h1><ErrorBox error={error} /></div>;
  if (!data) return <Loading what={`Loading CI ${id}`} />;
  const { ci, cls } = data;
  const name = String(ci.attributes.name ?? `#${ci.id}`);
  return (
    <div class="ci-page" aria-busy={loading}>
      <div class="page-head">
        <h1><span data-testid="ci-name">{name}</span> <span class="badge">{ci.class}</span></h1>
        <p class="muted">CI {ci.id} · version <span data-testid="ci-version">{ci.version}</span>
          {data.asOfTx !== null && <> · as of transaction {data.asOfTx}</>}</p>
        <div class="actions">
          <a class="button" href={href('/impact', { cis: String(ci.id) }, asOf)}>Impact</a>
          <a class="button" href={href(`/ci/${ci.id}/neighbourhood`, {}, asOf)}>Neighbourhood</a>
          {!asOf && <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>{editing ? 'Close editor' : 'Edit'}</button>}
        </div>
      </div>
      {editing && !asOf && cls && (
        <EditForm ci={ci} cls={cls} onSaved={() => { setEditing(false); reload(); }} />
      )}
      <div class="grid2">
        <Attributes data={data} />
        <Relationships out={data.out} inc={data.inc} asOf={asOf} />
      </div>
      <History data={data} />
    </div>
  );
}

function Attributes({ data }: { data: Awaited<ReturnType<typeof loadCi>> }) {
  const { ci, cls, versions, txs, prov } = data;
  const defs = new Map((cls?.attributes ?? []).map((a) => [a.name, a]));
  const since = setSince(versions.filter((v) => v.version <= ci.version));
  const names = [...new Set([...(cls?.attributes ?? []).map((a) => a.name), ...Object.keys(ci.attributes)])]
    .filter((n) => ci.attributes[n] !== undefined);
  const owner = (attr: string) => prov.find((s: any) => s.owns && s.owns[attr]);
  return (
    <Section title="Attributes" id="attributes">
      <table class="attrs" data-testid="attributes">
        <thead><tr><th scope="col">Attribute</th><th scope="col">Type</th><th scope="col">Value</th><th scope="col">Set by</th></tr></thead>
        <tbody>
          {names.map((n) => {
            const v = since[n];
            const tx = v ? txs[v.tx] : undefined;
            const src = owner(n);
            return (
              <tr data-attr={n}>
                <th scope="row">{n}</th>
                <td class="muted">{defs.get(n)?.type ?? '?'}{cls?.key?.includes(n) ? ' · key' : ''}</td>
                <td class="value">{formatValue(ci.attributes[n])}</td>
                <td class="muted">
                  {src ? <>import <b>{src.source}</b>, confirmed {formatTime(src.owns[n].confirmed_at)}</> :
                   v ? <>tx {v.tx}{tx ? <> by <b>{tx.actor}</b> ({tx.source}), {formatTime(tx.time)}</> : null}</> : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}

function Relationships({ out, inc, asOf }: { out: Rel[]; inc: Rel[]; asOf: string | null }) {
  const groups = (rels: Rel[]) => {
    const m = new Map<string, Rel[]>();
    for (const r of rels) m.set(r.type, [...(m.get(r.type) ?? []), r]);
    return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  };
  const list = (title: string, rels: Rel[], arrow: string) => (
    <div class="rel-dir">
      <h3>{title} <span class="muted">({rels.length})</span></h3>
      {rels.length === 0 && <p class="muted">None</p>}
      {groups(rels).map(([type, rs]) => (
        <div class="rel-group" data-type={type}>
          <h4>{arrow === '→' ? `${type} →` : `← ${type}`}</h4>
          <ul>
            {rs.map((r) => (
              <li><a href={ciHref(r.other.id, asOf)}>{r.other.name ?? `#${r.other.id}`}</a> <span class="badge">{r.other.class}</span></li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
  return (
    <Section title="Relationships" id="relationships">
      {list('Outgoing', out, '→')}
      {list('Incoming', inc, '←')}
    </Section>
  );
}

function History({ data }: { data: Awaited<ReturnType<typeof loadCi>> }) {
  const { shown, versions, txs } = data;
  const prevOf = (v: Version) => versions.find((p) => p.version === v.version - 1) ?? null;
  return (
    <Section title="History" id="history">
      <ol class="timeline" data-testid="history">
        {[...shown].reverse().map((v) => {
          const tx = txs[v.tx];
          const changes = diffAttrs(prevOf(v)?.attributes ?? null, v.attributes);
          return (
            <li data-version={v.version}>
              <div class="tl-head">
                <b>Version {v.version}</b>{v.retired && <span class="badge warn">retired</span>}
                <span class="muted"> · tx {v.tx}{tx && <> · {formatTime(tx.time)} · by <b>{tx.actor}</b> ({tx.source})</>}
                  {tx?.change_ref && <> · change <b>{tx.change_ref}</b></>}{tx?.message && <> · “{tx.message}”</>}</span>
              </div>
              {v.version === 1 ? <p class="muted">Created with {Object.keys(v.attributes).length} attributes.</p> : (
                <table class="diff">
                  <thead><tr><th scope="col">Attribute</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
                  <tbody>
                    {changes.map((c) => (
                      <tr data-attr={c.attribute}><th scope="row">{c.attribute}</th>
                        <td class="before">{formatValue(c.before)}</td><td class="after">{formatValue(c.after)}</td></tr>
                    ))}
                  </tbody>
                </table>
              )}
            </li>
          );
        })}
      </ol>
    </Section>
  );
}

// The text of a value in the form, and the value to send for a text typed into it.
const toText = (def: AttrDef | undefined, v: unknown) =>
  v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : def?.type === 'BOOL' ? String(v) : String(v);

function fromText(def: AttrDef | undefined, text: string): unknown {
  const t = text.trim();
  if (t === '') return null;
  switch (def?.type) {
    case 'INT': return /^-?[0-9]+$/.test(t) ? Number(t) : t;  // the server explains a non-number
    case 'FLOAT': return /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(t) ? Number(t) : t;
    case 'BOOL': return t === 'true' ? true : t === 'false' ? false : t;
    case 'LIST<STRING>': return t.split(',').map((s) => s.trim()).filter((s) => s !== '');
    default: return text;
  }
}

function EditForm({ ci, cls, onSaved }: { ci: Ci; cls: ClassDef; onSaved: () => void }) {
  const defs = cls.attributes;
  const initial = Object.fromEntries(defs.map((d) => [d.name, toText(d, ci.attributes[d.name])]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [conflict, setConflict] = useState<{ current: Ci; theirs: ReturnType<typeof diffAttrs> } | null>(null);
  const [busy, setBusy] = useState(false);
  const [base, setBase] = useState(ci);
  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    const patch: Record<string, unknown> = {};
    for (const d of defs) {
      const text = values[d.name] ?? '';
      if (d.not_null && text.trim() === '') errs[d.name] = `${d.name} is required`;
      if (text !== toText(d, base.attributes[d.name])) patch[d.name] = fromText(d, text);
    }
    setFieldErrors(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    if (Object.keys(patch).length === 0) { setError(new ApiError(0, 'Nothing to save', 'no attribute was changed')); return; }
    setBusy(true);
    try {
      await request('PATCH', `/v1/cis/${ci.id}`, patch, { headers: { 'If-Match': `"${base.version}"` } });
      onSaved();
    } catch (err) {
      const a = err as ApiError;
      if (a.status === 412) {
        const current = (await request<Ci>('GET', `/v1/cis/${ci.id}`)).data;
        setConflict({ current, theirs: diffAttrs(base.attributes, current.attributes) });
      } else if (a.details && typeof a.details.attribute === 'string') {
        setFieldErrors({ [a.details.attribute as string]: a.message });
        setError(a);
      } else {
        setError(a);
      }
    } finally {
      setBusy(false);
    }
  };
  const rebase = () => {
    if (!conflict) return;
    // Keep what the user typed, on top of the current version.
    const next = { ...values };
    for (const c of conflict.theirs) if (values[c.attribute] === initial[c.attribute]) next[c.attribute] = toText(defs.find((d) => d.name === c.attribute), c.after);
    setValues(next);
    setBase(conflict.current);
    setConflict(null);
  };
  return (
    <form class="card edit" onSubmit={submit} aria-labelledby="edit-title" data-testid="edit-form" noValidate>
      <h2 id="edit-title">Edit {String(ci.attributes.name ?? ci.id)} <span class="muted">(version {base.version})</span></h2>
      {conflict && (
        <div class="conflict" role="alert" data-testid="conflict">
          <strong>Someone else changed this CI while you were editing.</strong> It is now at version {conflict.current.version}
          {' '}(you started from version {base.version}); nothing of yours was saved. Their changes:
          <table class="diff"><tbody>
            {conflict.theirs.map((c) => <tr><th scope="row">{c.attribute}</th><td class="before">{formatValue(c.before)}</td><td class="after">{formatValue(c.after)}</td></tr>)}
          </tbody></table>
          <button type="button" onClick={rebase}>Keep my edits on top of version {conflict.current.version}</button>
          <button type="button" class="link" onClick={onSaved}>Discard my edits</button>
        </div>
      )}
      <ErrorBox error={error} />
      <div class="fields">
        {defs.map((d) => {
          const id = `f-${d.name}`;
          const err = fieldErrors[d.name];
          const common = { id, name: d.name, 'aria-invalid': !!err, 'aria-describedby': err ? `${id}-err` : undefined,
                           onInput: (e: Event) => setValues({ ...values, [d.name]: (e.target as HTMLInputElement).value }) };
          return (
            <div class={`field${err ? ' invalid' : ''}`}>
              <label for={id}>{d.name}{d.not_null && <span aria-label="required"> *</span>} <span class="muted">{d.type}</span></label>
              {d.type === 'ENUM' || d.type === 'BOOL' ? (
                <select {...common} value={values[d.name]} onChange={common.onInput}>
                  {!d.not_null && <option value="">—</option>}
                  {(d.type === 'BOOL' ? ['true', 'false'] : d.values ?? []).map((o) => <option value={o}>{o}</option>)}
                </select>
              ) : (
                <input {...common} value={values[d.name]} inputMode={d.type === 'INT' || d.type === 'FLOAT' ? 'decimal' : undefined} />
              )}
              {err && <span id={`${id}-err`} class="field-error" role="alert">{err}</span>}
            </div>
          );
        })}
      </div>
      <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save'}</button>
    </form>
  );
}
