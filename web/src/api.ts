// The console's HTTP client: the API token from session storage (never in the URL), JSON in and
// out, errors as ApiError with the server's code, message and position.

const kTokenKey = 'cmdb.token';

export const getToken = () => sessionStorage.getItem(kTokenKey);
export const setToken = (t: string) => sessionStorage.setItem(kTokenKey, t);
export const clearToken = () => sessionStorage.removeItem(kTokenKey);

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string,
              public details: Record<string, unknown> = {}, public line?: number, public column?: number) {
    super(message);
  }
}

let onUnauthenticated: () => void = () => {};
export const setUnauthenticatedHandler = (f: () => void) => { onUnauthenticated = f; };

export interface ApiResult<T> { data: T; etag: string | null; status: number }

export async function request<T = any>(method: string, path: string, body?: unknown,
                                       opts: { headers?: Record<string, string>; token?: string; text?: boolean } = {}):
    Promise<ApiResult<T>> {
  const token = opts.token ?? getToken();
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'Unavailable', `cannot reach the server: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let err: any = null;
    try { err = JSON.parse(text).error; } catch { /* not JSON */ }
    if (res.status === 401 && !opts.token) { clearToken(); onUnauthenticated(); }
    throw new ApiError(res.status, err?.code ?? 'Error', err?.message ?? `HTTP ${res.status}`, err?.details ?? {},
                       err?.line, err?.column);
  }
  return { data: (opts.text ? text : text === '' ? null : JSON.parse(text)) as T, etag: res.headers.get('ETag'),
           status: res.status };
}

export const get = <T = any>(path: string) => request<T>('GET', path).then((r) => r.data);
export const post = <T = any>(path: string, body: unknown) => request<T>('POST', path, body).then((r) => r.data);

// A read query, AS OF `asOf` when given (a transaction id or a time).
export async function query(text: string, parameters: Record<string, unknown> = {}, asOf: string | null = null) {
  const p = { ...parameters };
  let q = text;
  if (asOf) {
    p.__asof = /^[0-9]+$/.test(asOf) ? Number(asOf) : asOf;
    q = `AS OF $__asof ${text}`;
  }
  try {
    return await post<{ columns: string[]; rows: any[][]; stats: any; plan?: string }>('/v1/query', { query: q, parameters: p });
  } catch (e) {
    // The console wrote this query, not the user: its text and position mean nothing to them.
    if (e instanceof ApiError) e.message = e.message.split('\n')[0].replace(/^line \d+, column \d+: /, '');
    throw e;
  }
}

// The schema, fetched once per session.
export interface AttrDef { name: string; type: string; not_null: boolean; unique: boolean; values?: string[];
                           default?: unknown; declared_in: string }
export interface ClassDef { name: string; parent?: string; abstract: boolean; key?: string[]; attributes: AttrDef[];
                            service?: boolean; [k: string]: unknown }
export interface RelTypeDef { name: string; pairs: { from: string; to: string }[]; cardinality: string; impact: string;
                              attributes: AttrDef[]; quorum: unknown }
export interface Schema { classes: ClassDef[]; relationship_types: RelTypeDef[]; version: number; mode: string; ddl: string }

let schemaPromise: Promise<Schema> | null = null;
export function schema(): Promise<Schema> {
  if (!schemaPromise) schemaPromise = get<Schema>('/v1/schema').catch((e) => { schemaPromise = null; throw e; });
  return schemaPromise;
}
export const forgetSchema = () => { schemaPromise = null; };
