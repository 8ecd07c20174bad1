import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { describe, expect, it } from 'vitest';
import { CrashModel } from './crash-model.js';
import { prng, TINY, tempDir, text } from './helpers.js';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'workload-child.mjs');
const RUNS = Number(process.env.KV_CRASH_RUNS ?? 10);

async function runAndKill(
  dir: string,
  seed: number,
  delayMs: number,
  options: object,
  killAt?: string,
): Promise<string> {
  const log = path.join(tempDir('kv-acks-'), 'acks.log');
  const child: ChildProcess = spawn(process.execPath, [CHILD, dir, String(seed), '4', JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KV_KILL_AT: killAt ?? '', KV_ACK_LOG: log },
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
  });
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise((r) => setTimeout(() => r(true), delayMs)),
  ]);
  if (killAt !== undefined && timedOut) throw new Error(`the child never reached ${killAt} within ${delayMs} ms`);
  child.kill('SIGKILL');
  await exited;
  if (err.trim() !== '') throw new Error(`child wrote to stderr: ${err}`);
  // Operations and acknowledgements were written to the log with writeSync, each before it
  // was counted: unlike a pipe's buffered output, nothing written there dies with the child.
  return fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
}

/** What the store holds about the key a failure names: for the failure message. */
function diagnose(db: KvStore, problem: string): string {
  const key = /acknowledged (\S+?)=/.exec(problem)?.[1] ?? '';
  const s = db.stats();
  const wal = [...db.wal.entries()]
    .filter((e) => text(e.record.key) === key)
    .map((e) => `#${e.index} seq ${e.record.seq}${e.record.tombstone ? ' del' : ''}`);
  return JSON.stringify({
    key,
    levels: s.levels.map((l) => l.runs),
    flushedSeq: s.flushedSeq,
    lastSeq: s.lastSeq,
    recovery: s.recovery,
    wal,
  });
}

/** Table files in `dir` that its manifest does not name (`tables` counts those it does). */
function strayTables(dir: string, tables: number): string[] {
  const files = fs.readdirSync(path.join(dir, 'tables')).sort();
  return files.length === tables && files.every((f) => /^\d{12}\.sst$/.test(f)) ? [] : files;
}

async function killLoop(
  seed: number,
  options: object,
  killAt?: string,
  runs = RUNS,
  onReopen?: (db: KvStore) => void,
): Promise<CrashModel> {
  const random = prng(seed);
  const dir = tempDir();
  const model = new CrashModel();
  for (let run = 0; run < runs; run++) {
    const at = killAt === undefined ? undefined : `${killAt}@${1 + Math.floor(random() * 3)}`;
    const out = await runAndKill(dir, seed * 100 + run, at === undefined ? 30 + random() * 400 : 5000, options, at);
    const inFlight = model.apply(out);
    const db = await KvStore.open(dir, options);
    try {
      const read = (k: string) => text(db.get(k));
      const problem = model.reconcile(read, inFlight);
      expect(problem === null ? null : `${problem}\n${diagnose(db, problem)}`, `seed ${seed}, run ${run}`).toBeNull();
      // Nothing resurrected or invented, and the iterator agrees with get.
      const scanned = new Map([...db.iterator()].map(([k, v]) => [text(k) as string, text(v) as string]));
      expect(scanned, `seed ${seed}, run ${run}`).toEqual(model.state);
      // Outputs of a flush or compaction cut short were removed; nothing else was.
      expect(strayTables(dir, db.stats().tables), `seed ${seed}, run ${run}: stray tables`).toEqual([]);
      onReopen?.(db);
    } finally {
      await db.close();
    }
  }
  return model;
}

describe('engine under SIGKILL, with flushes and compactions running', () => {
  it("sync 'always': acknowledged writes survive with their latest values; batches are whole", async () => {
    const model = await killLoop(101, { ...TINY, sync: 'always' });
    expect(model.acked).toBeGreaterThan(RUNS * 10);
  }, 180_000);

  it("sync 'none': the same holds for a process crash", async () => {
    const model = await killLoop(202, { ...TINY, sync: 'none', memtableBytes: 2048 });
    expect(model.acked).toBeGreaterThan(RUNS * 10);
  }, 180_000);
});

describe('engine killed at exact points of background work', () => {
  for (const event of [
    'flush:table-written',
    'flush:manifest-written',
    'flush:wal-truncated',
    'compaction:table-written',
    'compaction:manifest-written',
    'compaction:inputs-deleted',
  ]) {
    it(`SIGKILL at ${event}: nothing acknowledged is lost, nothing is applied twice`, async () => {
      const model = await killLoop(303 + event.length, { ...TINY, sync: 'always' }, event, 4);
      expect(model.acked).toBeGreaterThan(0);
    }, 120_000);
  }
});

describe('engine killed during a compaction that writes a run of several tables', () => {
  // Tiny output tables: every compaction writes many, and all of them become unreferenced
  // when the kill comes before the one manifest edit that installs the run.
  const split = { ...TINY, sync: 'always', tableBytes: 1024 };
  /** Counts the levels seen holding a run of several tables at reopens. */
  const splitRuns = {
    seen: 0,
    note: (db: KvStore) => (splitRuns.seen += db.stats().levels.filter((l) => l.tables > l.runs).length),
  };
  for (const compactionThread of [true, false]) {
    const where = compactionThread ? 'on the worker thread' : 'on the event loop';
    it(`SIGKILL after the outputs are written, before the manifest (${where}): no data lost, no stray tables`, async () => {
      splitRuns.seen = 0;
      const model = await killLoop(411, { ...split, compactionThread }, 'compaction:table-written', 4, splitRuns.note);
      expect(model.acked).toBeGreaterThan(0);
      expect(splitRuns.seen, 'no run of several tables was ever installed').toBeGreaterThan(0);
    }, 120_000);
  }

  it('SIGKILL at random moments: acknowledged writes survive, no stray tables', async () => {
    splitRuns.seen = 0;
    const model = await killLoop(505, split, undefined, 6, splitRuns.note);
    expect(model.acked).toBeGreaterThan(60);
    expect(splitRuns.seen, 'no run of several tables was ever installed').toBeGreaterThan(0);
  }, 180_000);
});
