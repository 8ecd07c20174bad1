/**
 * Probabilistic sketches stored under a key: HyperLogLog (how many distinct items) and
 * Count-Min Sketch (how often an item occurred). The engine stores them as typed records and
 * refuses a sketch command on a key holding anything else; kv-cli checks first so the message
 * can name what the key holds.
 */
import { type Args, arg, type Command } from './command.js';
import { CliError } from './errors.js';
import { type SketchKind, showBytes } from './format.js';
import type { Session } from './session.js';
import { tokenText } from './tokenize.js';
import { refuseInsideBatchOrTx } from './tx-commands.js';
import { checkWrite, storedKind, type ValueKind } from './values.js';

const NAMES: Readonly<Record<ValueKind, string>> = {
  absent: 'nothing',
  plain: 'a plain value',
  HyperLogLog: 'a HyperLogLog',
  CountMinSketch: 'a Count-Min Sketch',
};

/** The key argument, checked to hold a sketch of `kind` or nothing (`exists` says which). */
function sketchKey(s: Session, a: Args, kind: SketchKind): { key: Uint8Array; exists: boolean } {
  const key = arg(a, 0).bytes;
  checkWrite(key);
  const held = storedKind(s, key);
  if (held !== 'absent' && held !== kind) {
    throw new CliError(
      `${showBytes(key, s.out.c)} holds ${NAMES[held]}, not ${NAMES[kind]}; use another key, or del it first (KV_INVALID_ARGUMENT)`,
    );
  }
  return { key, exists: held !== 'absent' };
}

const hllAdd: Command = {
  name: 'hll add',
  usage: 'hll add KEY ITEM...',
  summary: 'add items to the HyperLogLog at KEY (created if missing); prints the new estimate',
  details:
    'A HyperLogLog estimates how many distinct items were added, in 4 KiB whatever the number:\n' +
    'adding an item again changes nothing. The estimate is within about 1.6% (one standard error).\n' +
    'Items are bytes like keys: quote them, or write 0x... for binary. The add is one atomic write.',
  arity: [2, Number.POSITIVE_INFINITY],
  async run(s, a) {
    refuseInsideBatchOrTx(s, 'hll add');
    const { key } = sketchKey(s, a, 'HyperLogLog');
    const items = a.positional.slice(1).map((t) => t.bytes);
    s.out.print(String(Math.round(await s.store.hllAdd(key, items))));
  },
};

const hllCount: Command = {
  name: 'hll count',
  usage: 'hll count KEY',
  summary: 'the estimated number of distinct items in the HyperLogLog at KEY (0 if none)',
  arity: [1, 1],
  run(s, a) {
    const { key, exists } = sketchKey(s, a, 'HyperLogLog');
    s.out.print(String(exists ? Math.round(s.store.hllCount(key)) : 0));
  },
};

/** The COUNT argument: a whole number from 1. */
function occurrences(a: Args): number {
  const t = a.positional[2];
  if (t === undefined) return 1;
  const text = tokenText(t);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(`COUNT must be a whole number from 1, got "${text}": cms add KEY ITEM [COUNT]`);
  }
  return n;
}

const cmsAdd: Command = {
  name: 'cms add',
  usage: 'cms add KEY ITEM [COUNT]',
  summary: 'add COUNT (default 1) occurrences of ITEM to the Count-Min Sketch at KEY; prints its estimate',
  details:
    'A Count-Min Sketch estimates how often each item occurred, in fixed space (5 rows of 272 counters).\n' +
    'An estimate is never below the true count, and above it by at most 1% of the total count\n' +
    'with 99% probability. The sketch is created on first use; each add is one atomic write.',
  arity: [2, 3],
  async run(s, a) {
    refuseInsideBatchOrTx(s, 'cms add');
    const count = occurrences(a);
    const { key } = sketchKey(s, a, 'CountMinSketch');
    s.out.print(String(await s.store.cmsAdd(key, arg(a, 1).bytes, count)));
  },
};

const cmsQuery: Command = {
  name: 'cms query',
  usage: 'cms query KEY ITEM',
  summary: 'the estimated occurrences of ITEM in the Count-Min Sketch at KEY (0 if never added)',
  arity: [2, 2],
  run(s, a) {
    const { key, exists } = sketchKey(s, a, 'CountMinSketch');
    s.out.print(String(exists ? s.store.cmsQuery(key, arg(a, 1).bytes) : 0));
  },
};

export const sketchCommands: readonly Command[] = [hllAdd, hllCount, cmsAdd, cmsQuery];
