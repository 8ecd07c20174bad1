/**
 * The random workload every scenario runs: workers that each own a disjoint set of keys and
 * issue one operation at a time (put, delete, batch; small and large values; overwrites), so
 * at any moment each worker has at most one operation whose outcome is unknown.
 *
 * Operations are plain JSON (`{ type: 'put', key, value: token }`); a value is generated from
 * its token, and every value names its own token, so a reader can tell a right value from a
 * wrong one without a copy of the model.
 */

/** @typedef {{ type: 'put', key: string, value: string }} PutOp */
/** @typedef {{ type: 'del', key: string }} DelOp */
/** @typedef {PutOp | DelOp | { type: 'batch', items: (PutOp | DelOp)[] }} Op */

/**
 * @typedef {object} Profile
 * @property {number} keysPerWorker  distinct keys each worker writes
 * @property {number} delChance      probability that an operation is a delete
 * @property {number} batchChance    probability that an operation is a batch
 * @property {number} maxBatchItems
 * @property {number} bigValueChance probability that a single put carries a large value
 * @property {number} maxBigValue    largest value in bytes (large values are uniform up to it)
 * @property {number} maxSmallValue
 */

/** @type {Readonly<Profile>} */
export const DEFAULT_PROFILE = Object.freeze({
  keysPerWorker: 48,
  delChance: 0.2,
  batchChance: 0.15,
  maxBatchItems: 6,
  bigValueChance: 0.03,
  maxBigValue: 100 * 1024,
  maxSmallValue: 300,
});

/** The token of the empty value. */
const EMPTY = '-';

/**
 * The value a token stands for: the token, ';', repeated up to the length the token names
 * (`<id>/<length>`). Every value starts with its own token.
 * @param {string} token
 */
export function valueText(token) {
  if (token === EMPTY) return '';
  const slash = token.lastIndexOf('/');
  const unit = `${token};`;
  const length = Math.max(Number(token.slice(slash + 1)), unit.length);
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/**
 * Whether `value` is exactly the value of the token it starts with (what any value written by
 * this workload must be; anything else is torn or garbage).
 * @param {string} value
 */
export function isWellFormed(value) {
  if (value === '') return true;
  const semi = value.indexOf(';');
  return semi > 0 && valueText(value.slice(0, semi)) === value;
}

/** Keys of worker `w`: varied lengths, many sharing prefixes, all ASCII (string order is byte order). */
export function keyName(/** @type {number} */ w, /** @type {number} */ k) {
  const spread = (Math.imul(k + 1, 2654435761) >>> 0).toString(36);
  return `w${w}:${spread.slice(0, 1 + (k % 5))}${k}`;
}

/** @param {Op} op @returns {string[]} */
export function opKeys(op) {
  return op.type === 'batch' ? op.items.map((i) => i.key) : [op.key];
}

/** Generates the operations of one worker. */
export class OpSource {
  /**
   * @param {import('./rng.mjs').Rng} rng
   * @param {number} worker
   * @param {string} tag unique per process run, so every value token ever written is unique
   * @param {Profile} profile
   */
  constructor(rng, worker, tag, profile) {
    this.rng = rng;
    this.worker = worker;
    this.tag = tag;
    this.profile = profile;
    this.counter = 0;
  }

  /** @returns {Op} */
  next() {
    const { rng, profile } = this;
    const r = rng.next();
    if (r < profile.delChance) return { type: 'del', key: this.key() };
    if (r < profile.delChance + profile.batchChance) {
      const items = Array.from({ length: rng.int(2, profile.maxBatchItems) }, () =>
        rng.chance(0.75)
          ? /** @type {PutOp} */ ({ type: 'put', key: this.key(), value: this.token(false) })
          : /** @type {DelOp} */ ({ type: 'del', key: this.key() }),
      );
      return { type: 'batch', items };
    }
    return { type: 'put', key: this.key(), value: this.token(true) };
  }

  key() {
    return keyName(this.worker, this.rng.int(0, this.profile.keysPerWorker - 1));
  }

  /** @param {boolean} mayBeBig */
  token(mayBeBig) {
    const { rng, profile } = this;
    if (rng.chance(0.01)) return EMPTY;
    const length =
      mayBeBig && rng.chance(profile.bigValueChance)
        ? rng.int(profile.maxSmallValue, profile.maxBigValue)
        : rng.int(0, profile.maxSmallValue);
    return `${this.tag}w${this.worker}n${this.counter++}/${length}`;
  }
}

/**
 * Applies `op` to the store.
 * @param {import('@kv/engine').KvStore} db
 * @param {Op} op
 * @returns {Promise<void>}
 */
export function applyOp(db, op) {
  if (op.type === 'put') return db.put(op.key, valueText(op.value));
  if (op.type === 'del') return db.delete(op.key);
  return db.batch(op.items.map((i) => (i.type === 'put' ? { type: 'put', key: i.key, value: valueText(i.value) } : i)));
}

/**
 * @typedef {object} WorkerHooks
 * @property {() => boolean} stop              checked before every operation
 * @property {(w: number, op: Op) => void} issue  called just before the operation starts
 * @property {(w: number, op: Op) => void} ack    called once it resolved
 * @property {(w: number, op: Op, err: unknown) => void} reject
 */

/**
 * Runs `workers` concurrent workers until `hooks.stop()` says so. Resolves when every worker
 * has stopped; a worker whose operation never settles (a simulated power cut) never stops, so
 * callers that cut the power race this promise against the cut.
 * @param {import('@kv/engine').KvStore} db
 * @param {import('./rng.mjs').Rng} rng
 * @param {{ workers: number, tag: string, profile: Profile }} config
 * @param {WorkerHooks} hooks
 */
export async function runWorkers(db, rng, config, hooks) {
  const one = async (/** @type {number} */ w) => {
    const source = new OpSource(rng.fork(`worker${w}`), w, config.tag, config.profile);
    while (!hooks.stop()) {
      const op = source.next();
      hooks.issue(w, op);
      try {
        await applyOp(db, op);
        hooks.ack(w, op);
      } catch (err) {
        hooks.reject(w, op, err);
        // A failed store rejects at once: yield so a rejecting loop cannot starve the event loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
  await Promise.all(Array.from({ length: config.workers }, (_, w) => one(w)));
}
