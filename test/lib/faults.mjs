/**
 * Scenario 3, injected I/O errors: ENOSPC and EIO on writes, syncs, renames, unlinks,
 * directory fsyncs and segment preallocation, at a random call, during the workload or while
 * the store opens. The store must report KV_IO_ERROR, acknowledge nothing issued after it
 * reported the failure, and reopen clean (real file systems) with every acknowledged write.
 * Cases chain on one directory, so faults hit stores with tables, levels and long WALs.
 */
import { KvStore } from '@kv/engine';
import { isKvError } from '@kv/record';
import { emptyStats, note, ScenarioFailure, tempDir } from './common.mjs';
import { FAULT_TARGETS, FaultPlan } from './fault-fs.mjs';
import { randomOptions } from './kill-loop.mjs';
import { checkStore, Model, tallyCheck } from './model.mjs';
import { Rng } from './rng.mjs';
import { DEFAULT_PROFILE, runWorkers } from './workload.mjs';

/** @typedef {import('./workload.mjs').Op} Op */

/** How far into its calls an operation is failed: frequent ones can be hit late. */
const REACH = /** @type {Record<string, number>} */ ({
  'wal.fdatasync': 300,
  'wal.writeSync': 300,
  'table.write': 40,
  'table.open': 20,
});

const describeErr = (/** @type {unknown} */ err) =>
  isKvError(err) ? `${err.code}: ${err.message}` : /** @type {Error} */ (err?.stack ?? String(err));

/**
 * @param {{ seed: number, cases: number, log?: (line: string) => void }} config
 * @returns {Promise<import('./common.mjs').Stats>}
 */
export async function faultInjection({ seed, cases, log }) {
  const rng = new Rng(seed);
  const stats = emptyStats();
  const model = new Model();
  const dir = tempDir('fault');
  const maxLevels = rng.int(3, 4);
  const targets = Object.keys(FAULT_TARGETS);
  for (let c = 0; c < cases; c++) {
    const r = rng.fork(`case${c}`);
    const options = randomOptions(r, maxLevels);
    const plan = new FaultPlan();
    const op = r.pick(targets);
    const code = r.pick(/** @type {readonly string[]} */ (FAULT_TARGETS[op]));
    const n = r.int(1, REACH[op] ?? 6);
    const atOpen = r.chance(0.15);
    const what = `case ${c}: ${code} at call ${n} of ${op}${atOpen ? ' from open' : ''} (options ${JSON.stringify(options)})`;
    const fail = (/** @type {string} */ detail) =>
      new ScenarioFailure('fault', seed, `${what}: ${detail}\n  dir: ${dir}`, stats);
    const before = model.acked;

    if (atOpen) plan.arm(op, n, code);
    /** @type {KvStore | null} */
    let db = null;
    try {
      db = await KvStore.open(dir, { ...options, ...plan.seams() });
    } catch (err) {
      if (plan.fired === null) throw fail(`open failed with no fault: ${describeErr(err)}`);
      if (!isKvError(err, 'KV_IO_ERROR')) throw fail(`open reported ${describeErr(err)}, not KV_IO_ERROR`);
    }
    /** @type {Op[]} */
    const unknown = [];
    /** @type {Op[]} */
    const notApplied = [];
    if (db !== null) {
      const store = db;
      if (!atOpen) plan.arm(op, n, code);
      let seq = 0;
      let reportedAt = Number.POSITIVE_INFINITY;
      /** @type {string[]} */
      const violations = [];
      /** @type {Map<number, number>} worker -> seq its operation was issued at */
      const issuedAt = new Map();
      const budget = r.int(50, 800);
      let afterFire = 0;
      await runWorkers(
        store,
        r,
        {
          workers: r.int(1, 5),
          tag: `s${seed}f${c}`,
          profile: { ...DEFAULT_PROFILE, keysPerWorker: r.int(8, 48), bigValueChance: r.pick([0, 0.02, 0.05]) },
        },
        {
          stop: () => seq >= budget || afterFire > 20,
          issue: (w) => {
            issuedAt.set(w, ++seq);
            if (plan.fired !== null) afterFire++;
            if (r.chance(0.02)) store.flush().catch(() => {});
            else if (r.chance(0.01)) store.compact().catch(() => {});
          },
          ack: (w, o) => {
            if ((issuedAt.get(w) ?? 0) > reportedAt) {
              violations.push(`${o.type} issued after the store reported KV_IO_ERROR was acknowledged`);
            }
            model.apply(o);
          },
          reject: (w, o, err) => {
            if (!isKvError(err, 'KV_IO_ERROR')) violations.push(`${o.type} rejected with ${describeErr(err)}`);
            if (plan.fired === null) violations.push(`${o.type} rejected before any fault: ${describeErr(err)}`);
            if ((issuedAt.get(w) ?? 0) > reportedAt) notApplied.push(o);
            else unknown.push(o);
            if (reportedAt === Number.POSITIVE_INFINITY) reportedAt = seq;
          },
        },
      );
      if (plan.fired !== null) {
        // The failure must be reported now, if no writer has seen it yet: a flush and a put.
        const flush = await store.flush().then(
          () => null,
          (err) => err,
        );
        const put = await store.put('probe', 'after the fault').then(
          () => null,
          (err) => err,
        );
        if (put === null) {
          violations.push(
            `the store still acknowledges writes after the fault (flush: ${flush === null ? 'resolved' : describeErr(flush)}; stats.failed ${store.stats().failed})`,
          );
        } else if (!isKvError(put, 'KV_IO_ERROR')) violations.push(`a put after the fault: ${describeErr(put)}`);
        else notApplied.push({ type: 'put', key: 'probe', value: '-' });
        stats.faultsInjected++;
        note(stats, `fault-${plan.fired.op}`);
      } else {
        plan.disarm();
        note(stats, 'faults-not-reached');
      }
      plan.disarm();
      const closed = await store.close().then(
        () => null,
        (err) => err,
      );
      if (closed !== null && !isKvError(closed, 'KV_IO_ERROR')) violations.push(`close: ${describeErr(closed)}`);
      if (violations.length > 0) throw fail(violations.slice(0, 6).join('\n    '));
    } else {
      stats.faultsInjected++;
      note(stats, `fault-at-open-${/** @type {{ op: string }} */ (plan.fired).op}`);
    }

    let again;
    try {
      again = await KvStore.open(dir, options);
    } catch (err) {
      throw fail(`reopening with a healthy disk failed: ${describeErr(err)}`);
    }
    try {
      const problems = tallyCheck(stats, checkStore(again, model, r.fork('check'), { unknown, notApplied }));
      if (problems !== null) throw fail(problems);
      stats.ackedVerified += model.acked - before;
    } finally {
      await again.close();
    }
    log?.(
      `fault seed ${seed} ${what.split(' (')[0]}: ${plan.fired === null ? 'not reached' : 'fired'}, ${model.acked - before} acked`,
    );
  }
  return stats;
}
