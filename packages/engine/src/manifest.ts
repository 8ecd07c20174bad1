import * as path from 'node:path';
import { ioError, KvError, xxh32 } from '@kv/record';
import type { EngineFs } from './fs.js';

/*
 * MANIFEST: the list of live tables by level and the WAL low-water mark, replaced atomically
 * (write MANIFEST.tmp, fdatasync, rename, fsync the directory). Layout, one text file:
 *
 *   kv-manifest <version> <xxh32 of the JSON, 8 hex digits>\n
 *   <JSON of ManifestState>
 *
 * Version 1: `levels` only; every table is a run of its own. Version 2 adds `runs`, the length
 * of each run in `levels` order, for runs of several tables (split compaction output). A
 * manifest whose runs are all one table long is written as version 1, byte for byte what
 * older binaries write and read correctly; any longer run makes it version 2, which older
 * binaries refuse ("unknown manifest version 2") instead of ignoring `runs` and taking every
 * table of a run for a run of its own (which would compact the level again and again).
 */
const MAGIC = 'kv-manifest';
const VERSION_TABLE_RUNS = 1;
const VERSION_RUNS = 2;
const SEED = 0x6b764d46; // "kvMF"
export const MANIFEST_FILE = 'MANIFEST';

export interface ManifestState {
  /** Id the next table file gets. */
  nextTableId: number;
  /** Every write with seq <= flushedSeq is in a table (or superseded): replay skips them. */
  flushedSeq: number;
  /** Highest seq in any table. */
  lastSeq: number;
  /** levels[i] lists table ids, newest run first; within a run, in key order. */
  levels: number[][];
  /**
   * runs[i] lists the length of each run of levels[i], in the same order: they add up to
   * levels[i].length. Version 1 files have no `runs` (each table is a run); decoding fills it in.
   */
  runs: number[][];
}

export function emptyManifest(maxLevels: number): ManifestState {
  const levels = Array.from({ length: maxLevels }, () => []);
  return { nextTableId: 1, flushedSeq: 0, lastSeq: 0, levels, runs: Array.from({ length: maxLevels }, () => []) };
}

export function encodeManifest(state: ManifestState): Uint8Array {
  const { nextTableId, flushedSeq, lastSeq, levels, runs } = state;
  const single = runs.every((level) => level.every((n) => n === 1));
  const body = single
    ? { nextTableId, flushedSeq, lastSeq, levels }
    : { nextTableId, flushedSeq, lastSeq, levels, runs };
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const version = single ? VERSION_TABLE_RUNS : VERSION_RUNS;
  const head = Buffer.from(`${MAGIC} ${version} ${xxh32(json, SEED).toString(16).padStart(8, '0')}\n`, 'utf8');
  return Buffer.concat([head, json]);
}

export function decodeManifest(bytes: Uint8Array, file: string): ManifestState {
  const bad = (why: string) => new KvError('KV_CORRUPTION', `${file}: ${why}; the store cannot be opened safely`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = text.indexOf(10);
  if (nl < 0 || nl > 64) throw bad('no header line');
  const [magic, version, sum] = text.subarray(0, nl).toString('latin1').split(' ');
  if (magic !== MAGIC) throw bad('not a kv manifest');
  if (version !== String(VERSION_TABLE_RUNS) && version !== String(VERSION_RUNS)) {
    throw bad(`unknown manifest version ${version}`);
  }
  const json = text.subarray(nl + 1);
  if (sum !== xxh32(json, SEED).toString(16).padStart(8, '0')) throw bad('checksum mismatch');
  let state: ManifestState;
  try {
    state = JSON.parse(json.toString('utf8')) as ManifestState;
  } catch (err) {
    throw bad(`unreadable JSON (${(err as Error).message})`);
  }
  const nat = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (state === null || typeof state !== 'object') throw bad('missing or impossible fields');
  if (!nat(state.nextTableId) || !nat(state.flushedSeq) || !nat(state.lastSeq) || !Array.isArray(state.levels)) {
    throw bad('missing or impossible fields');
  }
  for (const level of state.levels) {
    if (!Array.isArray(level) || !level.every((id) => nat(id) && id < state.nextTableId)) throw bad('bad table list');
  }
  if (version === String(VERSION_TABLE_RUNS)) {
    // Each table is a run of its own, as version 1 writers meant.
    if ((state as Partial<ManifestState>).runs !== undefined) throw bad('a version 1 manifest has no runs');
    return { ...state, runs: state.levels.map((level) => level.map(() => 1)) };
  }
  checkRuns(state, bad);
  return state;
}

/** Every level's run lengths are positive and add up to its table count. */
function checkRuns(state: ManifestState, bad: (why: string) => KvError): void {
  const runs: unknown = state.runs;
  if (!Array.isArray(runs) || runs.length !== state.levels.length) {
    throw bad('runs must list the run lengths of every level');
  }
  runs.forEach((lengths: unknown, i) => {
    const tables = (state.levels[i] as number[]).length;
    if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n > 0)) {
      throw bad(`level ${i}: run lengths must be positive integers`);
    }
    const sum = lengths.reduce((a: number, n: number) => a + n, 0);
    if (sum !== tables) throw bad(`level ${i}: runs add up to ${sum} tables, the level lists ${tables}`);
  });
}

export async function readManifest(dir: string, fs: EngineFs): Promise<ManifestState | undefined> {
  const file = path.join(dir, MANIFEST_FILE);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw ioError(`reading ${file}`, err);
  }
  return bytes === undefined ? undefined : decodeManifest(bytes, file);
}

export async function writeManifest(dir: string, state: ManifestState, fs: EngineFs): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const temp = `${file}.tmp`;
  try {
    await fs.writeFileSynced(temp, encodeManifest(state));
    await fs.rename(temp, file);
    await fs.fsyncDir(dir);
  } catch (err) {
    throw ioError(`replacing ${file}`, err);
  }
}

export function tableFileName(id: number): string {
  return `${String(id).padStart(12, '0')}.sst`;
}
