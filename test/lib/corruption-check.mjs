/**
 * One case of the corruption sweep, run inside a child process: copy the pristine store, damage
 * one file, open the store and read everything, and classify what happened:
 *
 * - 'detected': KV_CORRUPTION whose message names the damaged file;
 * - 'intact':   every read returned exactly the model's data (damage in bytes nobody trusts,
 *               or wiped as a torn tail without losing an entry);
 * - 'torn':     the damage was in the last WAL segment and the data is the model minus the
 *               last few writes, all of them in that segment: a bit flip at the very end of
 *               the log is indistinguishable from a torn write (FORMAT.md, "Honest
 *               downsides") and must be reported as a torn tail; a zeroed sector that holds
 *               the last frames whole is indistinguishable from writes that never reached the
 *               disk (no report possible). A truncation may cost only the final write, with a
 *               torn tail reported: a preallocated segment never shrinks in a crash, so a
 *               short file is damage, not a torn write;
 * - 'bad':      anything else: another error, a message not naming the file, wrong data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { isKvError } from '@kv/record';
import { valueText } from './workload.mjs';

/**
 * @typedef {object} DamageCase
 * @property {number} id
 * @property {string} file    path relative to the store directory
 * @property {'flip' | 'truncate' | 'zero'} kind
 * @property {number} offset  flip: byte offset; truncate: new length; zero: first byte of 512 zeroed
 * @property {number} [bit]   flip: the bit (0-7)
 */

/**
 * @typedef {object} Expectation
 * @property {[string, string][]} final      the model: key -> value token
 * @property {[string, string | null][][]} undo  per write, newest first: each key it touched and its token before
 * @property {string} lastSegment            relative path of the newest WAL segment
 * @property {number} lastSegmentFrames      writes whose frames are in it
 */

/** @typedef {{ outcome: 'detected' | 'intact' | 'torn' | 'bad', detail: string }} Verdict */

/** @param {string} file @param {DamageCase} c */
export function applyDamage(file, c) {
  const bytes = fs.readFileSync(file);
  if (c.kind === 'flip') {
    bytes[c.offset] = /** @type {number} */ (bytes[c.offset]) ^ (1 << (c.bit ?? 0));
    fs.writeFileSync(file, bytes);
  } else if (c.kind === 'zero') {
    bytes.fill(0, c.offset, Math.min(bytes.length, c.offset + 512));
    fs.writeFileSync(file, bytes);
  } else {
    fs.truncateSync(file, c.offset);
  }
}

