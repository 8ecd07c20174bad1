import { describe, expect, it } from 'vitest';
import { kv, lines, script, storeDir } from './helpers.js';

describe('piped scripts', () => {
  it('runs every line in order and exits 0 at the end of input', async () => {
    const r = await script(storeDir(), ['put a 1', 'put b 2', 'get a', 'get b', 'count']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lines(r)).toEqual(['OK', 'OK', '1', '2', '2']);
  });

  it('goes on after a failing line and exits non-zero, naming the line', async () => {
    const r = await script(storeDir(), ['put a 1', 'get', 'put b 2', 'get b']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: line 2: get needs 1 argument: get KEY\n');
    expect(lines(r)).toEqual(['OK', 'OK', '2']);
  });

  it('blank lines and # comments are skipped', async () => {
    const r = await script(storeDir(), ['# setup', '', '   ', 'put a 1', '  # done']);
    expect(r).toMatchObject({ code: 0, stdout: 'OK\n', stderr: '' });
  });

  it('empty input opens and closes the store and exits 0', async () => {
    const r = await kv(storeDir(), [], '');
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('exit stops the script; later lines do not run', async () => {
    const dir = storeDir();
    const r = await script(dir, ['put a 1', 'exit', 'put b 2']);
    expect(r.code).toBe(0);
    expect(lines(await kv(dir, ['get', 'b']))).toEqual(['(nil)']);
  });

  it('CRLF line endings are accepted', async () => {
    const r = await kv(storeDir(), [], 'put a 1\r\nget a\r\n');
    expect(lines(r)).toEqual(['OK', '1']);
  });
});
