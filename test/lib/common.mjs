/** What every scenario shares: temp directories, counters, and failures that carry their seed. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * @typedef {object} Stats
 * @property {number} kills             child processes killed with SIGKILL
 * @property {number} reopens           stores reopened and checked against the model
 * @property {number} powerCuts         simulated power losses
 * @property {number} faultsInjected    injected ENOSPC / EIO errors that fired
 * @property {number} corruptionsTried  damaged-file cases opened and read
 * @property {number} ackedVerified     acknowledged operations whose effect a check confirmed
 * @property {number} lost              acknowledged writes found missing or wrong (must stay 0)
 * @property {Record<string, number>} notes  scenario-specific counts (torn tails seen, outcomes...)
 */

/** @returns {Stats} */
export function emptyStats() {
  return {
    kills: 0,
    reopens: 0,
    powerCuts: 0,
    faultsInjected: 0,
    corruptionsTried: 0,
    ackedVerified: 0,
    lost: 0,
    notes: {},
  };
}

/** @param {Stats} into @param {Stats} from */
export function addStats(into, from) {
  for (const k of /** @type {const} */ ([
    'kills',
    'reopens',
    'powerCuts',
    'faultsInjected',
    'corruptionsTried',
    'ackedVerified',
    'lost',
  ])) {
    into[k] += from[k];
  }
  for (const [k, v] of Object.entries(from.notes)) into.notes[k] = (into.notes[k] ?? 0) + v;
}

/** @param {Stats} stats @param {string} name */
export function note(stats, name, by = 1) {
  stats.notes[name] = (stats.notes[name] ?? 0) + by;
}

/** The command that replays one scenario with one seed. */
export function reproduce(/** @type {string} */ scenario, /** @type {number} */ seed) {
  return `node test/torture.mjs --scenario ${scenario} --seed ${seed} --runs 1`;
}

/** A failed check: names the scenario and the seed that reproduces it. */
export class ScenarioFailure extends Error {
  /**
   * @param {string} scenario
   * @param {number} seed
   * @param {string} detail
   * @param {Stats} [stats] counts up to the failure
   */
  constructor(scenario, seed, detail, stats) {
    super(`[${scenario}] seed ${seed}: ${detail}\n  reproduce: ${reproduce(scenario, seed)}`);
    this.name = 'ScenarioFailure';
    this.scenario = scenario;
    this.seed = seed;
    this.stats = stats ?? emptyStats();
  }
}

const made = /** @type {string[]} */ ([]);

/** A fresh directory under the OS temp dir; `removeTempDirs` deletes every one made so far. */
export function tempDir(/** @type {string} */ prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kv-torture-${prefix}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs() {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Keeps the directories made so far (a failure's evidence): they are no longer removed. */
export function forgetTempDirs() {
  made.splice(0);
}

export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A child process running a script of test/children with `args`; collects its output.
 * @param {string} script file name in test/children
 * @param {string[]} args
 * @param {{ maxOldSpaceMb?: number }} [options]
 */
export function startChild(script, args, options = {}) {
  const file = path.join(import.meta.dirname, '..', 'children', script);
  const flags = options.maxOldSpaceMb === undefined ? [] : [`--max-old-space-size=${options.maxOldSpaceMb}`];
  const child = spawn(process.execPath, [...flags, file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const state = { out: '', err: '', exited: false, code: /** @type {number | null} */ (null), signal: '' };
  /** @type {(() => void)[]} */
  let listeners = [];
  const wake = () => {
    const ls = listeners;
    listeners = [];
    for (const l of ls) l();
  };
  child.stdout.on('data', (/** @type {Buffer} */ d) => {
    state.out += d.toString('latin1');
    wake();
  });
  child.stderr.on('data', (/** @type {Buffer} */ d) => {
    state.err += d.toString('utf8');
  });
  // A child that already died makes writes to its stdin fail: that is reported by `exit`.
  child.stdin.on('error', () => {});
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      state.exited = true;
      state.code = code;
      state.signal = signal ?? '';
      wake();
      resolve(undefined);
    });
  });
  return {
    child,
    state,
    exited,
    /** Resolves when `predicate(stdout)` holds or the child exits; false on exit or timeout. */
    async waitFor(/** @type {(out: string) => boolean} */ predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(state.out)) {
        if (state.exited || Date.now() > deadline) return false;
        await new Promise((resolve) => {
          listeners.push(() => resolve(undefined));
          setTimeout(resolve, Math.min(250, Math.max(1, deadline - Date.now())));
        });
      }
      return true;
    },
    async kill() {
      if (!state.exited) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The content of a child's log file ('' before it exists). */
export function readLog(/** @type {string} */ file) {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}

/** Complete lines of a child's output (a line cut by a kill was never fully written). */
export function completeLines(/** @type {string} */ out) {
  const lines = out.split('\n');
  lines.pop();
  return lines;
}
