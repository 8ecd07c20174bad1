import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, childEnv, freshReplEachTest, kv, lines, script, storeDir, type Tmux } from './helpers.js';

const WRITES = ['put a 1', 'put 0x00ff x', 'del a', 'put b "two words"'];

describe('tail', () => {
  it('--since 0 --limit 3 prints the first 3 changes, binary-safe, and exits', async () => {
    const dir = storeDir();
    await script(dir, WRITES);
    const r = await kv(dir, ['tail', '--since', '0', '--limit', '3']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lines(r)).toEqual(['1\tput\ta\t1', '2\tput\t0x00ff\tx', '3\tdel\ta']);
  });

  it('--since SEQ starts after SEQ; --json prints one object per change', async () => {
    const dir = storeDir();
    await script(dir, WRITES);
    const r = await kv(dir, ['tail', '--since=1', '--limit=3', '--json']);
    expect(lines(r).map((l) => JSON.parse(l))).toEqual([
      { seq: 2, op: 'put', key: { hex: '00ff' }, value: 'x' },
      { seq: 3, op: 'del', key: 'a', value: null },
      { seq: 4, op: 'put', key: 'b', value: 'two words' },
    ]);
  });

  it('in a script, a tail with --limit ends and the script goes on', async () => {
    const r = await script(storeDir(), ['put a 1', 'hll add h x', 'tail --since 0 --limit 2', 'get a']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lines(r)).toEqual([
      'OK',
      '1',
      '1\tput\ta\t1',
      '2\tput\th\t(HyperLogLog sketch, 4101 bytes; use hll count)',
      '1',
    ]);
  });

  it('--limit 0 prints nothing', async () => {
    const dir = storeDir();
    await script(dir, WRITES);
    expect(await kv(dir, ['tail', '--since', '0', '--limit', '0'])).toMatchObject({ code: 0, stdout: '' });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'one-shot: runs until %s, then closes the store and exits 0',
    async (signal) => {
      const dir = storeDir();
      await script(dir, WRITES);
      const child = spawn(process.execPath, [BIN, '--db', dir, 'tail', '--since', '0'], {
        env: childEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          if (stdout.split('\n').length > WRITES.length) resolve();
        });
      });
      // Replayed everything, now waiting for new changes: still running.
      await new Promise((r) => setTimeout(r, 300));
      expect(child.exitCode).toBeNull();
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
      expect(stdout.split('\n')).toHaveLength(WRITES.length + 1);
      // The store was closed: the next process opens it.
      expect(await kv(dir, ['count'])).toMatchObject({ code: 0, stdout: '2\n' });
    },
  );
});

describe('the REPL on a terminal (tmux): tx, sketches, tail', () => {
  let tmux: Tmux;
  let _dir: string;

  freshReplEachTest((t, d) => {
    tmux = t;
    _dir = d;
  });

  function type(line: string): void {
    tmux.send(line);
    tmux.keys(['Enter']);
  }

  it('the prompt counts the writes pending in a transaction', async () => {
    type('tx begin');
    await tmux.waitFor((s) => /^kv \[tx: 0 pending\]>$/m.test(s));
    type('put a 1');
    await tmux.waitFor((s) => /^kv \[tx: 1 pending\]>$/m.test(s));
    type('get a');
    await tmux.waitFor((s) => /^kv \[tx: 1 pending\]> get a\n1$/m.test(s));
    type('tx commit');
    await tmux.waitFor((s) => /^OK: committed 1 write\nkv>$/m.test(s));
  });

  it('Tab completes tx, hll, cms and tail', async () => {
    tmux.send('tx b');
    tmux.keys(['Tab']);
    await tmux.waitFor((s) => /^kv> tx begin$/m.test(s));
    tmux.keys(['C-u']);
    tmux.send('hll c');
    tmux.keys(['Tab']);
    await tmux.waitFor((s) => /^kv> hll count$/m.test(s));
    tmux.keys(['C-u']);
    tmux.send('cms q');
    tmux.keys(['Tab']);
    await tmux.waitFor((s) => /^kv> cms query$/m.test(s));
    tmux.keys(['C-u']);
    tmux.send('tai');
    tmux.keys(['Tab']);
    await tmux.waitFor((s) => /^kv> tail$/m.test(s));
    tmux.keys(['C-u']);
    tmux.send('tail --si');
    tmux.keys(['Tab']);
    await tmux.waitFor((s) => /^kv> tail --since$/m.test(s));
  });

  it('a live tail waits for changes; Ctrl-C stops it and the REPL keeps working', async () => {
    type('put a 1');
    await tmux.waitFor((s) => s.includes('OK'));
    type('tail --since 0');
    await tmux.waitFor((s) => /tailing changes from the start of the WAL; Ctrl-C stops\n1 {2}put {2}a {2}1$/m.test(s));
    // It keeps waiting: no prompt comes back by itself.
    await new Promise((r) => setTimeout(r, 500));
    expect(tmux.screen()).not.toMatch(/^kv>$/m);
    tmux.keys(['C-c']);
    await tmux.waitFor((s) => /^\(1 change\)\nkv>$/m.test(s));
    type('put b 2');
    await tmux.waitFor((s) => /^kv> put b 2\nOK$/m.test(s));
    type('tail');
    await tmux.waitFor((s) => s.includes('tailing changes after seq 2; Ctrl-C stops'));
    tmux.keys(['C-c']);
    await tmux.waitFor((s) => /^\(0 changes\)\nkv>$/m.test(s));
    type('count');
    await tmux.waitFor((s) => /^kv> count\n2$/m.test(s));
    expect(tmux.alive()).toBe(true);
  });

  it('hll and cms print their estimates; get shows a sketch as a summary', async () => {
    type('hll add visitors ada bob ada');
    await tmux.waitFor((s) => /^kv> hll add visitors ada bob ada\n2$/m.test(s));
    type('cms add words hi 3');
    await tmux.waitFor((s) => /^kv> cms add words hi 3\n3$/m.test(s));
    type('get visitors');
    await tmux.waitFor((s) => s.includes('(HyperLogLog sketch, 4101 bytes; use hll count)'));
  });
});
