// End-to-end tests of the web console in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core: no browser download) against a real cmdbd with the demo data, started here in
// a temporary folder. Each step writes a screenshot (docs/web.md uses some of them).
//   node e2e/run.mjs --cmdbd build/api/cmdbd [--source .] [--web web/dist] [--out build/web-e2e]
// Exit 0 when every step passed, 1 when one failed, 77 (skipped) without Chromium or playwright-core.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : fallback; };
const source = path.resolve(arg('source', path.join(here, '..', '..')));
const cmdbd = path.resolve(arg('cmdbd', path.join(source, 'build', 'api', 'cmdbd')));
const webDir = path.resolve(arg('web', path.join(source, 'web', 'dist')));
const out = path.resolve(arg('out', path.join(source, 'build', 'web-e2e')));
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

let chromium;
try { ({ chromium } = await import('playwright-core')); } catch {
  console.log('SKIP: playwright-core is not installed (run npm ci in web/, as scripts/setup.sh does)'); process.exit(77);
}
if (!fs.existsSync(chromiumPath)) { console.log(`SKIP: no Chromium at ${chromiumPath} (apt-get install chromium)`); process.exit(77); }
// Builds the console first when its sources changed since the last build (or it was never built).
const builtAt = fs.existsSync(path.join(webDir, 'index.html')) ? fs.statSync(path.join(webDir, 'index.html')).mtimeMs : 0;
const newest = (p) => fs.statSync(p).isDirectory() ? Math.max(0, ...fs.readdirSync(p).map((f) => newest(path.join(p, f)))) : fs.statSync(p).mtimeMs;
if (webDir === path.join(source, 'web', 'dist') &&
    ['src', 'public', 'index.html', 'package-lock.json'].some((f) => newest(path.join(source, 'web', f)) > builtAt)) {
  console.log('building the console (npm run build)');
  const { spawnSync } = await import('node:child_process');
  const b = spawnSync('npm', ['run', 'build'], { cwd: path.join(source, 'web'), stdio: 'inherit' });
  if (b.status !== 0) { console.error('FAIL: npm run build'); process.exit(1); }
}
if (!fs.existsSync(path.join(webDir, 'index.html'))) { console.error(`FAIL: no built console in ${webDir} (npm run build in web/)`); process.exit(1); }
fs.mkdirSync(out, { recursive: true });
for (const f of fs.readdirSync(out)) if (f.startsWith('failed-')) fs.rmSync(path.join(out, f));

