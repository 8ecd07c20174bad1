/**
 * Scenario 4, the corruption sweep: build a store with a workload (tables on several levels,
 * a MANIFEST, a WAL of several segments), then for many (file, damage) cases — bit flips,
 * truncations and zeroed sectors in every WAL segment, every table and the MANIFEST — open a
 * damaged copy and read everything, in child processes (a SIGBUS, an abort or a runaway
 * allocation fails the case instead of killing the runner), each case under a timeout.
 * See corruption-check.mjs for what each case must give.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { completeLines, emptyStats, note, readLog, ScenarioFailure, sleep, startChild, tempDir } from './common.mjs';
import { Model } from './model.mjs';
import { Rng } from './rng.mjs';
import { applyOp, DEFAULT_PROFILE, OpSource, opKeys } from './workload.mjs';

/** @typedef {import('./corruption-check.mjs').DamageCase} DamageCase */
/** @typedef {import('./corruption-check.mjs').Verdict} Verdict */

const WAL_HEADER = 64;
const FRAME_HEADER = 24;
const FOOTER = 72;

/**
 * Builds the store the sweep damages: phase 1 with a small memtable (flushes, compactions,
 * tables on several levels), phase 2 with a large one, so the last writes stay in a WAL of at
 * least three segments. Every write is awaited alone: each is one WAL frame and one sync.
 * @param {Rng} rng @param {string} dir
 */
async function buildStore(rng, dir) {
  const model = new Model();
  const base = {
    sync: /** @type {const} */ ('always'),
    memtableBytes: 8192,
    walSegmentBytes: 64 * 1024,
    runsPerLevel: 3,
    maxLevels: 3,
    blockBytes: rng.pick([256, 512, 1024]),
  };
  const source = new OpSource(rng.fork('ops'), 0, 'c', {
    ...DEFAULT_PROFILE,
    keysPerWorker: 150,
    bigValueChance: 0.01,
    maxBigValue: 20_000,
    maxSmallValue: 200,
  });
  /** @type {[string, string | null][][]} */
  const undo = [];
  const write = async (/** @type {KvStore} */ db) => {
    const op = source.next();
    undo.push([...new Set(opKeys(op))].map((k) => [k, model.state.get(k) ?? null]));
    await applyOp(db, op);
    model.apply(op);
  };
  let db = await KvStore.open(dir, base);
  for (let i = 0, n = rng.int(300, 700); i < n; i++) {
    await write(db);
    if (rng.chance(0.01)) await db.flush();
    if (rng.chance(0.003)) await db.compact();
  }
  await db.close();
  const options = { ...base, memtableBytes: 4 * 1024 * 1024 };
  db = await KvStore.open(dir, options);
  let extra = rng.int(1, 40);
  while (db.stats().wal.segments < 3 || extra-- > 0) await write(db);
  await db.close();
  return { model, undo: undo.reverse(), options };
}

/** Frames of a WAL segment (FORMAT.md): where the last one starts, where they end, how many. @param {Buffer} bytes */
function walExtent(bytes) {
  let at = WAL_HEADER;
  let last = WAL_HEADER;
  let frames = 0;
  while (at + FRAME_HEADER <= bytes.length) {
    if (bytes.subarray(at, at + FRAME_HEADER).every((b) => b === 0)) break;
    last = at;
    frames++;
    at += Math.ceil((FRAME_HEADER + bytes.readUInt32LE(at + 4)) / 8) * 8;
  }
  return { end: at, lastFrame: last, frames };
}

/**
 * Damage cases for one file.
 * @param {Rng} rng @param {string} rel @param {Buffer} bytes @param {number} perFile @param {() => number} nextId
 * @returns {DamageCase[]}
 */
function casesFor(rng, rel, bytes, perFile, nextId) {
  const size = bytes.length;
  /** @type {DamageCase[]} */
  const out = [];
  const flip = (/** @type {number} */ offset) =>
    offset >= 0 && offset < size && out.push({ id: nextId(), file: rel, kind: 'flip', offset, bit: rng.int(0, 7) });
  const cut = (/** @type {number} */ length) =>
    length >= 0 && length < size && out.push({ id: nextId(), file: rel, kind: 'truncate', offset: length });
  const zero = (/** @type {number} */ offset) =>
    offset >= 0 && offset < size && out.push({ id: nextId(), file: rel, kind: 'zero', offset });
  const within = (/** @type {number} */ lo, /** @type {number} */ hi) => rng.int(lo, Math.max(lo, hi - 1));
  if (rel.startsWith('wal/')) {
    const { end, lastFrame } = walExtent(bytes);
    for (let i = 0; i < 4; i++) flip(within(0, WAL_HEADER));
    for (let i = 0; i < perFile; i++) flip(within(WAL_HEADER, end));
    for (let i = 0; i < 3; i++) flip(within(lastFrame, end));
    for (let i = 0; i < 2; i++) flip(within(end, Math.min(size, end + 4096)));
    for (const length of [
      0,
      WAL_HEADER - 1,
      WAL_HEADER,
      within(WAL_HEADER, end),
      lastFrame,
      lastFrame + 9,
      end,
      size >> 1,
    ]) {
      cut(length);
    }
    zero(within(WAL_HEADER, end) & ~511);
  } else if (rel.startsWith('tables/')) {
    for (let i = 0; i < perFile; i++) flip(within(0, size));
    for (let i = 0; i < 4; i++) flip(within(size - FOOTER, size));
    for (const length of [0, 1, size - 1, size - FOOTER, within(1, size), within(1, size)]) cut(length);
    zero(within(0, size) & ~511);
    zero(within(0, size) & ~511);
  } else {
    const step = Math.max(1, Math.floor(size / perFile));
    for (let at = rng.int(0, step - 1); at < size; at += step) flip(at);
    for (const length of [0, 1, bytes.indexOf(10), bytes.indexOf(10) + 1, size - 1, within(1, size)]) cut(length);
  }
  return out;
}

