import { describe, expect, it } from 'vitest';
import { lines, script, storeDir } from './helpers.js';

/** Piped `stats` lines as a name -> value map. */
function statMap(out: string[]): Record<string, string> {
  return Object.fromEntries(out.filter((l) => l.includes('\t')).map((l) => l.split('\t')));
}

describe('flush, compact and stats', () => {
  it('piped stats are NAME<tab>VALUE lines', async () => {
    const r = await script(storeDir(), ['put a 1', 'put b 2', 'stats']);
    const st = statMap(lines(r).slice(2));
    expect(st).toMatchObject({ lastSeq: '2', 'memtable.entries': '2', tables: '0', 'wal.lastIndex': '2' });
    expect(st['level.0.runs']).toBe('0');
  });

  it('stats --json prints the engine stats object', async () => {
    const r = await script(storeDir(), ['put a 1', 'stats --json']);
    const st = JSON.parse(lines(r)[1] as string);
    expect(st).toMatchObject({ lastSeq: 1, memtable: { entries: 1 }, wal: { segments: 1 } });
  });

  it('flush moves the memtable into a table; the data stays readable', async () => {
    const r = await script(storeDir(), ['put a 1', 'flush', 'stats', 'get a']);
    const out = lines(r);
    expect(out[1]).toMatch(/^OK: flushed 1 entry; now 1 table holding 1 entry, \d+ B$/);
    expect(statMap(out)).toMatchObject({
      tables: '1',
      'memtable.entries': '0',
      'level.0.runs': '1',
      'level.0.tables': '1',
    });
    expect(out.at(-1)).toBe('1');
  });

  it('compact merges every table into one and drops deleted keys', async () => {
    const r = await script(storeDir(), ['put a 1', 'flush', 'put b 2', 'flush', 'del a', 'compact', 'stats', 'scan']);
    const out = lines(r);
    expect(out.find((l) => l.startsWith('OK: compacted'))).toMatch(
      /; now 1 table holding 1 entry, \d+ B \(was 2 tables\)$/,
    );
    expect(statMap(out).tables).toBe('1');
    expect(out.at(-1)).toBe('b\t2');
  });
});
