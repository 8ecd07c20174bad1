/**
 * The model every scenario checks a reopened store against: the state that the acknowledged
 * operations imply, plus operations whose outcome is unknown (in flight at a kill or a power
 * cut, or rejected by a fault), each of which may have happened entirely or not at all.
 */
import { isWellFormed, opKeys, valueText } from './workload.mjs';

/** @typedef {import('./workload.mjs').Op} Op */
/** @typedef {{ kind: 'lost' | 'wrong' | 'ghost' | 'torn-batch' | 'scan', message: string }} Problem */

/**
 * Counts one reopen check in `stats` and the writes its problems say were lost; returns the
 * first problems as indented lines for a failure message, or null when there are none.
 * @param {import('./common.mjs').Stats} stats
 * @param {Problem[]} problems
 * @returns {string | null}
 */
export function tallyCheck(stats, problems) {
  stats.reopens++;
  if (problems.length === 0) return null;
  stats.lost += problems.filter((p) => p.kind === 'lost').length;
  return problems
    .slice(0, 8)
    .map((p) => `${p.kind}: ${p.message}`)
    .join('\n    ');
}

export class Model {
  constructor() {
    /** key -> value token of every key the acknowledged operations leave present */
    this.state = /** @type {Map<string, string>} */ (new Map());
    /** operations acknowledged (or adopted after a crash) */
    this.acked = 0;
  }

  /** @param {Op} op */
  apply(op) {
    applyTo(this.state, op);
    this.acked++;
  }

