import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kv, lines, storeDir, tempDir } from './helpers.js';

describe('one-shot commands', () => {
  it('a put in one process is read by a get in the next', async () => {
    const dir = storeDir();
    const put = await kv(dir, ['put', 'greeting', 'hello world']);
    expect(put).toMatchObject({ code: 0, stdout: 'OK\n', stderr: '' });
    const get = await kv(dir, ['get', 'greeting']);
    expect(get).toMatchObject({ code: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('get of a missing key prints (nil) and succeeds', async () => {
    const r = await kv(storeDir(), ['get', 'nothing']);
    expect(r).toMatchObject({ code: 0, stdout: '(nil)\n' });
  });

  it('del removes a key', async () => {
    const dir = storeDir();
    await kv(dir, ['put', 'k', 'v']);
    expect((await kv(dir, ['del', 'k'])).code).toBe(0);
    expect(lines(await kv(dir, ['get', 'k']))).toEqual(['(nil)']);
  });

  it('a failing command exits non-zero with one error line on stderr', async () => {
    const r = await kv(storeDir(), ['get']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: get needs 1 argument: get KEY\n');
  });

  it('options after the command belong to it', async () => {
    const dir = storeDir();
    for (const k of ['a', 'b', 'c']) await kv(dir, ['put', k, k.toUpperCase()]);
    const r = await kv(dir, ['scan', '--reverse', '--limit', '2']);
    expect(lines(r)).toEqual(['c\tC', 'b\tB']);
  });

  it('help and unknown commands do not create the data directory', async () => {
    const dir = storeDir();
    const help = await kv(dir, ['help', 'scan']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('scan [FROM [TO]] [--limit N] [--reverse]');
    expect((await kv(dir, ['frobnicate'])).code).toBe(1);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('--help lists the commands and --version prints the version', async () => {
    const dir = tempDir();
    const help = await kv(dir, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('wal dump [--json]');
    const version = await kv(dir, ['--version']);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
