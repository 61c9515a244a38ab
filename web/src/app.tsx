// The console's shell: the header (search, pages, time travel), the read-only banner when
// looking at the past, and the page of the URL.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, getToken, setUnauthenticatedHandler } from './api';
import { interceptLinks, navigate, useLocation } from './nav';
import { ciHref, href, normalizeAsOf, parseRoute, withAsOf } from './url';
import { SignInPage } from './pages/signin';
import { HomePage } from './pages/home';
import { CiPage } from './pages/ci';
import { ImpactPage } from './pages/impact';
import { BrowsePage } from './pages/browse';
import { QueryPage } from './pages/query';
import { SchemaPage } from './pages/schema';
import { NeighbourhoodPage } from './pages/neighbourhood';

export function App() {
  const loc = useLocation();
  const route = parseRoute(loc.pathname, loc.search);
  useEffect(() => {
    setUnauthenticatedHandler(() => navigate(href('/signin', { next: location.pathname + location.search }), true));
    document.addEventListener('click', interceptLinks);
    return () => document.removeEventListener('click', interceptLinks);
  }, []);
  const signedIn = !!getToken();
  useEffect(() => {
    if (!signedIn && route.page !== 'signin') navigate(href('/signin', { next: loc.pathname + loc.search }), true);
  }, [signedIn, route.page]);
  if (route.page === 'signin' || !signedIn) return <SignInPage next={route.params.get('next')} />;
  const asOf = route.asOf;
  let page;
  switch (route.page) {
    case 'home': page = <HomePage asOf={asOf} />; break;
    case 'ci': page = <CiPage key={route.id} id={route.id!} asOf={asOf} />; break;
    case 'neighbourhood': page = <NeighbourhoodPage key={route.id} id={route.id!} params={route.params} asOf={asOf} />; break;
    case 'impact': page = <ImpactPage params={route.params} asOf={asOf} />; break;
    case 'browse': page = <BrowsePage cls={route.cls ?? ''} params={route.params} asOf={asOf} />; break;
    case 'query': page = <QueryPage params={route.params} asOf={asOf} />; break;
    case 'schema': page = <SchemaPage />; break;
    default: page = <div class="card"><h1>Not found</h1><p>No page at {loc.pathname}. <a href="/">Home</a></p></div>;
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href={href('/', {}, asOf)}>cmdb</a>
        <SearchBox asOf={asOf} />
        <nav aria-label="Pages">
          <a href={href('/browse', {}, asOf)} aria-current={route.page === 'browse' ? 'page' : undefined}>Browse</a>
          <a href={href('/impact', {}, asOf)} aria-current={route.page === 'impact' ? 'page' : undefined}>Impact</a>
          <a href={href('/query', {}, asOf)} aria-current={route.page === 'query' ? 'page' : undefined}>Query</a>
          <a href={href('/schema', {}, asOf)} aria-current={route.page === 'schema' ? 'page' : undefined}>Schema</a>
        </nav>
        <TimeTravel asOf={asOf} />
        <Who />
      </header>
      {asOf && (
        <div class="past-banner" role="status" data-testid="past-banner">
          Viewing the CMDB as it was at {/^[0-9]+$/.test(asOf) ? `transaction ${asOf}` : asOf} — read-only.{' '}
          <a href={withAsOf(loc.pathname + loc.search, null)}>Back to now</a>
        </div>
      )}
      <main id="main" tabIndex={-1}>{page}</main>
    </div>
  );
}

function Who() {
  const [who, setWho] = useState<{ name: string; role: string } | null>(null);
  useEffect(() => { get('/v1/whoami').then(setWho, () => {}); }, []);
  return (
    <div class="who">
      {who && <span title={`role ${who.role}`}>{who.name}</span>}
      <button type="button" class="link" onClick={() => { sessionStorage.clear(); navigate('/signin'); }}>Sign out</button>
    </div>
  );
}

function TimeTravel({ asOf }: { asOf: string | null }) {
  const [text, setText] = useState(asOf ?? '');
  const [bad, setBad] = useState(false);
  useEffect(() => setText(asOf ?? ''), [asOf]);
  const apply = (e: Event) => {
    e.preventDefault();
    const v = normalizeAsOf(text);
    if (text.trim() !== '' && !v) { setBad(true); return; }
    setBad(false);
    navigate(withAsOf(location.pathname + location.search, v));
  };
  return (
    <form class="timetravel" onSubmit={apply} role="search" aria-label="Time travel">
      <label for="asof">As of</label>
      <input id="asof" name="asof" value={text} placeholder="now (tx or 2026-12-01T09:00Z)" size={18}
             aria-invalid={bad} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      <button type="submit">Go</button>
      {bad && <span class="field-error" role="alert">a transaction id or a date and time</span>}
    </form>
  );
}

interface Hit { id: number; class: string; name: string | null; field: string; attribute?: string; value?: string; match: string }

function SearchBox({ asOf }: { asOf: string | null }) {
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<Hit[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const seq = useRef(0);
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === '/' && !['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName)) { e.preventDefault(); input.current?.focus(); }
    };
    document.addEventListener('keydown', key);
    return () => document.removeEventListener('keydown', key);
  }, []);
  useEffect(() => {
    const text = q.trim();
    if (text === '') { setHits([]); return; }
    const mine = ++seq.current;
    const t = setTimeout(() => {
      get<{ items: Hit[] }>(href('/v1/search', { q: text, limit: 8 })).then(
        (r) => { if (mine === seq.current) { setHits(r.items); setActive(r.items.length ? 0 : -1); setError(null); setOpen(true); } },
        (e) => { if (mine === seq.current) { setError(e.message); setOpen(true); } });
    }, 120);
    return () => clearTimeout(t);
  }, [q]);
  const go = (h: Hit) => { setOpen(false); setQ(''); navigate(ciHref(h.id, asOf)); };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); setOpen(true); setActive((a) => Math.min(a + 1, hits.length - 1)); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((a) => Math.max(a - 1, 0)); }
    else if (e.key === 'Enter' && open && hits[active]) { e.preventDefault(); go(hits[active]); }
    else if (e.key === 'Escape') setOpen(false);
  };
  return (
    <div class="search" role="search">
      <label for="search-input" class="sr-only">Search CIs</label>
      <input id="search-input" ref={input} type="search" value={q} placeholder="Search names, keys, IPs, hosts  ( / )"
             role="combobox" aria-expanded={open && hits.length > 0} aria-controls="search-results" aria-autocomplete="list"
             aria-activedescendant={active >= 0 ? `search-hit-${active}` : undefined} autocomplete="off"
             onInput={(e) => setQ((e.target as HTMLInputElement).value)} onKeyDown={onKey}
             onFocus={() => hits.length && setOpen(true)} onBlur={() => setTimeout(() => setOpen(false), 150)} />
      {open && (hits.length > 0 || error || q.trim() !== '') && (
        <ul id="search-results" role="listbox" class="search-results">
          {error && <li class="error">{error}</li>}
          {!error && hits.length === 0 && <li class="muted">No CI matches “{q.trim()}”</li>}
          {hits.map((h, i) => (
            <li id={`search-hit-${i}`} role="option" aria-selected={i === active} class={i === active ? 'active' : ''}
                onMouseDown={(e) => { e.preventDefault(); go(h); }} onMouseEnter={() => setActive(i)}>
              <span class="hit-name">{h.name ?? `#${h.id}`}</span> <span class="badge">{h.class}</span>
              {h.field !== 'name' && h.value && <span class="muted"> {h.attribute}: {h.value}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
