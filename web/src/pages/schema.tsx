// The schema: classes with inheritance, attributes and keys; relationship types with endpoints,
// cardinality and impact rule; a picture of the type graph.
import { useMemo } from 'preact/hooks';
import { ClassDef, schema } from '../api';
import { Graph } from '../graph';
import { GraphEdge, GraphNode } from '../impact';
import { href } from '../url';
import { ErrorBox, Loading, Section, useData } from '../ui';

export function SchemaPage() {
  const { data, error } = useData(() => schema(), []);
  const picture = useMemo(() => {
    if (!data) return null;
    const nodes: GraphNode[] = data.classes.map((c) => ({ id: `c:${c.name}`, label: c.name, cls: c.name, state: c.abstract ? 'group' : 'other',
                                                          distance: 0, service: !!c.service }));
    const edges: GraphEdge[] = [];
    for (const c of data.classes) if (c.parent) edges.push({ id: `p:${c.name}`, source: `c:${c.parent}`, target: `c:${c.name}` });
    return { nodes, edges };
  }, [data]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="Loading the schema" />;
  const children = (p: string) => data.classes.filter((c) => (c.parent ?? '') === p).sort((a, b) => a.name.localeCompare(b.name));
  const tree = (c: ClassDef): preact.JSX.Element => (
    <li>
      <details open={!c.parent}>
        <summary><b>{c.name}</b>{c.abstract && <span class="badge">abstract</span>}{c.service && <span class="badge">service</span>}
          {c.key?.length ? <span class="muted"> key ({c.key.join(', ')})</span> : null}
          {' '}<a href={href(`/browse/${c.name}`)}>browse</a></summary>
        <table class="attrs">
          <thead><tr><th scope="col">Attribute</th><th scope="col">Type</th><th scope="col">Constraints</th><th scope="col">Declared in</th></tr></thead>
          <tbody>{c.attributes.map((a) => (
            <tr><th scope="row">{a.name}</th><td>{a.type}{a.values ? ` (${a.values.join(', ')})` : ''}</td>
              <td class="muted">{[a.not_null && 'NOT NULL', a.unique && 'UNIQUE', a.default !== undefined && `DEFAULT ${JSON.stringify(a.default)}`].filter(Boolean).join(', ')}</td>
              <td class="muted">{a.declared_in}</td></tr>))}</tbody>
        </table>
        {children(c.name).length > 0 && <ul class="tree">{children(c.name).map(tree)}</ul>}
      </details>
    </li>
  );
  return (
    <div>
      <h1>Schema <span class="muted">version {data.version} · {data.mode}</span></h1>
      <Section title="Class inheritance" id="schema-picture">
        {picture && <Graph nodes={picture.nodes} edges={picture.edges} label={`Class inheritance: ${picture.nodes.length} classes`} />}
      </Section>
      <Section title="Classes" id="schema-classes"><ul class="tree">{children('').map(tree)}</ul></Section>
      <Section title="Relationship types" id="schema-types">
        <table class="attrs">
          <thead><tr><th scope="col">Type</th><th scope="col">From → to</th><th scope="col">Cardinality</th><th scope="col">Impact</th><th scope="col">Attributes</th></tr></thead>
          <tbody>{data.relationship_types.map((t) => (
            <tr><th scope="row">{t.name}</th><td>{t.pairs.map((p) => `${p.from} → ${p.to}`).join('; ')}</td><td>{t.cardinality}</td>
              <td>{t.impact}{t.quorum ? ` (quorum ${JSON.stringify(t.quorum)})` : ''}</td><td>{t.attributes.map((a) => `${a.name} ${a.type}`).join(', ')}</td></tr>))}</tbody>
        </table>
      </Section>
    </div>
  );
}
