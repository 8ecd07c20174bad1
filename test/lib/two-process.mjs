/**
 * Scenario 5, two processes on one directory: while a first process writes, a second process
 * (and this one) trying to open the store, or its WAL, gets KV_LOCKED; the first keeps
 * writing through every attempt, and after it closes (or is killed) its data is intact.
 */
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { isKvError } from '@kv/record';
import { completeLines, emptyStats, readLog, ScenarioFailure, sleep, startChild, tempDir } from './common.mjs';
import { applyChildOutput, randomOptions } from './kill-loop.mjs';
import { checkStore, Model, tallyCheck } from './model.mjs';
import { Rng } from './rng.mjs';
import { DEFAULT_PROFILE } from './workload.mjs';

const acks = (/** @type {string} */ file) => completeLines(readLog(file)).filter((l) => l.startsWith('A ')).length;

/** Waits until the log holds `n` acknowledgements; false after `timeoutMs` or if the child died. */
async function acksReach(
  /** @type {ReturnType<typeof startChild>} */ child,
  /** @type {string} */ file,
  /** @type {number} */ n,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (acks(file) < n) {
    if (child.state.exited || Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * @param {{ seed: number, attempts: number, log?: (line: string) => void }} config
 * @returns {Promise<import('./common.mjs').Stats>}
 */
export async function twoProcesses({ seed, attempts, log }) {
  const rng = new Rng(seed);
  const stats = emptyStats();
  const dir = tempDir('lock');
  const model = new Model();
  const options = randomOptions(rng, rng.int(3, 4));
  const fail = (/** @type {string} */ detail) => new ScenarioFailure('lock', seed, `${detail}\n  dir: ${dir}`, stats);
  const config = JSON.stringify({ options, profile: { ...DEFAULT_PROFILE, bigValueChance: 0.01 }, workers: 3 });
  const logFile = path.join(tempDir('lock-log'), 'holder.log');
  const holder = startChild('lock-holder.mjs', [dir, String(rng.int(0, 2 ** 31)), 'h', config, logFile]);
  try {
    if (!(await acksReach(holder, logFile, 20))) {
      throw fail(`the first process did not start writing: ${holder.state.err || 'timeout'}`);
    }
    for (let i = 0; i < attempts; i++) {
      const pid = String(holder.child.pid);
      const inProcess = await KvStore.open(dir, options).then(
        async (db) => {
          await db.close();
          return null;
        },
        (err) => err,
      );
      if (!isKvError(inProcess, 'KV_LOCKED')) throw fail(`attempt ${i}: an open in this process gave ${inProcess}`);
      if (!inProcess.message.includes(pid))
        throw fail(`KV_LOCKED does not name the owner ${pid}: ${inProcess.message}`);
      const contender = startChild('lock-contender.mjs', [dir]);
      await contender.exited;
      const line = completeLines(contender.state.out)[0];
      if (line === undefined) throw fail(`attempt ${i}: the second process failed: ${contender.state.err}`);
      const got = JSON.parse(line);
      if (got.engine.code !== 'KV_LOCKED' || got.wal.code !== 'KV_LOCKED') {
        throw fail(`attempt ${i}: the second process got ${line}, not KV_LOCKED for the store and its WAL`);
      }
      // The first process is unharmed: it keeps acknowledging writes.
      if (!(await acksReach(holder, logFile, acks(logFile) + 10, 10_000))) {
        throw fail(`attempt ${i}: the first process stopped writing: ${holder.state.err || 'no progress in 10 s'}`);
      }
    }
    const graceful = rng.chance(0.5);
    if (graceful) {
      holder.child.stdin.write('close\n');
      await holder.exited;
      if (holder.state.code !== 0 || !holder.state.out.endsWith('closed\n')) {
        throw fail(`the first process did not close cleanly (${holder.state.code}): ${holder.state.err}`);
      }
    } else {
      await holder.kill();
      stats.kills++;
    }
    if (holder.state.err !== '') throw fail(`the first process failed: ${holder.state.err}`);
    const unknown = applyChildOutput(readLog(logFile), model);
    if (graceful && unknown.length > 0) throw fail(`${unknown.length} operations never settled before close`);
    const db = await KvStore.open(dir, options).catch((err) => {
      throw fail(`opening after the first process ${graceful ? 'closed' : 'died'}: ${err}`);
    });
    try {
      const problems = tallyCheck(stats, checkStore(db, model, rng.fork('check'), { unknown }));
      if (problems !== null) throw fail(problems);
      stats.ackedVerified += model.acked;
    } finally {
      await db.close();
    }
    log?.(
      `lock seed ${seed}: ${attempts} refused opens, ${model.acked} acked, first process ${graceful ? 'closed' : 'killed'}`,
    );
  } finally {
    await holder.kill();
  }
  return stats;
}
