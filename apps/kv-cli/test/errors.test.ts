import { afterEach, describe, expect, it } from 'vitest';
import { holder, kv, lines, type Result, script, storeDir } from './helpers.js';

const BAD_LINES: [input: string, error: string][] = [
  ['put onlykey', 'put needs 2 arguments: put KEY VALUE'],
  ['put a b c', 'put needs 2 arguments: put KEY VALUE'],
  ['del', 'del needs 1 argument: del KEY'],
  ['flush now', 'flush takes no arguments: flush'],
  ['pur a 1', 'unknown command "pur"; did you mean "put"? type help for the list'],
  ['put "a 1', 'a double quote is not closed; end the text with "'],
  ['put k 0xZZ', '0xZZ is not a hex literal (only 0-9 and a-f); quote it ("0xZZ") to mean the text'],
  ['put "" v', 'the key is empty; keys need at least one byte'],
  ['scan --lmit 3', 'scan has no option --lmit: scan [FROM [TO]] [--limit N] [--reverse]'],
  ['wal', 'wal needs a subcommand: wal segments | wal dump [--json] | wal verify'],
  ['batch commit', 'no batch is open; start one with: batch begin'],
];

/** Shows everything the CLI can see of a store: its keys and values, and its WAL. */
const LOOK = ['scan', 'wal dump --json'];

describe('bad input', () => {
  it.each(BAD_LINES)('%s: one error line, store unchanged', async (input, error) => {
    const r = await script(storeDir(), ['put a 1', 'put b 2', ...LOOK, input, ...LOOK]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: line 5: ${error}\n`);
    const out = lines(r).slice(2);
    expect(out.slice(0, out.length / 2)).toEqual(out.slice(out.length / 2));
    expect(out).toHaveLength(2 * (2 + 2));
  });

  it('the session keeps going after each error', async () => {
    const r = await script(storeDir(), ['get', 'bogus', 'put a', 'put a 1', 'get a']);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(3);
    expect(lines(r)).toEqual(['OK', '1']);
  });
});

describe('a store open in another process', () => {
  let held: ReturnType<typeof holder> | undefined;
  afterEach(async () => {
    await held?.end();
    held = undefined;
  });

  it('is reported as KV_LOCKED with the holder pid, and the command fails', async () => {
    const dir = storeDir();
    held = holder(dir);
    await held.ready;
    const r: Result = await kv(dir, ['get', 'held']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${dir} is in use by process ${held.child.pid} (KV_LOCKED); close it there first\n`);
  });

  it('is usable again once that process exits', async () => {
    const dir = storeDir();
    held = holder(dir);
    await held.ready;
    await held.end();
    const r = await kv(dir, ['get', 'held']);
    expect(r).toMatchObject({ code: 0, stdout: 'yes\n' });
  });
});
