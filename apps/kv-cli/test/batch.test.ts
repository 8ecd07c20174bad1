import { describe, expect, it } from 'vitest';
import { lines, script, storeDir } from './helpers.js';

describe('batch', () => {
  it('queued writes are invisible until commit, then all visible', async () => {
    const r = await script(storeDir(), [
      'put x old',
      'batch begin',
      'put a 1',
      'del x',
      'get a',
      'get x',
      'batch commit',
      'get a',
      'get x',
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = lines(r);
    expect(out.slice(4, 6)).toEqual(['(nil)', 'old']);
    expect(out[6]).toBe('OK: committed 2 writes');
    expect(out.slice(7)).toEqual(['1', '(nil)']);
  });

  it('commit writes the batch as consecutive WAL entries', async () => {
    const r = await script(storeDir(), ['batch begin', 'put a 1', 'put b 2', 'batch commit', 'wal dump --json']);
    const entries = lines(r)
      .slice(4)
      .map((l) => JSON.parse(l) as { index: number; key: string });
    expect(entries.map((e) => [e.index, e.key])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('abort drops the queued writes: nothing reaches the store or the WAL', async () => {
    const dir = storeDir();
    await script(dir, ['batch begin', 'put a 1', 'del b', 'batch abort']);
    const r = await script(dir, ['get a', 'wal dump --json', 'count']);
    expect(lines(r)).toEqual(['(nil)', '0']);
  });

  it('a batch cannot begin twice', async () => {
    const r = await script(storeDir(), ['batch begin', 'put a 1', 'batch begin', 'batch abort']);
    expect(r.stderr).toBe(
      'error: line 3: a batch is already open (1 write pending); batch commit or batch abort first\n',
    );
  });

  it('input that ends inside a batch applies nothing and fails', async () => {
    const dir = storeDir();
    const r = await script(dir, ['batch begin', 'put a 1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the input ended inside a batch');
    expect(lines(await script(dir, ['get a']))).toEqual(['(nil)']);
  });
});
