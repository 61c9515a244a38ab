// The query console's language support: a tokenizer for highlighting, completion of keywords,
// classes, attributes and relationship types, and positions of errors. Pure functions.

export const kKeywords = [
  'MATCH', 'OPTIONAL', 'WHERE', 'RETURN', 'WITH', 'ORDER', 'BY', 'ASC', 'DESC', 'SKIP', 'LIMIT',
  'AND', 'OR', 'NOT', 'XOR', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'AS', 'OF', 'DISTINCT', 'CREATE',
  'MERGE', 'SET', 'DELETE', 'DETACH', 'REMOVE', 'UNWIND', 'CALL', 'YIELD', 'CASE', 'WHEN', 'THEN',
  'ELSE', 'END', 'EXPLAIN', 'PROFILE', 'USE', 'BASELINE', 'CONTAINS', 'STARTS', 'ENDS', 'UNION', 'ALL',
  'EXISTS', 'COUNT',
];
const kKeywordSet = new Set(kKeywords);

export type TokenKind = 'keyword' | 'string' | 'number' | 'comment' | 'param' | 'label' | 'ident' | 'punct' | 'space';
export interface Token { kind: TokenKind; text: string; start: number }

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => { out.push({ kind, text: src.slice(i, end), start: i }); i = end; };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { let j = i; while (j < src.length && /\s/.test(src[j])) j++; push('space', j); continue; }
    if (c === '/' && src[i + 1] === '/') { let j = src.indexOf('\n', i); if (j < 0) j = src.length; push('comment', j); continue; }
    if (c === '/' && src[i + 1] === '*') { let j = src.indexOf('*/', i + 2); j = j < 0 ? src.length : j + 2; push('comment', j); continue; }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      push('string', Math.min(j + 1, src.length)); continue;
    }
    if (/[0-9]/.test(c)) { let j = i; while (j < src.length && /[0-9.eE]/.test(src[j])) j++; push('number', j); continue; }
    if (c === '$') { let j = i + 1; while (j < src.length && /\w/.test(src[j])) j++; push('param', j); continue; }
    if (/[A-Za-z_]/.test(c)) {
      let j = i; while (j < src.length && /\w/.test(src[j])) j++;
      const word = src.slice(i, j);
      const prev = out.filter((t) => t.kind !== 'space').pop();
      push(prev && prev.text === ':' ? 'label' : kKeywordSet.has(word.toUpperCase()) ? 'keyword' : 'ident', j);
      continue;
    }
    if (c === '`') { let j = src.indexOf('`', i + 1); j = j < 0 ? src.length : j + 1; push('ident', j); continue; }
    push('punct', i + 1);
  }
  return out;
}

export interface SchemaNames { classes: string[]; types: string[]; attributes: string[] }

export interface Completion { from: number; to: number; options: string[] }

// What may complete the word before `cursor`: after ':' a class or relationship type (a type
// inside [...]), after '.' an attribute, else a keyword, class or attribute; options start with
// the typed prefix (case-insensitive).
export function complete(src: string, cursor: number, names: SchemaNames): Completion {
  let from = cursor;
  while (from > 0 && /\w/.test(src[from - 1])) from--;
  const prefix = src.slice(from, cursor).toLowerCase();
  const before = src[from - 1];
  let pool: string[];
  if (before === ':') {
    const open = src.lastIndexOf('[', from), close = src.lastIndexOf(']', from);
    const paren = src.lastIndexOf('(', from), cp = src.lastIndexOf(')', from);
    pool = open > close && open > paren ? names.types : paren > cp ? names.classes : [...names.classes, ...names.types];
  } else if (before === '.') {
    pool = names.attributes;
  } else {
    pool = [...kKeywords, ...names.classes, ...names.attributes];
  }
  const options = [...new Set(pool)].filter((o) => o.toLowerCase().startsWith(prefix) && o.toLowerCase() !== prefix)
    .sort((a, b) => a.length - b.length || a.localeCompare(b)).slice(0, 12);
  return { from, to: cursor, options };
}

// The offset of a 1-based line and column in `src` (clamped to its end). The server counts columns
// in characters (code points): one outside the Basic Multilingual Plane is two UTF-16 units here.
export function offsetOf(src: string, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = src.indexOf('\n', off);
    if (nl < 0) return src.length;
    off = nl + 1;
  }
  for (let c = 1; c < column && off < src.length; c++) {
    off += (src.codePointAt(off) ?? 0) > 0xffff ? 2 : 1;
  }
  return Math.min(off, src.length);
}

// A plan (EXPLAIN / PROFILE) as a tree, from its indented text.
export interface PlanNode { label: string; children: PlanNode[] }

export function parsePlan(text: string): PlanNode[] {
  const roots: PlanNode[] = [];
  const stack: { indent: number; node: PlanNode }[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    const node: PlanNode = { label: line.trim(), children: [] };
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    if (stack.length) stack[stack.length - 1].node.children.push(node); else roots.push(node);
    stack.push({ indent, node });
  }
  return roots;
}
