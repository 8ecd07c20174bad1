import * as path from 'node:path';
import { ioError, KvError, xxh32 } from '@kv/record';
import type { EngineFs } from './fs.js';

/*
 * MANIFEST: the list of live tables by level and the WAL low-water mark, replaced atomically
 * (write MANIFEST.tmp, fdatasync, rename, fsync the directory). Layout, one text file:
 *
 *   kv-manifest 1 <xxh32 of the JSON, 8 hex digits>\n
 *   <JSON of ManifestState>
 */
const MAGIC = 'kv-manifest';
const VERSION = 1;
const SEED = 0x6b764d46; // "kvMF"
export const MANIFEST_FILE = 'MANIFEST';

export interface ManifestState {
  /** Id the next table file gets. */
  nextTableId: number;
  /** Every write with seq <= flushedSeq is in a table (or superseded): replay skips them. */
  flushedSeq: number;
  /** Highest seq in any table. */
  lastSeq: number;
  /** levels[i] lists table ids, newest run first. */
  levels: number[][];
}

export function emptyManifest(maxLevels: number): ManifestState {
  return { nextTableId: 1, flushedSeq: 0, lastSeq: 0, levels: Array.from({ length: maxLevels }, () => []) };
}

export function encodeManifest(state: ManifestState): Uint8Array {
  const json = Buffer.from(JSON.stringify(state), 'utf8');
  const head = Buffer.from(`${MAGIC} ${VERSION} ${xxh32(json, SEED).toString(16).padStart(8, '0')}\n`, 'utf8');
  return Buffer.concat([head, json]);
}

export function decodeManifest(bytes: Uint8Array, file: string): ManifestState {
  const bad = (why: string) => new KvError('KV_CORRUPTION', `${file}: ${why}; the store cannot be opened safely`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = text.indexOf(10);
  if (nl < 0 || nl > 64) throw bad('no header line');
  const [magic, version, sum] = text.subarray(0, nl).toString('latin1').split(' ');
  if (magic !== MAGIC) throw bad('not a kv manifest');
  if (version !== String(VERSION)) throw bad(`unknown manifest version ${version}`);
  const json = text.subarray(nl + 1);
  if (sum !== xxh32(json, SEED).toString(16).padStart(8, '0')) throw bad('checksum mismatch');
  let state: ManifestState;
  try {
    state = JSON.parse(json.toString('utf8')) as ManifestState;
  } catch (err) {
    throw bad(`unreadable JSON (${(err as Error).message})`);
  }
  const nat = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!nat(state.nextTableId) || !nat(state.flushedSeq) || !nat(state.lastSeq) || !Array.isArray(state.levels)) {
    throw bad('missing or impossible fields');
  }
  for (const level of state.levels) {
    if (!Array.isArray(level) || !level.every((id) => nat(id) && id < state.nextTableId)) throw bad('bad table list');
  }
  return state;
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
