import { beforeAll, describe, expect, it } from 'vitest';
import { lines, script, storeDir } from './helpers.js';

describe('scan and count', () => {
  let dir: string;
  beforeAll(async () => {
    dir = storeDir();
    await script(dir, ['put a 1', 'put b 2', 'put c 3', 'put d 4', 'put e 5', 'del c']);
  });

  const run = async (cmd: string) => lines(await script(dir, [cmd]));

  it('without bounds lists every live key in order, one KEY<tab>VALUE line each', async () => {
    expect(await run('scan')).toEqual(['a\t1', 'b\t2', 'd\t4', 'e\t5']);
  });

  it('FROM is inclusive and TO exclusive', async () => {
    expect(await run('scan b e')).toEqual(['b\t2', 'd\t4']);
  });

  it('FROM alone scans to the end', async () => {
    expect(await run('scan d')).toEqual(['d\t4', 'e\t5']);
  });

  it('--limit stops after N entries', async () => {
    expect(await run('scan --limit 2')).toEqual(['a\t1', 'b\t2']);
  });

  it('--reverse walks the range backwards', async () => {
    expect(await run('scan a e --reverse')).toEqual(['d\t4', 'b\t2', 'a\t1']);
  });

  it('--limit=N is accepted too, combined with --reverse', async () => {
    expect(await run('scan --reverse --limit=1')).toEqual(['e\t5']);
  });

  it('count counts live keys, in a range too', async () => {
    expect(lines(await script(dir, ['count', 'count b e']))).toEqual(['4', '2']);
  });
});
