import { describe, expect, it } from 'vitest';
import { kv, lines, type Result, script, storeDir } from './helpers.js';

/** Everything the CLI can see of a store: keys and values, then the WAL. */
const LOOK = ['scan', 'wal dump --json'];

function walEntries(r: Result): { index: number; op: string; key: string }[] {
  return lines(r)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

describe('tx', () => {
  it('get sees the own writes at once; tx commit makes them visible afterwards', async () => {
    const dir = storeDir();
    const r = await script(dir, [
      'put x old',
      'tx begin',
      'put a 1',
      'get a',
      'put x new',
      'get x',
      'wal dump --json',
      'tx commit',
      'get a',
      'get x',
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = lines(r);
    expect(out[1]).toBe('OK: transaction open; put and del are buffered until tx commit, get sees them');
    expect(out.slice(2, 6)).toEqual([
      'buffered (1 pending; tx commit applies them)',
      '1',
      'buffered (2 pending; tx commit applies them)',
      'new',
    ]);
    // Before the commit the WAL holds only the put before the transaction.
    expect(out.slice(6, 7).map((l) => JSON.parse(l).key)).toEqual(['x']);
    expect(out.slice(7)).toEqual(['OK: committed 2 writes', '1', 'new']);
    // A later process sees them too.
    expect(lines(await script(dir, ['get a', 'get x']))).toEqual(['1', 'new']);
  });

  it('the commit is one atomic write: consecutive WAL entries', async () => {
    const r = await script(storeDir(), [
      'put z 0',
      'tx begin',
      'put b 2',
      'del z',
      'put a 1',
      'tx commit',
      'wal dump --json',
    ]);
    expect(r.code).toBe(0);
    const entries = walEntries(r).map((e) => [e.index, e.op, e.key]);
    expect(entries).toEqual([
      [1, 'put', 'z'],
      [2, 'put', 'a'],
      [3, 'put', 'b'],
      [4, 'del', 'z'],
    ]);
  });

  it('get, scan and count see deletes and overwrites inside the transaction', async () => {
    const r = await script(storeDir(), [
      'put a 1',
      'put b 2',
      'put d 4',
      'tx begin',
      'del b',
      'put c 3',
      'put d 40',
      'put e 5',
      'del e',
      'get b',
      'scan',
      'scan --reverse --limit 2',
      'scan b d',
      'count',
      'tx abort',
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = lines(r).slice(9);
    expect(out).toEqual(['(nil)', 'a\t1', 'c\t3', 'd\t40', 'd\t40', 'c\t3', 'c\t3', '3', 'OK: rolled back 4 writes']);
  });

  it('tx abort leaves nothing: the store and its WAL are unchanged', async () => {
    const dir = storeDir();
    const before = await script(dir, ['put a 1', ...LOOK]);
    const r = await script(dir, ['tx begin', 'put a 2', 'put b 3', 'del a', 'tx abort', ...LOOK]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lines(r).slice(5)).toEqual(lines(before).slice(1));
  });

  it('batch and tx do not mix: each is refused inside the other, and nothing changes', async () => {
    const dir = storeDir();
    const r = await script(dir, [
      'batch begin',
      'put a 1',
      'tx begin',
      'batch abort',
      'tx begin',
      'put b 2',
      'batch begin',
      'tx abort',
      ...LOOK,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: line 3: a batch is open (1 write pending) and batch and tx do not mix; batch commit or batch abort first\n' +
        'error: line 7: a transaction is open (1 write pending) and batch and tx do not mix; tx commit or tx abort first\n',
    );
    expect(lines(r).slice(-1)).toEqual(['OK: rolled back 1 write']);
  });

  it('commands that would write around the transaction are refused', async () => {
    const r = await script(storeDir(), [
      'tx begin',
      'hll add h x',
      'cms add c x',
      'load /nonexistent.csv',
      'tx abort',
      ...LOOK,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: line 2: hll add would write outside the open transaction; tx commit or tx abort first\n' +
        'error: line 3: cms add would write outside the open transaction; tx commit or tx abort first\n' +
        'error: line 4: load cannot run inside a transaction; tx commit or tx abort first\n',
    );
    expect(lines(r)).toEqual([
      'OK: transaction open; put and del are buffered until tx commit, get sees them',
      'OK: rolled back 0 writes',
    ]);
  });

  it('tx begin twice, and commit or abort without one, are errors', async () => {
    const r = await script(storeDir(), ['tx commit', 'tx abort', 'tx begin', 'put a 1', 'tx begin', 'tx commit']);
    expect(r.stderr).toBe(
      'error: line 1: no transaction is open; start one with: tx begin\n' +
        'error: line 2: no transaction is open; start one with: tx begin\n' +
        'error: line 5: a transaction is already open (1 write pending); tx commit or tx abort first\n',
    );
    expect(lines(r).at(-1)).toBe('OK: committed 1 write');
  });

  it('input that ends inside a transaction applies nothing and fails', async () => {
    const dir = storeDir();
    const r = await script(dir, ['tx begin', 'put a 1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: the input ended inside a transaction; its 1 pending writes were not applied (end it with tx commit)\n',
    );
    expect(lines(await script(dir, ['get a', 'wal dump --json']))).toEqual(['(nil)']);
  });

  it('a bad write is refused when typed, and the transaction stays usable', async () => {
    const r = await script(storeDir(), ['tx begin', 'put "" v', 'put a 1', 'tx commit', 'get a']);
    expect(r.stderr).toBe('error: line 2: the key is empty; keys need at least one byte\n');
    expect(lines(r).slice(-2)).toEqual(['OK: committed 1 write', '1']);
  });

  it('one-shot tx begin is refused: a transaction spans several commands', async () => {
    const r = await kv(storeDir(), ['tx', 'begin']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toContain('a transaction spans several commands');
  });
});
