import { describe, expect, it } from 'vitest';
import { toCsv } from '../src/csv';
import { diffAttrs, formatTime, setSince, versionAt } from '../src/diff';
import { complete, offsetOf, parsePlan, tokenize } from '../src/gql';

const v = (version: number, tx: number, to: number | null, attributes: Record<string, unknown>, retired = false) =>
  ({ version, tx, valid_to_tx: to, retired, attributes });

describe('history', () => {
  const versions = [v(1, 2, 5, { name: 'a', cpu: 2 }), v(2, 5, 9, { name: 'a', cpu: 4, os: 'x' }), v(3, 9, null, { name: 'b', os: 'x' })];
  it('diffs two versions attribute by attribute', () => {
    expect(diffAttrs(versions[0].attributes, versions[1].attributes)).toEqual([
      { attribute: 'cpu', before: 2, after: 4 }, { attribute: 'os', before: undefined, after: 'x' }]);
    expect(diffAttrs(versions[1].attributes, versions[2].attributes)).toEqual([
      { attribute: 'cpu', before: 4, after: undefined }, { attribute: 'name', before: 'a', after: 'b' }]);
    expect(diffAttrs({ l: ['a', 'b'] }, { l: ['a', 'b'] })).toEqual([]);
  });
  it('finds the version of a transaction and where each value was set', () => {
    expect(versionAt(versions, 1)).toBeNull();
    expect(versionAt(versions, 2)!.version).toBe(1);
    expect(versionAt(versions, 8)!.version).toBe(2);
    expect(versionAt(versions, 100)!.version).toBe(3);
    expect(versionAt([v(1, 2, 3, {}), v(2, 3, null, {}, true)], 4)).toBeNull();
    expect(formatTime('2026-12-01T09:00:00.000000Z')).toBe('2026-12-01 09:00:00 UTC');
    expect(formatTime('later')).toBe('later');
    const since = setSince(versions);
    expect(since.name.tx).toBe(9);
    expect(since.os.tx).toBe(5);
  });
});

describe('csv', () => {
  it('quotes what needs it and defuses formulas', () => {
    expect(toCsv(['id', 'name'], [[1, 'a,b'], [2, 'say "hi"'], [3, '=cmd()'], [4, null], [5, ['x', 'y']]]))
      .toBe('id,name\r\n1,"a,b"\r\n2,"say ""hi"""\r\n3,\'=cmd()\r\n4,\r\n5,x; y\r\n');
  });
});

describe('query language support', () => {
  it('tokenizes for highlighting without losing a character', () => {
    const src = "MATCH (n:VirtualMachine)-[:RUNS_ON]->(m) // c\nWHERE n.name = 'a' AND n.cpu > 2 RETURN $p";
    const tokens = tokenize(src);
    expect(tokens.map((t) => t.text).join('')).toBe(src);
    const kinds = (k: string) => tokens.filter((t) => t.kind === k).map((t) => t.text);
    expect(kinds('keyword')).toEqual(['MATCH', 'WHERE', 'AND', 'RETURN']);
    expect(kinds('label')).toEqual(['VirtualMachine', 'RUNS_ON']);
    expect(kinds('string')).toEqual(["'a'"]);
    expect(kinds('comment')).toEqual(['// c']);
    expect(kinds('param')).toEqual(['$p']);
    expect(tokenize("'unterminated").map((t) => t.text).join('')).toBe("'unterminated");
  });
  it('completes classes in nodes, types in relationships, attributes after a dot', () => {
    const names = { classes: ['VirtualMachine', 'Rack', 'Application'], types: ['RUNS_ON', 'RACKED_IN'], attributes: ['name', 'rack_unit'] };
    expect(complete('MATCH (n:R', 10, names).options).toEqual(['Rack']);
    expect(complete('MATCH (n)-[:R', 13, names).options).toEqual(['RUNS_ON', 'RACKED_IN']);
    expect(complete('RETURN n.ra', 11, names)).toEqual({ from: 9, to: 11, options: ['rack_unit'] });
    expect(complete('mat', 3, names).options).toEqual(['MATCH']);
  });
  it('places an error at its line and column, and reads a plan as a tree', () => {
    const src = 'MATCH (n)\nRETURN n.x y';
    expect(src[offsetOf(src, 2, 12)]).toBe('y');
    expect(offsetOf(src, 9, 1)).toBe(src.length);
    // Columns count characters: '😀' is one column and two UTF-16 units.
    const wide = "RETURN '😀é', x";
    expect(wide[offsetOf(wide, 1, 14)]).toBe('x');
    expect(parsePlan('Match\n  NodeScan(:A)\n  Expand\n    Filter\nProjection\n  Limit\n')).toEqual([
      { label: 'Match', children: [{ label: 'NodeScan(:A)', children: [] }, { label: 'Expand', children: [{ label: 'Filter', children: [] }] }] },
      { label: 'Projection', children: [{ label: 'Limit', children: [] }] }]);
  });
});
