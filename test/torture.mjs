#!/usr/bin/env node
// The long-running torture driver: loops the crash and fault scenarios of test/lib with fresh
// seeds until the time is up, prints progress, and ends with a summary. Exit status 1 if any
// scenario failed; every failure prints the command that replays it.
//
//   node test/torture.mjs [--minutes N] [--seed S] [--scenario kill|power|fault|corruption|lock|all]
//                         [--runs N] [--verbose]
//
// --seed S        seeds of successive scenario runs are S, S+1, ... (default: random)
// --runs N        stop after N scenario runs (with --seed and --scenario: replays one run)
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  addStats,
  corruptionSweep,
  emptyStats,
  faultInjection,
  forgetTempDirs,
  killLoop,
  powerLoss,
  removeTempDirs,
  ScenarioFailure,
  twoProcesses,
} from './lib/index.mjs';

const USAGE = `usage: node test/torture.mjs [--minutes N] [--seed S] [--scenario kill|power|fault|corruption|lock|all]
                              [--runs N] [--verbose]`;

let args;
try {
  args = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      seed: { type: 'string' },
      scenario: { type: 'string', default: 'all' },
      runs: { type: 'string' },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const minutes = Number(args.minutes);
const maxRuns = args.runs === undefined ? Number.POSITIVE_INFINITY : Number(args.runs);
const baseSeed = args.seed === undefined ? randomInt(1, 2 ** 31) : Number(args.seed);
if (!(minutes > 0) || !(maxRuns > 0) || !Number.isSafeInteger(baseSeed)) {
  console.error(`bad --minutes, --runs or --seed\n${USAGE}`);
  process.exit(2);
}
const verbose = args.verbose;
const log = verbose ? (line) => console.log(`        ${line}`) : undefined;

/** Each scenario at the size one driver iteration runs. */
const SCENARIOS = {
  kill: (seed) => killLoop({ seed, runs: 10, log }),
  power: (seed) => powerLoss({ seed, rounds: 10, log }),
  fault: (seed) => faultInjection({ seed, cases: 15, log }),
  corruption: (seed) => corruptionSweep({ seed, perFile: 30, log }),
  lock: (seed) => twoProcesses({ seed, attempts: 3, log }),
};
/** The order of the loop: cheap in-process scenarios more often than the slow ones. */
const CYCLE = ['kill', 'power', 'fault', 'power', 'corruption', 'fault', 'kill', 'power', 'fault', 'lock'];
const cycle = args.scenario === 'all' ? CYCLE : [args.scenario];
if (!cycle.every((s) => s in SCENARIOS)) {
  console.error(`unknown scenario ${args.scenario}\n${USAGE}`);
  process.exit(2);
}

const started = Date.now();
const clock = () => {
  const s = Math.floor((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const total = emptyStats();
/** @type {Record<string, number>} */
const runsOf = {};
/** @type {{ scenario: string, seed: number, message: string }[]} */
const failures = [];
let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log('\ninterrupted: finishing the current scenario (Ctrl-C again to quit now)');
});

console.log(`kv torture: ${minutes} min, scenarios ${[...new Set(cycle)].join(', ')}, seeds from ${baseSeed}`);
for (let i = 0; i < maxRuns && !stopping && Date.now() - started < minutes * 60_000; i++) {
  const scenario = /** @type {keyof typeof SCENARIOS} */ (cycle[i % cycle.length]);
  const seed = baseSeed + i;
  runsOf[scenario] = (runsOf[scenario] ?? 0) + 1;
  const t0 = Date.now();
  try {
    const stats = await SCENARIOS[scenario](seed);
    addStats(total, stats);
    removeTempDirs();
    const what = [
      stats.kills && `${stats.kills} kills`,
      stats.powerCuts && `${stats.powerCuts} power cuts`,
      stats.faultsInjected && `${stats.faultsInjected} faults`,
      stats.corruptionsTried && `${stats.corruptionsTried} corruptions`,
      `${stats.reopens} reopen checks`,
      `${stats.ackedVerified} acked writes verified`,
    ].filter(Boolean);
    console.log(`[${clock()}] ok   ${scenario.padEnd(10)} seed ${seed}: ${what.join(', ')} (${Date.now() - t0} ms)`);
  } catch (err) {
    forgetTempDirs();
    const message =
      err instanceof ScenarioFailure
        ? err.message
        : `[${scenario}] seed ${seed}: the harness failed: ${err?.stack ?? err}\n  reproduce: node test/torture.mjs --scenario ${scenario} --seed ${seed} --runs 1`;
    if (err instanceof ScenarioFailure) addStats(total, err.stats);
    failures.push({ scenario, seed, message });
    console.log(`[${clock()}] FAIL ${scenario.padEnd(10)} seed ${seed}\n${indent(message)}`);
  }
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

const line = (label, value) => console.log(`  ${label.padEnd(34)}${value}`);
console.log(
  `\n=== kv torture summary (${clock()}, seeds ${baseSeed}..${baseSeed + Object.values(runsOf).reduce((a, b) => a + b, 0) - 1}) ===`,
);
line(
  'scenario runs',
  Object.entries(runsOf)
    .map(([k, v]) => `${k} ${v}`)
    .join(', '),
);
line('processes killed (SIGKILL)', total.kills);
line('reopen checks', total.reopens);
line('power-loss cuts', total.powerCuts);
line('faults injected', total.faultsInjected);
line('corruptions tried', total.corruptionsTried);
line('acknowledged writes verified', total.ackedVerified);
line('acknowledged writes lost', total.lost);
const notes = Object.entries(total.notes).sort(([a], [b]) => (a < b ? -1 : 1));
if (notes.length > 0) line('details', notes.map(([k, v]) => `${k} ${v}`).join(', '));
line('failures', failures.length);
for (const f of failures) {
  const [head = '', detail = ''] = f.message.split('\n');
  const repro =
    f.message
      .split('\n')
      .find((l) => l.includes('reproduce:'))
      ?.trim() ?? '';
  console.log(`    ${(head.length < 90 ? `${head} ${detail.trim()}` : head).slice(0, 240)}\n      ${repro}`);
}
process.exit(failures.length > 0 ? 1 : 0);
