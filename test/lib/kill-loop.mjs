/**
 * Scenario 1, the kill loop: a child process runs the random workload (flushes and compactions
 * on their own and on request, large values, scans) and is killed with SIGKILL at a random
 * moment, sometimes while it is still opening; the parent reopens the store and checks it
 * against the model; repeat on the same directory.
 */
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { completeLines, emptyStats, readLog, ScenarioFailure, sleep, startChild, tempDir } from './common.mjs';
import { checkStore, Model, tallyCheck } from './model.mjs';
import { Rng } from './rng.mjs';
import { DEFAULT_PROFILE } from './workload.mjs';

/** @typedef {import('./workload.mjs').Op} Op */

/**
 * Options for one run: small memtables and segments so every path (rotation, backpressure,
 * rollover, flush, compaction) runs all the time. maxLevels stays fixed per directory.
 * @param {Rng} rng @param {number} maxLevels
 * @returns {import('@kv/engine').KvStoreOptions}
 */
export function randomOptions(rng, maxLevels) {
  return {
    sync: rng.chance(0.6) ? 'always' : 'none',
    memtableBytes: rng.pick([2048, 4096, 16 * 1024, 64 * 1024]),
    maxImmutableMemtables: rng.int(1, 3),
    walSegmentBytes: rng.pick([128 * 1024, 192 * 1024, 256 * 1024]),
    blockBytes: rng.pick([256, 1024, 4096]),
    runsPerLevel: rng.int(2, 4),
    maxLevels,
    autoCompact: rng.chance(0.85),
  };
}

/**
 * Parses a killed child's log into the model: acknowledged operations are applied, the
 * ones it had issued without an acknowledgement are returned (outcome unknown).
 * @param {string} out @param {Model} model @returns {Op[]}
 */
export function applyChildOutput(out, model) {
  /** @type {Map<string, Op>} */
  const pending = new Map();
  for (const line of completeLines(out)) {
    if (line.startsWith('T ')) {
      const space = line.indexOf(' ', 2);
      pending.set(line.slice(2, space), JSON.parse(line.slice(space + 1)));
    } else if (line.startsWith('A ')) {
      const op = pending.get(line.slice(2));
      if (op === undefined) throw new Error(`acknowledgement without an operation: ${line}`);
      model.apply(op);
      pending.delete(line.slice(2));
    }
  }
  return [...pending.values()];
}

/**
 * @param {{ seed: number, runs: number, log?: (line: string) => void }} config
 * @returns {Promise<import('./common.mjs').Stats>}
 */
export async function killLoop({ seed, runs, log }) {
  const rng = new Rng(seed);
  const stats = emptyStats();
  const dir = tempDir('kill');
  const logs = tempDir('kill-logs');
  const model = new Model();
  const maxLevels = rng.int(3, 5);
  const fail = (/** @type {string} */ detail) => new ScenarioFailure('kill', seed, `${detail}\n  dir: ${dir}`, stats);
  for (let run = 0; run < runs; run++) {
    const r = rng.fork(`run${run}`);
    const options = randomOptions(r, maxLevels);
    const profile = { ...DEFAULT_PROFILE, keysPerWorker: r.int(16, 64), bigValueChance: r.pick([0, 0.01, 0.05]) };
    const workers = r.int(1, 5);
    const config = JSON.stringify({ options, profile, workers });
    const logFile = path.join(logs, `run${run}.log`);
    const child = startChild('kill-child.mjs', [dir, String(r.int(0, 2 ** 31)), `r${run}`, config, logFile]);
    if (r.chance(0.15)) {
      await sleep(r.int(30, 400)); // often before 'ready': killed while opening and replaying
    } else {
      if (!(await child.waitFor((out) => out.startsWith('ready\n')))) {
        throw fail(`run ${run}: the child did not open the store: ${child.state.err || 'timeout'}`);
      }
      await sleep(r.int(10, 900));
    }
    await child.kill();
    stats.kills++;
    if (child.state.signal !== 'SIGKILL' || child.state.err !== '') {
      throw fail(`run ${run}: the child failed before the kill (${child.state.code}): ${child.state.err}`);
    }
    const before = model.acked;
    const unknown = applyChildOutput(readLog(logFile), model);
    let db;
    try {
      db = await KvStore.open(dir, options);
    } catch (err) {
      throw fail(`run ${run}: reopening after SIGKILL failed: ${/** @type {Error} */ (err).stack}`);
    }
    try {
      const problems = tallyCheck(stats, checkStore(db, model, r.fork('check'), { unknown }));
      if (problems !== null) {
        throw fail(
          `run ${run} (options ${JSON.stringify(options)}): ${problems}\n  recovery: ${JSON.stringify(db.stats().recovery)}`,
        );
      }
      stats.ackedVerified += model.acked - before;
      if (db.stats().recovery.wal.tornTail !== null) stats.notes.tornTails = (stats.notes.tornTails ?? 0) + 1;
    } finally {
      await db.close();
    }
    log?.(
      `kill seed ${seed} run ${run}: ${model.acked - before} acked, ${unknown.length} in flight, ${model.state.size} keys`,
    );
  }
  return stats;
}