  /** Entries in key order (ASCII keys: string order is byte order). @returns {[string, string][]} */
  sorted() {
    return [...this.state.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** @param {Map<string, string>} state @param {Op} op */
function applyTo(state, op) {
  for (const i of op.type === 'batch' ? op.items : [op]) {
    if (i.type === 'put') state.set(i.key, i.value);
    else state.delete(i.key);
  }
}

const text = (/** @type {Uint8Array | undefined} */ v) =>
  v === undefined ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');

/** A short description of a value read from the store, for messages. */
function describeValue(/** @type {string | undefined} */ v) {
  if (v === undefined) return 'nothing';
  if (v === '') return "''";
  if (!isWellFormed(v)) return `garbage (${v.length} bytes: ${JSON.stringify(v.slice(0, 24))}...)`;
  return `value of ${v.slice(0, v.indexOf(';'))}`;
}

const expectedText = (/** @type {string | undefined} */ token) =>
  token === undefined ? 'nothing' : token === '-' ? "''" : `value of ${token}`;

/**
 * @typedef {object} CheckOptions
 * @property {Op[]} [unknown]     outcome unknown: each happened entirely or not at all (adopted into the model)
 * @property {Op[]} [notApplied]  rejected before they started: must have had no effect
 * @property {number} [ranges]    random bounded scans to compare with the model (default 12)
 */

/**
 * Checks an open store against the model: every key by get, full scans both ways, random
 * bounded scans with limits, and keys that must be absent. Adopts the outcome of each unknown
 * operation. Returns the problems found (empty: the store agrees).
 * @param {import('@kv/engine').KvStore} db
 * @param {Model} model
 * @param {import('./rng.mjs').Rng} rng
 * @param {CheckOptions} [options]
 * @returns {Problem[]}
 */
export function checkStore(db, model, rng, options = {}) {
  const unknown = options.unknown ?? [];
  const notApplied = options.notApplied ?? [];
  /** @type {Problem[]} */
  const problems = [];
  const read = (/** @type {string} */ key) => text(db.get(key));
  const uncertain = new Set(unknown.flatMap(opKeys));

  for (const [key, token] of model.state) {
    if (uncertain.has(key)) continue;
    const got = read(key);
    if (got === valueText(token)) continue;
    problems.push({
      kind: got === undefined || isWellFormed(got) ? 'lost' : 'wrong',
      message: `acknowledged ${key} = ${expectedText(token)}, get gives ${describeValue(got)}`,
    });
  }
  for (const op of notApplied) {
    for (const key of opKeys(op)) {
      if (uncertain.has(key) || model.state.has(key)) continue;
      const got = read(key);
      if (got !== undefined) {
        problems.push({
          kind: 'ghost',
          message: `rejected write of ${key} is visible: get gives ${describeValue(got)}`,
        });
      }
    }
  }
  for (const op of unknown) {
    const keys = [...new Set(opKeys(op))];
    const after = new Map(keys.map((k) => [k, model.state.get(k)]));
    applyTo(/** @type {Map<string, string>} */ (after), op);
    const got = keys.map(read);
    const was = keys.every(
      (k, i) => got[i] === (model.state.has(k) ? valueText(/** @type {string} */ (model.state.get(k))) : undefined),
    );
    const now = keys.every(
      (k, i) => got[i] === (after.get(k) === undefined ? undefined : valueText(/** @type {string} */ (after.get(k)))),
    );
    if (now && !was) model.apply(op);
    else if (!was && !now) {
      const detail = keys.map((k, i) => `${k}: ${describeValue(got[i])}`).join(', ');
      problems.push({
        kind: op.type === 'batch' ? 'torn-batch' : 'wrong',
        message: `in-flight ${op.type} is neither before nor after: ${detail}; op ${JSON.stringify(op).slice(0, 300)}`,
      });
    }
  }
  if (problems.length > 0) return problems;

  const expected = model.sorted();
  compareScan(db, {}, expected, problems);
  compareScan(db, { reverse: true }, [...expected].reverse(), problems);
  const keys = expected.map(([k]) => k);
  for (let i = 0; i < (options.ranges ?? 12) && problems.length === 0; i++) {
    const range = randomRange(rng, keys);
    compareScan(db, range, filterRange(expected, range), problems);
  }
  return problems;
}

/** Bounds drawn from the live keys, their neighbours, and worker prefixes. */
function randomRange(/** @type {import('./rng.mjs').Rng} */ rng, /** @type {string[]} */ keys) {
  const bound = () => {
    const base = keys.length > 0 && rng.chance(0.8) ? rng.pick(keys) : `w${rng.int(0, 5)}:`;
    const r = rng.next();
    return r < 0.5 ? base : r < 0.7 ? `${base}\u0000` : r < 0.85 ? base.slice(0, -1) : `${base}~`;
  };
  /** @type {import('@kv/engine').IteratorOptions} */
  const range = {};
  if (rng.chance(0.7)) range[rng.chance(0.5) ? 'gt' : 'gte'] = bound();
  if (rng.chance(0.7)) range[rng.chance(0.5) ? 'lt' : 'lte'] = bound();
  if (rng.chance(0.5)) range.reverse = true;
  if (rng.chance(0.4)) range.limit = rng.int(0, 20);
  return range;
}

/** @param {[string, string][]} sorted @param {import('@kv/engine').IteratorOptions} r */
function filterRange(sorted, r) {
  const s = (/** @type {unknown} */ b) => /** @type {string | undefined} */ (b);
  const gt = s(r.gt);
  const gte = s(r.gte);
  const lt = s(r.lt);
  const lte = s(r.lte);
  let out = sorted.filter(
    ([k]) =>
      (gt === undefined || k > gt) &&
      (gte === undefined || k >= gte) &&
      (lt === undefined || k < lt) &&
      (lte === undefined || k <= lte),
  );
  if (r.reverse === true) out = out.reverse();
  if (r.limit !== undefined) out = out.slice(0, r.limit);
  return out;
}

/**
 * @param {import('@kv/engine').KvStore} db
 * @param {import('@kv/engine').IteratorOptions} range
 * @param {[string, string][]} expected
 * @param {Problem[]} problems
 */
function compareScan(db, range, expected, problems) {
  const where = `scan ${JSON.stringify(range)}`;
  let i = 0;
  for (const [k, v] of db.iterator(range)) {
    const key = /** @type {string} */ (text(k));
    const value = /** @type {string} */ (text(v));
    const want = expected[i];
    if (want === undefined) {
      problems.push({
        kind: 'ghost',
        message: `${where} yields ${key} = ${describeValue(value)} past the model's ${expected.length} entries (get gives ${describeValue(text(db.get(key)))})`,
      });
      return;
    }
    if (key !== want[0] || value !== valueText(want[1])) {
      const kind = key === want[0] ? 'wrong' : key < want[0] ? 'ghost' : 'scan';
      problems.push({
        kind,
        message: `${where}, entry ${i}: yields ${key} = ${describeValue(value)}, model has ${want[0]} = ${expectedText(want[1])}`,
      });
      return;
    }
    i++;
  }
  if (i < expected.length) {
    const want = /** @type {[string, string]} */ (expected[i]);
    problems.push({ kind: 'scan', message: `${where} ends after ${i} entries; the model has ${want[0]} next` });
  }
}

/**
 * The weaker check for a power cut under sync 'none', where nothing after the last durable
 * point (a flush that completed) is promised: every key the durable state holds is still there
 * with its durable value or with a value a later write gave it (or gone, if a later write
 * deleted it); every other visible key holds a value some later write gave it; nothing is torn
 * or invented; a full scan agrees with get. Replaces `model.state` with what the store holds,
 * so later rounds continue from it.
 * @param {import('@kv/engine').KvStore} db
 * @param {Model} model            its state is the durable state
 * @param {Op[]} later             writes after the durable point, acknowledged or in flight, in order
 * @returns {Problem[]}
 */
export function checkDurablePrefix(db, model, later) {
  /** @type {Problem[]} */
  const problems = [];
  /** key -> every value (token, or undefined for absent) the key may now hold */
  const allowed = new Map();
  const allow = (/** @type {string} */ key, /** @type {string | undefined} */ token) => {
    let set = allowed.get(key);
    if (set === undefined) allowed.set(key, (set = new Set([model.state.get(key)])));
    set.add(token);
  };
  for (const key of model.state.keys()) allow(key, model.state.get(key));
  for (const op of later) {
    for (const i of op.type === 'batch' ? op.items : [op]) allow(i.key, i.type === 'put' ? i.value : undefined);
  }
  const tokenOf = (/** @type {string | undefined} */ v) =>
    v === undefined ? undefined : v === '' ? '-' : isWellFormed(v) ? v.slice(0, v.indexOf(';')) : null;
  /** @type {Map<string, string>} */
  const seen = new Map();
  for (const [key, set] of allowed) {
    const got = text(db.get(key));
    const token = tokenOf(got);
    if (token === null || !set.has(token)) {
      const lost = got === undefined;
      problems.push({
        kind: lost ? 'lost' : 'wrong',
        message: `${key}: get gives ${describeValue(got)}; durable ${expectedText(model.state.get(key))}, later writes allow ${[...set].map(expectedText).join(' | ')}`,
      });
    } else if (token !== undefined) {
      seen.set(key, token);
    }
  }
  for (const [k, v] of db.iterator()) {
    const key = Buffer.from(k).toString('latin1');
    const token = tokenOf(text(v));
    if (seen.get(key) !== token) {
      problems.push({ kind: 'scan', message: `scan shows ${key} = ${describeValue(text(v))}, get does not agree` });
      break;
    }
    seen.delete(key);
  }
  if (seen.size > 0)
    problems.push({ kind: 'scan', message: `a full scan misses ${[...seen.keys()].slice(0, 3).join(', ')}` });
  if (problems.length > 0) return problems;
  model.state.clear();
  for (const [k, v] of db.iterator())
    model.state.set(Buffer.from(k).toString('latin1'), /** @type {string} */ (tokenOf(text(v))));
  return problems;
}
