// The start page: counts, and the ways in.
import { get, schema } from '../api';
import { href } from '../url';
import { Loading, Section, useData } from '../ui';

export function HomePage({ asOf }: { asOf: string | null }) {
  const health = useData(() => get('/healthz'), []);
  const sch = useData(() => schema(), []);
  return (
    <div>
      <h1>Configuration management database</h1>
      {health.data ? <p class="muted">{health.data.cis} CIs, {health.data.relationships} relationships, transaction {health.data.tx},
        schema version {health.data.schema_version}.</p> : <Loading />}
      <p>Search from the box above (press <kbd>/</kbd>), or start from a class, the impact explorer or a query.</p>
      <Section title="Classes" id="classes">
        {sch.data ? (
          <ul class="chips">
            {sch.data.classes.filter((c) => !c.abstract).map((c) => <li><a class="chip" href={href(`/browse/${c.name}`, {}, asOf)}>{c.name}</a></li>)}
          </ul>
        ) : <Loading />}
      </Section>
    </div>
  );
}
