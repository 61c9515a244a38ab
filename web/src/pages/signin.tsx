// Sign-in with an API token: checked with GET /v1/whoami, kept in session storage only.
import { useState } from 'preact/hooks';
import { request, setToken } from '../api';
import { navigate } from '../nav';

export function SignInPage({ next }: { next: string | null }) {
  const [token, setTok] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await request('GET', '/v1/whoami', undefined, { token: token.trim() });
      setToken(token.trim());
      const to = next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin') ? next : '/';
      navigate(to, true);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <form class="card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to cmdb</h1>
        <p class="muted">Paste an API token (the admin token is in <code>data/admin-token</code>). It is kept in this
          browser tab only.</p>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" value={token} required
               onInput={(e) => setTok((e.target as HTMLInputElement).value)} aria-invalid={!!error}
               aria-describedby={error ? 'token-error' : undefined} />
        {error && <p id="token-error" class="field-error" role="alert">{error}</p>}
        <button type="submit" disabled={busy || token.trim() === ''}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