/**
 * Runs `cases` in child processes, restarting after a crash or a hang (blamed on the case in
 * progress). Returns every verdict by case id.
 * @param {string} pristine @param {DamageCase[]} cases @param {object} expect
 * @param {import('@kv/engine').KvStoreOptions} options @param {number} timeoutMs
 * @returns {Promise<{ verdicts: Map<number, Verdict>, maxRss: number }>}
 */
async function runInChild(pristine, cases, expect, options, timeoutMs) {
  /** @type {Map<number, Verdict>} */
  const verdicts = new Map();
  let maxRss = 0;
  let remaining = cases;
  while (remaining.length > 0) {
    const work = tempDir('corrupt-work');
    const jobFile = path.join(work, 'job.json');
    const logFile = path.join(work, 'cases.log');
    fs.writeFileSync(
      jobFile,
      JSON.stringify({ pristine, work: path.join(work, 'store'), cases: remaining, expect, options }),
    );
    const child = startChild('corruption-child.mjs', [jobFile, logFile], { maxOldSpaceMb: 512 });
    let seen = 0;
    let lastProgress = Date.now();
    let hung = false;
    while (!child.state.exited) {
      await child.waitFor(() => false, 100);
      const length = readLog(logFile).length;
      if (length !== seen) {
        seen = length;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > timeoutMs) {
        hung = true;
        await child.kill();
      }
    }
    /** @type {number | undefined} */
    let current;
    let done = false;
    for (const line of completeLines(readLog(logFile))) {
      const [tag, id, ...rest] = line.split(' ');
      if (tag === 'B') current = Number(id);
      else if (tag === 'R') {
        verdicts.set(Number(id), JSON.parse(rest.join(' ')));
        current = undefined;
      } else if (tag === 'D') {
        done = true;
        maxRss = Math.max(maxRss, Number(id));
      }
    }
    if (done) break;
    const why = hung
      ? `hung for more than ${timeoutMs} ms`
      : `the reading process died (${child.state.signal || `exit ${child.state.code}`}): ${child.state.err.slice(0, 600)}`;
    if (current === undefined) throw new Error(`corruption child failed outside any case: ${why}`);
    verdicts.set(current, { outcome: 'bad', detail: why });
    remaining = remaining.filter((c) => !verdicts.has(c.id));
    await sleep(1);
  }
  return { verdicts, maxRss };
}

/**
 * @param {{ seed: number, perFile: number, children?: number, timeoutMs?: number,
 *   log?: (line: string) => void }} config
 * @returns {Promise<import('./common.mjs').Stats>}
 */
export async function corruptionSweep({ seed, perFile, children = 2, timeoutMs = 20_000, log }) {
  const rng = new Rng(seed);
  const stats = emptyStats();
  const pristine = tempDir('corrupt');
  const { model, undo, options } = await buildStore(rng.fork('build'), pristine);
  const walFiles = fs
    .readdirSync(path.join(pristine, 'wal'))
    .filter((f) => f.endsWith('.log'))
    .sort();
  const files = [
    'MANIFEST',
    ...fs
      .readdirSync(path.join(pristine, 'tables'))
      .sort()
      .map((f) => `tables/${f}`),
    ...walFiles.map((f) => `wal/${f}`),
  ];
  let id = 0;
  const cases = files.flatMap((rel) =>
    casesFor(rng.fork(rel), rel, fs.readFileSync(path.join(pristine, rel)), perFile, () => id++),
  );
  const lastSegment = `wal/${walFiles.at(-1)}`;
  /** @type {import('./corruption-check.mjs').Expectation} */
  const expect = {
    final: model.sorted(),
    undo,
    lastSegment,
    lastSegmentFrames: walExtent(fs.readFileSync(path.join(pristine, lastSegment))).frames,
  };
  const chunks = Array.from({ length: children }, (_, i) => cases.filter((_, j) => j % children === i));
  const results = await Promise.all(chunks.map((chunk) => runInChild(pristine, chunk, expect, options, timeoutMs)));
  const byId = new Map(cases.map((c) => [c.id, c]));
  /** @type {string[]} */
  const bad = [];
  for (const { verdicts, maxRss } of results) {
    if (maxRss > 1024 * 1024 * 1024)
      bad.push(`a reading process peaked at ${Math.round(maxRss / 2 ** 20)} MiB of memory`);
    for (const [caseId, verdict] of verdicts) {
      const c = /** @type {DamageCase} */ (byId.get(caseId));
      stats.corruptionsTried++;
      const kind = c.file.split('/')[0] === 'MANIFEST' ? 'manifest' : c.file.split('/')[0];
      note(stats, `${verdict.outcome}-${kind}`);
      if (verdict.outcome === 'bad') {
        bad.push(`${c.kind} ${c.file} at ${c.offset}${c.kind === 'flip' ? ` bit ${c.bit}` : ''}: ${verdict.detail}`);
      }
    }
  }
  stats.reopens += stats.corruptionsTried;
  stats.ackedVerified += model.acked;
  log?.(
    `corruption seed ${seed}: ${files.length} files, ${stats.corruptionsTried} cases: ${JSON.stringify(stats.notes)}`,
  );
  if (bad.length > 0) {
    throw new ScenarioFailure(
      'corruption',
      seed,
      `${bad.length} of ${cases.length} damage cases failed (store ${pristine}):\n    ${bad.slice(0, 12).join('\n    ')}`,
      stats,
    );
  }
  return stats;
}
