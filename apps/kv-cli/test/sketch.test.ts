import { describe, expect, it } from 'vitest';
import { kv, lines, script, storeDir } from './helpers.js';

/** Everything the CLI can see of a store: keys and values, then the WAL. */
const LOOK = ['scan', 'wal dump --json'];

describe('hll', () => {
  it('1000 distinct items, some added twice, count within 5% of 1000', async () => {
    const dir = storeDir();
    const adds: string[] = [];
    for (let line = 0; line < 10; line++) {
      const items = Array.from({ length: 100 }, (_, i) => `user-${line * 100 + i}`);
      adds.push(`hll add visitors ${items.join(' ')}`);
    }
    adds.push('hll add visitors user-1 user-2 user-999'); // repeats do not count
    const r = await script(dir, [...adds, 'hll count visitors']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = lines(r).map(Number);
    expect(out).toHaveLength(12);
    const count = out.at(-1) as number;
    expect(Math.abs(count - 1000)).toBeLessThan(50);
    expect(out.at(-2)).toBe(count); // the last add printed the same estimate
    // It is stored: a later one-shot count agrees.
    expect(lines(await kv(dir, ['hll', 'count', 'visitors']))).toEqual([String(count)]);
  });

  it('small counts are exact enough to read; a missing key counts 0', async () => {
    const r = await script(storeDir(), ['hll add h a b c', 'hll add h c d', 'hll count h', 'hll count nothing']);
    expect(lines(r)).toEqual(['3', '4', '4', '0']);
  });

  it('items are bytes: quoted and hex items are distinct items', async () => {
    const r = await script(storeDir(), ['hll add h "a b" 0x00 0x00ff a', 'hll count h']);
    expect(lines(r)).toEqual(['4', '4']);
  });
});

describe('cms', () => {
  it('add counts one occurrence or COUNT; query estimates, 0 for an item never added', async () => {
    const r = await script(storeDir(), [
      'cms add words hello',
      'cms add words hello 41',
      'cms add words world 7',
      'cms query words hello',
      'cms query words world',
      'cms query words never',
      'cms query missing x',
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lines(r)).toEqual(['1', '42', '7', '42', '7', '0', '0']);
  });

  it('COUNT must be a whole number from 1', async () => {
    const r = await script(storeDir(), ['cms add w x 0', 'cms add w x -1', 'cms add w x 1.5', ...LOOK]);
    expect(r.stderr.split('\n').slice(0, -1)).toEqual([
      'error: line 1: COUNT must be a whole number from 1, got "0": cms add KEY ITEM [COUNT]',
      'error: line 2: COUNT must be a whole number from 1, got "-1": cms add KEY ITEM [COUNT]',
      'error: line 3: COUNT must be a whole number from 1, got "1.5": cms add KEY ITEM [COUNT]',
    ]);
    expect(r.stdout).toBe('');
  });
});

describe('a sketch command on a key of another type', () => {
  const MISMATCHES: [input: string, error: string][] = [
    [
      'hll add plain x',
      'plain holds a plain value, not a HyperLogLog; use another key, or del it first (KV_INVALID_ARGUMENT)',
    ],
    [
      'hll count plain',
      'plain holds a plain value, not a HyperLogLog; use another key, or del it first (KV_INVALID_ARGUMENT)',
    ],
    [
      'cms add h x',
      'h holds a HyperLogLog, not a Count-Min Sketch; use another key, or del it first (KV_INVALID_ARGUMENT)',
    ],
    [
      'cms query h x',
      'h holds a HyperLogLog, not a Count-Min Sketch; use another key, or del it first (KV_INVALID_ARGUMENT)',
    ],
    [
      'hll add c x',
      'c holds a Count-Min Sketch, not a HyperLogLog; use another key, or del it first (KV_INVALID_ARGUMENT)',
    ],
    [
      'cms query plain x',
      'plain holds a plain value, not a Count-Min Sketch; use another key, or del it first (KV_INVALID_ARGUMENT)',
    ],
  ];

  it.each(MISMATCHES)('%s: one error line, store unchanged', async (input, error) => {
    const setup = ['put plain v', 'hll add h x', 'cms add c x'];
    const r = await script(storeDir(), [...setup, ...LOOK, input, ...LOOK]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: line 6: ${error}\n`);
    const out = lines(r).slice(3);
    expect(out.slice(0, out.length / 2)).toEqual(out.slice(out.length / 2));
  });

  it('a deleted sketch is gone: the key can take another type', async () => {
    const r = await script(storeDir(), ['hll add k x', 'del k', 'hll count k', 'cms add k x', 'put k plain', 'get k']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lines(r)).toEqual(['1', 'OK', '0', '1', 'OK', 'plain']);
  });
});

describe('sketches in get, scan and wal dump', () => {
  it('are shown as a summary, not their serialized bytes', async () => {
    const r = await script(storeDir(), ['hll add h x', 'cms add c x', 'put p v', 'get h', 'get c', 'scan', 'wal dump']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = lines(r).slice(3);
    const hll = '(HyperLogLog sketch, 4101 bytes; use hll count)';
    const cms = expect.stringMatching(/^\(Count-Min sketch, \d+ bytes; use cms query\)$/);
    expect(out.slice(0, 2)).toEqual([hll, cms]);
    expect(out.slice(2, 5)).toEqual(['c\t' + out[1], `h\t${hll}`, 'p\tv']);
    expect(out.slice(5)).toEqual([`1\t1\tput\th\t${hll}`, `2\t2\tput\tc\t${out[1]}`, '3\t3\tput\tp\tv']);
  });

  it('a plain value with a sketch-like shape is shown as itself', async () => {
    // "HLL1", precision 4, 16 registers: the serialized shape of an HLL, stored by put.
    const lookalike = `0x484c4c3104${'00'.repeat(16)}`;
    const r = await script(storeDir(), [
      `put fake ${lookalike}`,
      'put text "(HyperLogLog sketch, 4101 bytes; use hll count)"',
      'get fake',
      'get text',
      'hll count fake',
    ]);
    expect(lines(r)).toEqual(['OK', 'OK', lookalike, '"(HyperLogLog sketch, 4101 bytes; use hll count)"']);
    expect(r.stderr).toBe(
      'error: line 5: fake holds a plain value, not a HyperLogLog; use another key, or del it first (KV_INVALID_ARGUMENT)\n',
    );
  });
});
