import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchConfig,
  DEFAULT_KEY_BYTES,
  DEFAULT_SEED,
  DEFAULT_VALUE_BYTES,
  FULL_SCALE,
  QUICK_SCALE,
} from './config.js';
import { STORE_NAMES } from './stores/types.js';
import { WORKLOADS } from './workloads/index.js';
import type { Target } from './workloads/types.js';

export const USAGE = `usage: node benchmarks/dist/cli.js [options]

  --quick              small counts and short loops (the whole run in about a minute)
  --only a,b           run only these workloads (ids below)
  --stores a,b         run only these targets: ${[...STORE_NAMES, 'disk'].join(', ')}
  --json FILE          also write the results as JSON to FILE
  --markdown FILE      also write the table as Markdown to FILE (for README.md)
  --save               write results/latest.json and results/latest.svg
  --key-bytes N        key size (default ${DEFAULT_KEY_BYTES}, at least 8)
  --value-bytes N      value size (default ${DEFAULT_VALUE_BYTES})
  --keys N             keys for the load, get, scan and mixed workloads
  --seconds S          length of each time-bounded loop
  --seed N             base seed (default ${DEFAULT_SEED})
  --dir DIR            where the stores write (default: the OS temp dir); must be a real disk
  --keep               keep the data directories
  --no-sync-check      skip the strace check of syncs per durable put
  --timeout S          per-process time limit (default 180 quick, 3600 full)
  --cpu-prof DIR       run each worker under node --cpu-prof, profiles written to DIR
  -h, --help

workloads: ${WORKLOADS.map((w) => w.id).join(', ')}`;

export interface CliOptions {
  config: BenchConfig;
  workloads: string[];
  targets: Target[];
  json?: string;
  markdown?: string;
  save: boolean;
  dir?: string;
  keep: boolean;
  syncCheck: boolean;
  timeoutMs: number;
  /** Where workers write V8 CPU profiles (node --cpu-prof), when set. */
  cpuProfDir?: string;
  help: boolean;
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

function list<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T[] {
  if (text === undefined) return [...allowed];
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`--${name}: unknown "${item}"; choose from ${allowed.join(', ')}`);
  }
  return items as T[];
}

export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    // `pnpm bench -- --quick` may pass the `--` through.
    args: argv.filter((a) => a !== '--'),
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      stores: { type: 'string' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      save: { type: 'boolean', default: false },
      'key-bytes': { type: 'string' },
      'value-bytes': { type: 'string' },
      keys: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-sync-check': { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick === true;
  const scale = { ...(quick ? QUICK_SCALE : FULL_SCALE) };
  if (values.keys !== undefined) scale.keys = scale.reads = positiveInt('keys', values.keys, scale.keys);
  if (values.seconds !== undefined) {
    const s = Number(values.seconds);
    if (!(s > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);
    scale.durationMs = s * 1000;
  }
  const keyBytes = positiveInt('key-bytes', values['key-bytes'], DEFAULT_KEY_BYTES);
  if (keyBytes < 8) throw new Error(`--key-bytes must be at least 8, got ${keyBytes}`);
  const ids = WORKLOADS.map((w) => w.id);
  return {
    config: {
      seed: positiveInt('seed', values.seed, DEFAULT_SEED),
      keyBytes,
      valueBytes: positiveInt('value-bytes', values['value-bytes'], DEFAULT_VALUE_BYTES),
      quick,
      scale,
    },
    workloads: list('only', values.only, ids),
    targets: list<Target>('stores', values.stores, [...STORE_NAMES, 'disk']),
    ...(values.json === undefined ? {} : { json: values.json }),
    ...(values.markdown === undefined ? {} : { markdown: values.markdown }),
    save: values.save === true,
    ...(values.dir === undefined ? {} : { dir: values.dir }),
    keep: values.keep === true,
    syncCheck: values['no-sync-check'] !== true,
    timeoutMs: positiveInt('timeout', values.timeout, quick ? 180 : 3600) * 1000,
    ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: path.resolve(values['cpu-prof']) }),
    help: values.help === true,
  };
}