const text = (/** @type {Uint8Array} */ v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');

/**
 * @param {string} pristine store directory to copy
 * @param {string} work     scratch directory (replaced)
 * @param {DamageCase} c
 * @param {Expectation} expect
 * @param {import('@kv/engine').KvStoreOptions} options
 * @returns {Promise<Verdict>}
 */
export async function runCase(pristine, work, c, expect, options) {
  fs.rmSync(work, { recursive: true, force: true });
  fs.cpSync(pristine, work, { recursive: true });
  applyDamage(path.join(work, c.file), c);
  const name = c.file === 'MANIFEST' ? 'MANIFEST' : path.basename(c.file);
  /** @type {KvStore | undefined} */
  let db;
  /** @type {Map<string, string>} */
  const seen = new Map();
  try {
    db = await KvStore.open(work, options);
    const forward = [...db.iterator()].map(([k, v]) => [text(k), text(v)]);
    const backward = [...db.iterator({ reverse: true })].map(([k, v]) => [text(k), text(v)]).reverse();
    const keys = new Set(expect.final.map(([k]) => k));
    for (const changes of expect.undo.slice(0, expect.lastSegmentFrames)) for (const [k] of changes) keys.add(k);
    for (const [k] of forward) keys.add(k);
    for (const key of keys) {
      const v = db.get(key);
      if (v !== undefined) seen.set(key, text(v));
    }
    const mismatch = forward.find(([k, v]) => seen.get(k) !== v);
    const disagreement =
      JSON.stringify(forward) !== JSON.stringify(backward)
        ? 'forward and reverse scans disagree'
        : mismatch !== undefined
          ? `scan and get disagree on ${mismatch[0]}`
          : forward.length !== seen.size
            ? 'get finds keys the scan does not'
            : null;
    if (disagreement !== null) {
      const detail = `${disagreement} (${describeRecovery(db)})`;
      await db.close().catch(() => {});
      return { outcome: 'bad', detail };
    }
  } catch (err) {
    await db?.close().catch(() => {});
    if (!isKvError(err, 'KV_CORRUPTION')) {
      const what = isKvError(err) ? `${err.code}: ${err.message}` : /** @type {Error} */ (err?.stack ?? String(err));
      return { outcome: 'bad', detail: `not KV_CORRUPTION: ${what}` };
    }
    if (!err.message.includes(name))
      return { outcome: 'bad', detail: `KV_CORRUPTION not naming ${name}: ${err.message}` };
    return { outcome: 'detected', detail: err.message.slice(0, 200) };
  }
  const torn = db.stats().recovery.wal.tornTail;
  const lost = writesLost(seen, expect);
  /** @type {Verdict} */
  let verdict;
  if (lost === 0) verdict = { outcome: 'intact', detail: torn === null ? '' : 'torn tail wiped, nothing lost' };
  else if (lost !== undefined && c.file === expect.lastSegment && tornTailAllowed(c, lost, torn)) {
    const where = torn === null ? 'a clean end' : `a torn tail at ${torn.offset}`;
    verdict = { outcome: 'torn', detail: `${where}: the last ${lost} writes are lost` };
  } else {
    const what = lost === undefined ? diff(seen, expect) : `it is the model without its last ${lost} writes`;
    verdict = {
      outcome: 'bad',
      detail: `opened without error but the data is wrong: ${what} (${describeRecovery(db)})`,
    };
  }
  // A store that recovered must take writes again.
  try {
    await db.put('corruption-probe', 'x');
    await db.close();
  } catch (err) {
    await db.close().catch(() => {});
    if (verdict.outcome !== 'bad') verdict = { outcome: 'bad', detail: `recovered, then a write failed: ${err}` };
  }
  return verdict;
}

/**
 * Whether losing the last `lost` writes to damage `c` of the last segment is a torn tail the
 * WAL cannot tell from a crash (see the verdicts above).
 * @param {DamageCase} c @param {number} lost @param {{ segment: string } | null} torn
 */
function tornTailAllowed(c, lost, torn) {
  const reported = torn !== null && torn.segment === path.basename(c.file);
  if (c.kind === 'zero') return true;
  if (c.kind === 'flip') return reported;
  return reported && lost === 1;
}

/** @param {KvStore} db */
function describeRecovery(db) {
  try {
    const { wal, replayed, skipped } = db.stats().recovery;
    return `recovery: replayed ${replayed}, skipped ${skipped}, torn tail ${JSON.stringify(wal.tornTail)}`;
  } catch {
    return 'store closed';
  }
}

/**
 * How many of the newest writes (all in the last segment) the data lacks: 0 when it is the
 * model, undefined when it is no such prefix of the history.
 * @param {Map<string, string>} seen @param {Expectation} expect
 */
function writesLost(seen, expect) {
  const state = new Map(expect.final);
  for (let j = 0; ; j++) {
    if (sameAs(seen, state)) return j;
    const changes = expect.undo[j];
    if (j >= expect.lastSegmentFrames || changes === undefined) return undefined;
    for (const [k, token] of changes) {
      if (token === null) state.delete(k);
      else state.set(k, token);
    }
  }
}

/** @type {Map<string, string>} */
const values = new Map();
const valueFor = (/** @type {string} */ token) => {
  let v = values.get(token);
  if (v === undefined) values.set(token, (v = valueText(token)));
  return v;
};

/** @param {Map<string, string>} seen @param {Map<string, string>} want */
function sameAs(seen, want) {
  if (seen.size !== want.size) return false;
  for (const [k, token] of want) if (seen.get(k) !== valueFor(token)) return false;
  return true;
}

/** @param {Map<string, string>} seen @param {Expectation} expect */
function diff(seen, expect) {
  const want = new Map(expect.final);
  const out = [];
  for (const [k, token] of want) {
    if (seen.get(k) !== valueFor(token)) out.push(`${k}: ${seen.has(k) ? 'wrong value' : 'missing'}`);
  }
  for (const k of seen.keys()) if (!want.has(k)) out.push(`${k}: present, the model deleted it`);
  return `${out.length} keys differ from the model (${out.slice(0, 4).join(', ')})`;
}
