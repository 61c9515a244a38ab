// Small shared pieces: loading and error states, a data hook.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export function useData<T>(load: () => Promise<T>, deps: unknown[]):
    { data: T | null; error: ApiError | Error | null; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>(
    { data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, error: null, loading: true }));
    load().then((data) => live && setState({ data, error: null, loading: false }),
                (error) => live && setState({ data: null, error, loading: false }));
    return () => { live = false; };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p class="loading" role="status" aria-live="polite">{what}…</p>;
}

export function ErrorBox({ error }: { error: Error | null }) {
  if (!error) return null;
  const e = error as ApiError;
  return (
    <div class="error" role="alert">
      <strong>{e.code ?? 'Error'}</strong>{e.status ? ` (HTTP ${e.status})` : ''}: <span class="message">{e.message}</span>
    </div>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return <section class="card" aria-labelledby={id}><h2 id={id}>{title}</h2>{children}</section>;
}

export function download(name: string, type: string, data: BlobPart) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