// The server, in a fresh folder with the demo data.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cmdb-web-e2e-'));
const server = spawn(cmdbd, ['--db', path.join(tmp, 'cmdb.sqlite'), '--listen', '127.0.0.1:0', '--port-file', path.join(tmp, 'port'),
  '--schema', path.join(source, 'schema'), '--admin-token-file', path.join(tmp, 'token'), '--web', webDir, '--quiet'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
let serverLog = '';
server.stdout.on('data', (d) => { serverLog += d; });
const deadline = Date.now() + 20000;
while (!fs.existsSync(path.join(tmp, 'port'))) {
  if (Date.now() > deadline || server.exitCode !== null) { console.error(`FAIL: cmdbd did not start\n${serverLog}`); process.exit(1); }
  await new Promise((r) => setTimeout(r, 50));
}
const base = `http://127.0.0.1:${fs.readFileSync(path.join(tmp, 'port'), 'utf8').trim()}`;
const token = fs.readFileSync(path.join(tmp, 'token'), 'utf8').trim();
const api = async (method, p, body, headers = {}) => {
  const r = await fetch(base + p, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
                                    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
};

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
const page = await context.newPage();
// Generous limits: the suite shares a 2-core machine with the build and other tests.
page.setDefaultTimeout(20000);
page.setDefaultNavigationTimeout(30000);
const origGoto = page.goto.bind(page);
page.goto = (url, opts = {}) => origGoto(url, { waitUntil: 'domcontentloaded', ...opts });
const consoleErrors = [];
let expectedNetworkErrors = 0;  // HTTP errors a step provokes on purpose (Chromium logs each)
page.on('console', (m) => {
  if (m.type() !== 'error' && m.type() !== 'warning') return;  // a library's warning is a defect too
  if (expectedNetworkErrors > 0 && /Failed to load resource: the server responded with a status of (400|401|412|422)/.test(m.text())) {
    expectedNetworkErrors--; return;
  }
  consoleErrors.push(`${page.url()}: ${m.text()}`);
});
page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));

let failed = 0, passed = 0;
const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    results.push(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    results.push(`FAIL ${name}: ${e.message.split('\n')[0]}`);
    await page.screenshot({ path: path.join(out, `failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
  }
  console.log(results[results.length - 1]);
}
const expect = (cond, msg) => { if (!cond) throw new Error(msg); };
const eq = (a, b, what) => expect(JSON.stringify(a) === JSON.stringify(b), `${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`) });
const idOf = async (cls, name) => (await api('GET', `/v1/cis?class=${cls}&where.name=${name}`)).body.items[0].id;

try {
  await step('the console is served at / with a strict CSP, never a JSON 401', async () => {
    const r = await fetch(`${base}/`);
    eq(r.status, 200, 'status of /');
    expect(r.headers.get('content-type').startsWith('text/html'), 'content type of /');
    expect(/script-src 'self'/.test(r.headers.get('content-security-policy')), 'CSP');
    expect(!/unsafe-inline/.test(r.headers.get('content-security-policy')), 'no unsafe-inline');
    eq((await fetch(`${base}/v1/cis`)).status, 401, 'the API still needs a token');
  });

  await step('sign in with the API token', async () => {
    await page.goto(`${base}/ci/1`);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByLabel('API token').fill('cmdb_wrong');
    expectedNetworkErrors++;
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'unknown' }).or(page.getByRole('alert').filter({ hasText: 'token' })).first().waitFor();
    await shot('signin');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/ci/1`);
    expect(!page.url().includes(token), 'the token is not in the URL');
    eq(await page.evaluate(() => sessionStorage.getItem('cmdb.token')), token, 'token in session storage');
  });

  const vm = await idOf('VirtualMachine', 'shop-web-fra1-01');
  await step('search and open a CI', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('combobox', { name: 'Search CIs' }).fill('shop-web-fra1-0');
    const option = page.getByRole('option').filter({ has: page.locator('.hit-name', { hasText: /^shop-web-fra1-01$/ }) });
    await option.waitFor();
    await shot('search');
    await option.click();
    await page.waitForURL(`${base}/ci/${vm}`);
    await page.getByTestId('ci-name').filter({ hasText: 'shop-web-fra1-01' }).waitFor();
    await page.locator('[data-testid=attributes] tr[data-attr=cpu_count]').waitFor();
    await shot('ci');
  });

  let txBefore = 0;
  await step('edit: a validation error on the field, then success', async () => {
    txBefore = (await api('GET', '/healthz')).body.tx;
    const before = (await api('GET', `/v1/cis/${vm}`)).body;
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel(/^cpu_count/).fill('lots');
    expectedNetworkErrors++;
    await page.getByRole('button', { name: 'Save' }).click();
    const fieldError = page.locator('#f-cpu_count-err');
    await fieldError.waitFor();
    eq(await fieldError.textContent(), "VirtualMachine.cpu_count: expected INT, got STRING 'lots'", 'the field error');
    await shot('edit-error');
    eq((await api('GET', `/v1/cis/${vm}`)).body.version, before.version, 'nothing saved');
    await page.getByLabel(/^cpu_count/).fill('12');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('ci-version').filter({ hasText: String(before.version + 1) }).waitFor();
    const after = (await api('GET', `/v1/cis/${vm}`)).body;
    eq(after.attributes.cpu_count, 12, 'saved cpu_count');
  });

  await step('history: the new version with its diff', async () => {
    const v = (await api('GET', `/v1/cis/${vm}`)).body.version;
    const entry = page.locator(`[data-testid=history] li[data-version="${v}"]`);
    await entry.waitFor();
    const row = entry.locator('tr[data-attr=cpu_count]');
    eq(await row.locator('td.before').textContent(), '2', 'before');
    eq(await row.locator('td.after').textContent(), '12', 'after');
    expect((await entry.textContent()).includes('by admin'), 'the actor is shown');
    await entry.scrollIntoViewIfNeeded();
    await shot('history');
  });

  await step('a concurrent edit shows the conflict', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    const v = (await api('GET', `/v1/cis/${vm}`)).body.version;
    eq((await api('PATCH', `/v1/cis/${vm}`, { memory_gb: 64 }, { 'If-Match': String(v) })).status, 200, 'the other edit');
    await page.getByLabel(/^os_version/).fill('9.9');
    expectedNetworkErrors++;
    await page.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByTestId('conflict');
    await conflict.waitFor();
    const text = await conflict.textContent();
    expect(text.includes('Someone else changed this CI') && text.includes(`now at version ${v + 1}`), `conflict text: ${text}`);
    expect(await conflict.locator('tr').filter({ hasText: 'memory_gb' }).count() === 1, 'their change is listed');
    await shot('conflict');
    await page.getByRole('button', { name: /Keep my edits/ }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('ci-version').filter({ hasText: String(v + 2) }).waitFor();
    eq((await api('GET', `/v1/cis/${vm}`)).body.attributes.os_version, '9.9', 'saved after the rebase');
  });

  await step('time travel shows the older value, read-only', async () => {
    await page.goto(`${base}/ci/${vm}?asof=${txBefore}`);
    await page.getByTestId('past-banner').waitFor();
    const cell = page.locator('[data-testid=attributes] tr[data-attr=cpu_count] td.value');
    await cell.waitFor();
    eq(await cell.textContent(), '2', 'cpu_count as of the earlier transaction');
    expect(await page.getByRole('button', { name: 'Edit' }).count() === 0, 'no editing in the past');
    await shot('time-travel');
    await page.getByRole('link', { name: 'Back to now' }).click();
    await page.locator('[data-testid=attributes] tr[data-attr=cpu_count] td.value').filter({ hasText: '12' }).waitFor();
    // A point before the first transaction: the server's reason, without the console's own query.
    expectedNetworkErrors++;
    await page.goto(`${base}/ci/${vm}?asof=2001-01-01T00:00:00Z`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const said = await alert.textContent();
    expect(/^ArgumentError \(HTTP 400\): AS OF '2001-01-01T00:00:00Z' is before the first transaction \(.*\)$/.test(said), `the error: ${said}`);
  });

  await step('impact: the drawn nodes and colours are POST /v1/impact\'s CIs and states', async () => {
    const esx = await idOf('PhysicalServer', 'fra1-esx01');
    const want = (await api('POST', '/v1/impact', { cis: [esx] })).body;
    await page.goto(`${base}/impact?cis=${esx}`);
    await page.getByTestId('graph').waitFor();
    await page.waitForFunction(() => window.__cmdbGraph && window.__cmdbGraph.nodes().length > 0);
    const drawn = await page.evaluate(() => window.__cmdbGraph.nodes().map((n) => ({
      ci: n.data('ci'), state: n.data('state'), colour: n.style('background-color') })));
    const colours = { seed: 'rgb(37,99,235)', down: 'rgb(220,38,38)', degraded: 'rgb(217,119,6)' };
    const expected = [...want.seeds.map((s) => ({ ci: s.id, state: 'seed' })), ...want.impacted.map((i) => ({ ci: i.id, state: i.state }))]
      .sort((a, b) => a.ci - b.ci);
    eq(drawn.map(({ ci, state }) => ({ ci, state })).sort((a, b) => a.ci - b.ci), expected, 'drawn CIs and states');
    for (const d of drawn) eq(d.colour.replace(/\s/g, ''), colours[d.state], `colour of CI ${d.ci} (${d.state})`);
    expect(want.impacted.some((i) => i.state === 'down') && want.impacted.some((i) => i.state === 'degraded'), 'both states occur');
    const svc = want.impacted.find((i) => i.class === 'BusinessService');
    if (svc) eq(await page.evaluate((id) => window.__cmdbGraph.getElementById(`ci:${id}`).data('service'), svc.id), true, 'service marked');
    await shot('impact');
  });

  await step('time travel applies to the impact explorer, neighbourhood, class list and query console', async () => {
    const esx = await idOf('PhysicalServer', 'fra1-esx01');
    const before = (await api('GET', '/healthz')).body.tx;
    const late = await api('POST', '/v1/cis', { class: 'AppInstance', attributes: { name: 'e2e-late-inst' } });
    expect(late.status < 300, `create the late instance: ${late.status}`);
    const rel = await api('POST', '/v1/relationships', { type: 'RUNS_ON', from: late.body.id, to: esx });
    expect(rel.status < 300, `relate the late instance: ${rel.status} ${JSON.stringify(rel.body)}`);
    const now = (await api('POST', '/v1/impact', { cis: [esx] })).body;
    const past = await api('POST', '/v1/impact', { cis: [esx], as_of: before });
    eq(past.status, 200, 'POST /v1/impact with as_of');
    eq(past.body.tx, before, 'the transaction the past impact shows');
    expect(now.impacted.some((i) => i.id === late.body.id), 'the late instance is impacted now');
    expect(!past.body.impacted.some((i) => i.id === late.body.id), 'the late instance was not impacted before');
    const states = (a) => [...a.seeds.map((x) => ({ ci: x.id, state: 'seed' })), ...a.impacted.map((i) => ({ ci: i.id, state: i.state }))]
      .sort((x, y) => x.ci - y.ci);
    const drawn = async () => (await page.evaluate(() => window.__cmdbGraph.nodes().map((n) => ({ ci: n.data('ci'), state: n.data('state') }))))
      .sort((x, y) => x.ci - y.ci);
    await page.goto(`${base}/impact?cis=${esx}&asof=${before}`);
    await page.getByTestId('past-banner').waitFor();
    await page.getByTestId('impact-tx').filter({ hasText: String(before) }).waitFor();
    await page.waitForFunction(() => window.__cmdbGraph && window.__cmdbGraph.nodes().length > 0);
    eq(await drawn(), states(past.body), 'drawn CIs and states as of the earlier transaction');
    expect(JSON.stringify(states(past.body)) !== JSON.stringify(states(now)), 'the past impact differs from the present');
    await shot('impact-past');
    // Changing an option keeps the time-travel point.
    await page.getByLabel('Depth').fill('2');
    await page.getByLabel('Depth').press('Tab');
    await page.waitForURL(/depth=2/);
    expect(new URL(page.url()).searchParams.get('asof') === String(before), `asof kept in ${page.url()}`);
    await page.getByRole('link', { name: 'Back to now' }).click();
    await page.waitForFunction((id) => window.__cmdbGraph && window.__cmdbGraph.getElementById(`ci:${id}`).length === 1, late.body.id);
    // The neighbourhood, the class list and the query console show the same past.
    await page.goto(`${base}/ci/${esx}/neighbourhood?asof=${before}`);
    await page.waitForFunction(() => window.__cmdbGraph && window.__cmdbGraph.nodes().length > 1);
    expect(await page.evaluate((id) => window.__cmdbGraph.getElementById(`ci:${id}`).length, late.body.id) === 0, 'not a neighbour before');
    await page.goto(`${base}/ci/${esx}/neighbourhood`);
    await page.waitForFunction((id) => window.__cmdbGraph && window.__cmdbGraph.getElementById(`ci:${id}`).length === 1, late.body.id);
    await page.goto(`${base}/browse/AppInstance?f.name=e2e-late&asof=${before}`);
    await page.getByText('Page 1 of 1 · 0 CIs').waitFor();
    await page.goto(`${base}/browse/AppInstance?f.name=e2e-late`);
    await page.getByText('Page 1 of 1 · 1 CIs').waitFor();
    await page.goto(`${base}/query?asof=${before}`);
    await page.getByLabel('Query', { exact: true }).fill("MATCH (v:AppInstance) WHERE v.name = 'e2e-late-inst' RETURN count(v) AS n");
    await page.getByRole('button', { name: /^Run/ }).click();
    await page.getByTestId('results').locator('tbody td').filter({ hasText: /^0$/ }).waitFor();
    expect(new URL(page.url()).searchParams.get('asof') === String(before), 'the query console keeps asof');
  });

  await step('the query console shows an error at its line and column', async () => {
    await page.goto(`${base}/query`);
    const q = 'MATCH (n:Application)\nRETURN n.nme x';
    await page.getByLabel('Query', { exact: true }).fill(q);
    expectedNetworkErrors++;
    await page.getByRole('button', { name: /^Run/ }).click();
    const pos = page.getByTestId('error-position');
    await pos.waitFor();
    eq(await pos.textContent(), 'line 2, column 14', 'the position');
    eq(await page.getByTestId('error-mark').textContent(), 'x', 'the marked character');
    eq(Number(await page.locator('#q-text').getAttribute('data-error-offset')), q.indexOf(' x') + 1, 'the offset');
    await shot('query-error');
    await page.getByLabel('Query', { exact: true }).fill('MATCH (s:BusinessService)-[r:DEPENDS_ON]->(a)\nRETURN s, r, a');
    await page.getByRole('button', { name: /^Run/ }).click();
    await page.getByTestId('results').waitFor();
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByTestId('plan').waitFor();
    await shot('query');
  });

  await step('every other page loads without console errors', async () => {
    await page.goto(`${base}/browse/VirtualMachine?sort=-name`);
    await page.locator('[data-testid=browse] tbody tr').first().waitFor();
    await shot('browse');
    await page.goto(`${base}/schema`);
    await page.getByRole('heading', { name: 'Relationship types' }).waitFor();
    await shot('schema');
    await page.goto(`${base}/ci/${vm}/neighbourhood?hops=2`);
    await page.waitForFunction(() => window.__cmdbGraph && window.__cmdbGraph.nodes().length > 1);
    await shot('neighbourhood');
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'VirtualMachine' }).waitFor();
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('home-dark');
  });

  // Every control on a page has an accessible name (Chromium's own accessibility tree).
  const kControlRoles = new Set(['button', 'textbox', 'searchbox', 'combobox', 'checkbox', 'spinbutton', 'listbox',
                                 'radio', 'slider', 'switch', 'tab', 'menuitem', 'link']);
  const unnamedControls = async () => {
    const cdp = await context.newCDPSession(page);
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    await cdp.detach();
    return nodes.filter((n) => !n.ignored && kControlRoles.has(n.role?.value) && !(n.name?.value ?? '').trim())
      .map((n) => `${n.role.value}#${n.backendDOMNodeId}`);
  };
  await step('keyboard only: reach search, open a hit, move between pages; every control is labelled', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'VirtualMachine' }).waitFor();
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      return e ? `${e.tagName.toLowerCase()}|${e.id}|${e.getAttribute('aria-label') ?? ''}|${e.textContent?.trim().slice(0, 40) ?? ''}` : '';
    });
    const tabTo = async (want, what) => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        if (want.test(await focused())) return;
      }
      throw new Error(`Tab never reached ${what} (last: ${await focused()})`);
    };
    await tabTo(/^input\|search-input\|/, 'the search box');
    await page.keyboard.type('shop-web-fra1-01');
    await page.getByRole('option').filter({ has: page.locator('.hit-name', { hasText: /^shop-web-fra1-01$/ }) }).waitFor();
    while (!/shop-web-fra1-01/.test(await page.locator('[role=option][aria-selected=true] .hit-name').textContent())) {
      await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/ci/${vm}`);
    await page.getByTestId('ci-name').filter({ hasText: 'shop-web-fra1-01' }).waitFor();
    eq(await unnamedControls(), [], 'controls without a name on the CI page');
    await tabTo(/^a\|\|\|Query$/, 'the Query link');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/query`);
    await page.getByLabel('Query', { exact: true }).waitFor();
    eq(await unnamedControls(), [], 'controls without a name on the query page');
    await tabTo(/^a\|\|\|Browse$/, 'the Browse link');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/browse`);
    await tabTo(/^select\|br-class\|/, 'the class picker');
    await page.keyboard.press('ArrowDown');  // the first class: the page follows the choice
    await page.waitForURL(/\/browse\/[A-Za-z]/);
    await page.locator('[data-testid=browse] tbody tr').first().waitFor();
    eq(await unnamedControls(), [], 'controls without a name on the browse page');
    for (const p of [`/impact?cis=${vm}`, '/schema', `/ci/${vm}/neighbourhood`, '/']) {
      await page.goto(base + p);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      eq(await unnamedControls(), [], `controls without a name on ${p}`);
    }
  });

  // 320 px too (the narrowest phones): a long word (the demo's file path in a transaction's
  // message, longer in a deeper checkout) overflowed there first.
  await step('narrow (320x640, 390x844) and 1280x800 screens: no horizontal overflow, navigation reachable', async () => {
    const pages = { home: '/', ci: `/ci/${vm}`, browse: '/browse/VirtualMachine', impact: `/impact?cis=${vm}`,
                    query: '/query', schema: '/schema', neighbourhood: `/ci/${vm}/neighbourhood` };
    for (const [w, h] of [[320, 640], [390, 844], [1280, 800]]) {
      await page.setViewportSize({ width: w, height: h });
      for (const [name, p] of Object.entries(pages)) {
        await page.goto(base + p);
        await page.locator('main h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        const { sw, iw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
        expect(sw <= iw, `${name} at ${w}x${h}: the page is ${sw} px wide in a ${iw} px window`);
        for (const link of ['Browse', 'Impact', 'Query', 'Schema']) {
          expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: link }).isVisible(),
                 `${name} at ${w}x${h}: the ${link} link is visible`);
        }
        expect(await page.getByRole('combobox', { name: 'Search CIs' }).isVisible(), `${name} at ${w}x${h}: search visible`);
        if (w === 390 && ['home', 'ci', 'browse', 'impact'].includes(name)) await shot(`narrow-${name}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step('no console errors on any page', async () => {
    eq(consoleErrors, [], 'console errors');
  });
} finally {
  await browser.close().catch(() => {});
  server.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed; screenshots in ${out}`);
process.exit(failed ? 1 : 0);
