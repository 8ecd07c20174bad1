import { describe, expect, it } from 'vitest';
import { kv, lines, script, storeDir } from './helpers.js';

describe('quoting through the binary', () => {
  it('keys and values with spaces, in double or single quotes', async () => {
    const r = await script(storeDir(), [`put "my key" 'my value'`, `get 'my key'`]);
    expect(lines(r)).toEqual(['OK', 'my value']);
  });

  it('quotes inside quotes and backslash escapes', async () => {
    const r = await script(storeDir(), [`put k "say \\"hi\\" it's"`, 'get k', `put k2 'it\\'s'`, 'get k2']);
    expect(lines(r)).toEqual(['OK', `say "hi" it's`, 'OK', "it's"]);
  });

  it('a one-shot argument is one key even with spaces in it', async () => {
    const dir = storeDir();
    await kv(dir, ['put', 'a b', 'c d']);
    expect(lines(await script(dir, ['get "a b"']))).toEqual(['c d']);
  });
});

describe('binary keys and values', () => {
  it('a value put as hex that is not UTF-8 is shown as hex', async () => {
    const r = await script(storeDir(), ['put k 0x00ff10', 'get k']);
    expect(lines(r)).toEqual(['OK', '0x00ff10']);
  });

  it("x'..' and \\xHH give the same bytes as 0x..", async () => {
    const r = await script(storeDir(), ["put a x'fe ed'", 'put b "\\xfe\\xed"', 'get a', 'get b']);
    expect(lines(r).slice(2)).toEqual(['0xfeed', '0xfeed']);
  });

  it('hex that is printable UTF-8 is shown as text', async () => {
    const r = await script(storeDir(), ['put k 0x6869', 'get k']);
    expect(lines(r)).toEqual(['OK', 'hi']);
  });

  it('text with control characters is shown as hex', async () => {
    const r = await script(storeDir(), ['put k "a\\nb"', 'get k']);
    expect(lines(r)).toEqual(['OK', '0x610a62']);
  });

  it('text that would read back as something else is shown quoted', async () => {
    const r = await script(storeDir(), ['put a "0x41"', 'put b ""', 'put c "(nil)"', 'get a', 'get b', 'get c']);
    expect(lines(r).slice(3)).toEqual(['"0x41"', '""', '"(nil)"']);
  });

  it('binary keys work in one-shot mode too', async () => {
    const dir = storeDir();
    expect((await kv(dir, ['put', '0x00ff', '0x01'])).code).toBe(0);
    expect(lines(await kv(dir, ['scan']))).toEqual(['0x00ff\t0x01']);
  });
});
