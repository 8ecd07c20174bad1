/**
 * Scenario 2, power loss, in process: the store runs on a SimDisk (sync 'always'), the power
 * is cut at a random seam call (during open, a put's sync, a rollover, a flush, a compaction,
 * a manifest replacement...), and the image a reboot could find (unsynced bytes dropped,
 * partly persisted or garbled; directory operations not covered by a directory fsync undone)
 * is opened with the real file systems and checked: it always opens, and every resolved write
 * is there. Rounds chain: each one starts from the previous round's recovered image.
 */
import { KvStore } from '@kv/engine';
import { emptyStats, note, ScenarioFailure, tempDir } from './common.mjs';
import { randomOptions } from './kill-loop.mjs';
import { checkDurablePrefix, checkStore, Model, tallyCheck } from './model.mjs';
import { Rng } from './rng.mjs';
import { SimDisk } from './sim-disk.mjs';
import { DEFAULT_PROFILE, runWorkers } from './workload.mjs';

/** @typedef {import('./workload.mjs').Op} Op */

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * @param {{ seed: number, rounds: number, log?: (line: string) => void }} config
 * @returns {Promise<import('./common.mjs').Stats>}
 */
export async function powerLoss({ seed, rounds, log }) {
  const rng = new Rng(seed);
  const stats = emptyStats();
  const model = new Model();
  const maxLevels = rng.int(3, 4);
  let dir = tempDir('power');
  for (let round = 0; round < rounds; round++) {
    const r = rng.fork(`round${round}`);
    const fail = (/** @type {string} */ detail) =>
      new ScenarioFailure('power', seed, `round ${round}: ${detail}\n  dir before the cut: ${dir}`, stats);
    const disk = new SimDisk(dir, r.fork('disk'));
    // Sync 'none' in some rounds: then only what a completed flush() covered is promised.
    const sync = r.fork('sync').chance(0.3) ? 'none' : 'always';
    const options = { ...randomOptions(r, maxLevels), sync: /** @type {'always' | 'none'} */ (sync) };
    /** @type {Op[]} acknowledged this round, in order */
    const ackLog = [];
    /** ackLog[0, durableMark) is covered by a completed flush (what sync 'none' promises) */
    let durableMark = 0;
    const durableAfter = (/** @type {Promise<unknown>} */ p) => {
      const mark = ackLog.length;
      return p.then(() => {
        durableMark = Math.max(durableMark, mark);
      });
    };
    const base = new Map(model.state);
    const mode = r.pick(/** @type {const} */ (['drop', 'some', 'garble']));
    const seams = { fs: disk.engineFs, walFs: disk.walFs, tableFs: disk.tableFs };
    /** @type {Map<number, Op>} */
    const inFlight = new Map();
    /** @type {unknown[]} */
    const failures = [];
    const before = model.acked;
    const duringOpen = r.chance(0.1);
    if (duringOpen) disk.cutAfter(r.int(1, 40), mode);
    const opened = await Promise.race([
      KvStore.open(dir, { ...options, ...seams }).catch((err) => {
        failures.push(err);
        return null;
      }),
      disk.whenCrashed.then(() => null),
    ]);
    if (opened !== null) {
      const db = opened;
      const budget = r.int(20, 600);
      disk.cutAfter(r.int(1, r.pick([50, 300, 1500])), mode);
      let issued = 0;
      const workload = runWorkers(
        db,
        r,
        {
          workers: r.int(1, 6),
          tag: `s${seed}p${round}`,
          profile: { ...DEFAULT_PROFILE, keysPerWorker: r.int(8, 48), bigValueChance: r.pick([0, 0.02, 0.05]) },
        },
        {
          stop: () => disk.crashed || issued >= budget,
          issue: (w, op) => {
            issued++;
            inFlight.set(w, op);
            // Explicit flushes and compactions now and then, racing the writers.
            if (r.chance(0.02)) durableAfter(db.flush()).catch((err) => disk.crashed || failures.push(err));
            else if (r.chance(0.01)) durableAfter(db.compact()).catch((err) => disk.crashed || failures.push(err));
          },
          ack: (w, op) => {
            model.apply(op);
            ackLog.push(op);
            inFlight.delete(w);
          },
          reject: (_w, _op, err) => {
            if (!disk.crashed) failures.push(err);
          },
        },
      );
      await Promise.race([workload, disk.whenCrashed]);
      // Nothing was in flight when the writers stopped: the cut then hits background work, if any.
      if (!disk.crashed) disk.crash(mode);
    } else if (!disk.crashed) {
      throw fail(`open failed before the cut: ${failures.map((e) => /** @type {Error} */ (e).stack).join('\n')}`);
    }
    // Writes whose sync completed before the cut may still be resolving: let them.
    await settle();
    if (failures.length > 0) {
      throw fail(`an operation failed before the power cut: ${/** @type {Error} */ (failures[0]).stack}`);
    }
    stats.powerCuts++;
    const report = /** @type {import('./sim-disk.mjs').CrashReport} */ (disk.report);
    note(stats, `cuts-${report.mode}`);
    if (duringOpen) note(stats, 'cuts-during-open');
    note(stats, `cut-in-${disk.cutAt || 'idle'}`);
    note(stats, 'sectors-dropped', report.sectorsDropped);
    note(stats, 'sectors-garbled', report.sectorsGarbled);
    note(stats, 'dir-ops-undone', report.dirOpsUndone);
    const next = tempDir('power');
    disk.writeImage(next);
    const unknown = [...inFlight.values()];
    let db;
    try {
      db = await KvStore.open(next, options);
    } catch (err) {
      throw fail(
        `after the cut (${JSON.stringify({ ...report, files: undefined })}, ${disk.ops} seam calls) the store does not open: ${/** @type {Error} */ (err).stack}\n  image: ${next} (${report.files.join(' ')})`,
      );
    }
    try {
      let problems;
      if (sync === 'none') {
        // The durable state: the round's start plus what completed flushes covered.
        const durable = new Model();
        durable.state = base;
        for (const op of ackLog.slice(0, durableMark)) durable.apply(op);
        problems = checkDurablePrefix(db, durable, [...ackLog.slice(durableMark), ...unknown]);
        model.state = durable.state;
        note(stats, 'rounds-sync-none');
        note(stats, 'sync-none-writes-not-yet-durable', ackLog.length - durableMark);
      } else {
        problems = checkStore(db, model, r.fork('check'), { unknown });
      }
      const found = tallyCheck(stats, problems);
      if (found !== null) {
        throw fail(
          `after the cut (${JSON.stringify({ ...report, files: undefined })}, options ${JSON.stringify(options)}):\n    ${found}\n  recovery: ${JSON.stringify(db.stats().recovery)}\n  image: ${next} (${report.files.join(' ')})`,
        );
      }
      // Under sync 'none' only the writes a completed flush covered were promised.
      stats.ackedVerified += sync === 'none' ? durableMark : model.acked - before;
      if (db.stats().recovery.wal.tornTail !== null) note(stats, 'torn-tails');
    } finally {
      await db.close();
    }
    log?.(
      `power seed ${seed} round ${round}: ${report.mode} cut after ${disk.ops} seam calls, ${model.acked - before} acked, ${unknown.length} in flight, ${report.dirOpsUndone} dir ops undone, ${report.sectorsDropped + report.sectorsGarbled} sectors lost`,
    );
    dir = next;
  }
  return stats;
}
