import { afterEach, describe, expect, it } from 'vitest';
import { freshReplEachTest, kv, PROMPT, storeDir, Tmux } from './helpers.js';

describe('the REPL on a terminal (tmux)', () => {
  let tmux: Tmux;
  let dir: string;

  freshReplEachTest((t, d) => {
    tmux = t;
    dir = d;
  });

  it('Tab completes a command name', async () => {
    tmux.send('sc');
    tmux.keys(['Tab']);
    await tmux.waitFor((s) => /^kv> scan$/m.test(s));
  });

  it('Tab completes a subcommand after wal', async () => {
    tmux.send('wal d');
    tmux.keys(['Tab']);
    await tmux.waitFor((s) => /^kv> wal dump$/m.test(s));
  });

  it('Up recalls a line from the previous session', async () => {
    tmux.send('put remembered 42');
    tmux.keys(['Enter']);
    await tmux.waitFor((s) => s.includes('OK'));
    tmux.send('exit');
    tmux.keys(['Enter']);
    await tmux.waitForExit();
    tmux.start(dir);
    await tmux.waitFor((s) => PROMPT.test(s));
    tmux.keys(['Up']);
    await tmux.waitFor((s) => /^kv> exit$/m.test(s));
    tmux.keys(['Up']);
    await tmux.waitFor((s) => /^kv> put remembered 42$/m.test(s));
  });

  it('Ctrl-C drops the typed line; the REPL and the store stay open', async () => {
    tmux.send('put cancelled 1');
    tmux.keys(['C-c']);
    await tmux.waitFor((s) => /^kv> put cancelled 1\n(.*\n)*kv>$/m.test(s));
    tmux.send('get cancelled');
    tmux.keys(['Enter']);
    await tmux.waitFor((s) => /^kv> get cancelled\n\(nil\)$/m.test(s));
  });

  it('Ctrl-C twice on an empty line exits and releases the store', async () => {
    tmux.keys(['C-c']);
    await tmux.waitFor((s) => s.includes('press Ctrl-C again'));
    tmux.keys(['C-c']);
    await tmux.waitForExit();
    expect((await kv(dir, ['count'])).code).toBe(0);
  });

  it('Ctrl-D exits and releases the store', async () => {
    tmux.keys(['C-d']);
    await tmux.waitForExit();
    expect((await kv(dir, ['count'])).code).toBe(0);
  });

  it('the prompt counts the writes pending in a batch', async () => {
    tmux.send('batch begin');
    tmux.keys(['Enter']);
    await tmux.waitFor((s) => /^kv \[batch: 0 pending\]>$/m.test(s));
    tmux.send('put a 1');
    tmux.keys(['Enter']);
    await tmux.waitFor((s) => /^kv \[batch: 1 pending\]>$/m.test(s));
  });

  it('scan prints a table on a terminal', async () => {
    tmux.send('put "my key" "my value"');
    tmux.keys(['Enter']);
    await tmux.waitFor((s) => s.includes('OK'));
    tmux.send('scan');
    tmux.keys(['Enter']);
    const screen = await tmux.waitFor((s) => s.includes('(1 entry)'));
    expect(screen).toMatch(/│ key +│ value +│/);
    expect(screen).toMatch(/│ my key +│ my value +│/);
  });

  it('is coloured on a terminal', () => {
    expect(tmux.screen('repl', true)).toContain('\x1b[');
  });
});

describe('the REPL on a terminal with NO_COLOR set', () => {
  const tmux = new Tmux();
  afterEach(() => tmux.kill());

  it('prints no colour codes', async () => {
    tmux.start(storeDir(), { NO_COLOR: '1' });
    await tmux.waitFor((s) => PROMPT.test(s));
    tmux.send('get 0x00ff');
    tmux.keys(['Enter']);
    await tmux.waitFor((s) => s.includes('(nil)'));
    expect(tmux.screen('repl', true)).not.toContain('\x1b[');
  });
});
