import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, script, storeDir, tempDir } from './helpers.js';

function csv(rows: readonly string[]): string {
  const file = path.join(tempDir(), 'workload.csv');
  fs.writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

const WORKLOAD = [
  'user,op,key,value',
  'u1,P,k1,v1',
  'u2,P,k2,v2',
  'u1,G,k1,',
  'u1,G,nope',
  'u2,D,k1',
  'u1,G,k1',
  'u3,P,"k,3","say ""hi"""',
];

describe('load', () => {
  it('runs a workload and ends with counts per operation, hits, misses and ops/s', async () => {
    const r = await script(storeDir(), [`load ${csv(WORKLOAD)}`]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const summary = Object.fromEntries(lines(r).map((l) => l.split('\t')));
    expect(summary).toMatchObject({
      rows: '7',
      users: '3',
      puts: '3',
      gets: '3',
      hits: '1',
      misses: '2',
      deletes: '1',
    });
    expect(Number(summary.seconds)).toBeGreaterThanOrEqual(0);
    expect(Number(summary.ops_per_sec)).toBeGreaterThan(0);
  });

  it('applies puts and deletes in file order, quoted fields included', async () => {
    const r = await script(storeDir(), [`load ${csv(WORKLOAD)}`, 'scan']);
    expect(lines(r).slice(-2)).toEqual(['k,3\tsay "hi"', 'k2\tv2']);
  });

  it('a bad row is reported with its line number and nothing is written', async () => {
    const file = csv(['u1,P,a,1', 'u1,X,b,2', 'u1,P,c,3']);
    const r = await script(storeDir(), [`load ${file}`, 'count']);
    expect(r.stderr).toBe(
      `error: line 1: ${file}:2: the operation must be P, G or D, got "X"; rows are user,op,key,value\n`,
    );
    expect(lines(r)).toEqual(['0']);
  });

  it('a missing file is one clear error', async () => {
    const r = await script(storeDir(), ['load /nonexistent/w.csv']);
    expect(r.stderr).toBe('error: line 1: cannot read /nonexistent/w.csv: no such file\n');
  });
});
