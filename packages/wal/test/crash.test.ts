import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvRecord } from '@kv/record';
import { Wal } from '@kv/wal';
import { describe, expect, it } from 'vitest';
import { expectKvError, prng, SMALL, tempDir } from './helpers.js';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'append-child.mjs');
const RUNS = Number(process.env.KV_CRASH_RUNS ?? 12);

function startChild(args: string[]): { child: ChildProcess; out: () => string; firstLine: Promise<void> } {
  const log = path.join(tempDir('kv-acks-'), 'acks.log');
  const child = spawn(process.execPath, [CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KV_ACK_LOG: log },
  });
  let ready = '';
  let err = '';
  const firstLine = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      ready += d.toString();
      if (ready.includes('\n')) resolve();
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${err}`)));
  });
  // The acknowledgements are in the log file, written with writeSync before each is counted.
  const out = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  return { child, out, firstLine };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on('exit', () => resolve());
  });
}

async function killLoop(sync: 'always' | 'none', seed: number): Promise<{ acked: number; runs: number }> {
  const random = prng(seed);
  const dir = tempDir();
  const ackedAll = new Map<number, string>();
  for (let run = 0; run < RUNS; run++) {
    const { child, out, firstLine } = startChild([dir, sync, String(run), String(seed * 1000 + run)]);
    await firstLine;
    await new Promise((r) => setTimeout(r, 20 + random() * 250));
    child.kill('SIGKILL');
    await killed(child);
    const lines = out().split('\n');
    if (!out().endsWith('\n')) lines.pop(); // a line cut by the kill was never complete
    for (const line of lines) {
      const [tag, index, key] = line.split(' ');
      if (tag === 'ack') ackedAll.set(Number(index), key as string);
    }

    // Every other reopen has a worker thread verify the sealed segments.
    const wal = await Wal.open(dir, { ...SMALL, verifyThread: run % 2 === 1 ? 'always' : 'never' });
    const context = `seed ${seed}, run ${run}`;
    // Every acknowledged append is there, at its index, with its key.
    for (const [index, key] of ackedAll) expect(wal.get(index).keyString(), context).toBe(key);
    // Nothing invented; batches all-or-nothing; indices contiguous.
    const batches = new Map<string, number>();
    let expected = wal.firstIndex;
    for (const { index, record } of wal.entries()) {
      expect(index, context).toBe(expected++);
      const key = record.keyString();
      expect(key, context).toMatch(/^r\d+-\d+(-b\d+of\d+)?$/);
      const m = /^(r\d+-\d+)-b\d+of(\d+)$/.exec(key);
      if (m) batches.set(m[1] as string, (batches.get(m[1] as string) ?? 0) + 1);
      if (m) batches.set(`${m[1]}#size`, Number(m[2]));
    }
    for (const [id, count] of batches) {
      if (!id.includes('#')) expect(count, `${context}: batch ${id}`).toBe(batches.get(`${id}#size`));
    }
    await wal.close();
  }
  return { acked: ackedAll.size, runs: RUNS };
}

describe('SIGKILL at random moments', () => {
  it("sync 'always': every acknowledged append survives, batches are whole, nothing is invented", async () => {
    const { acked } = await killLoop('always', 11);
    expect(acked).toBeGreaterThan(RUNS * 5);
  }, 120_000);

  it("sync 'none': acknowledged appends survive a process crash (the page cache outlives the process)", async () => {
    const { acked } = await killLoop('none', 23);
    expect(acked).toBeGreaterThan(RUNS * 5);
  }, 120_000);
});

describe('directory lock across processes', () => {
  it('a second process gets KV_LOCKED while the first lives; a stale lock is taken over after SIGKILL', async () => {
    const dir = tempDir();
    const { child, out, firstLine } = startChild([dir, 'always', '0', '1']);
    await firstLine;
    while (!out().includes('ack ')) await new Promise((r) => setTimeout(r, 10));
    const err = await expectKvError(Wal.open(dir, SMALL), 'KV_LOCKED');
    expect(err.message).toContain(String(child.pid));
    child.kill('SIGKILL');
    await killed(child);
    const wal = await Wal.open(dir, SMALL);
    expect(wal.lastIndex).toBeGreaterThan(0);
    await wal.close();
  }, 30_000);
});

describe('tail after SIGKILL', () => {
  it('a tail from the start after a crash yields every acknowledged entry in order, then follows new appends', async () => {
    const dir = tempDir();
    const acked = new Map<number, string>();
    for (let run = 0; run < 3; run++) {
      const { child, out, firstLine } = startChild([dir, 'always', String(run), String(run + 7)]);
      await firstLine;
      await new Promise((r) => setTimeout(r, 60 + run * 50));
      child.kill('SIGKILL');
      await killed(child);
      for (const line of out().split('\n')) {
        const [tag, index, key] = line.split(' ');
        if (tag === 'ack') acked.set(Number(index), key as string);
      }
    }
    const wal = await Wal.open(dir, SMALL);
    const last = wal.lastIndex;
    const seen: number[] = [];
    const tail = wal.tail(wal.firstIndex);
    for (let i = wal.firstIndex; i <= last; i++) {
      const { value } = await tail.next();
      expect(value?.index).toBe(i);
      if (acked.has(i)) expect(value?.record.keyString()).toBe(acked.get(i));
      seen.push(i);
    }
    expect(seen.length).toBeGreaterThanOrEqual(acked.size);
    const next = tail.next();
    await wal.append(KvRecord.fromStrings('after-crash', 'live'));
    expect((await next).value?.record.keyString()).toBe('after-crash');
    await tail.return(undefined);
    await wal.close();
  }, 60_000);
});
