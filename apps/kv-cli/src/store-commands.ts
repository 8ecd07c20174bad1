import type { IteratorOptions } from '@kv/engine';
import { type Args, arg, type Command } from './command.js';
import { CliError } from './errors.js';
import { printTable, showBytes } from './format.js';
import { breathe, type Session } from './session.js';
import { checkWrite, showValue } from './values.js';

/** Rows a scan shows on a terminal without --limit: enough to look, not enough to flood. */
export const TTY_SCAN_ROWS = 1000;

function queued(s: Session): void {
  if (s.tx !== null) {
    s.out.print(s.out.c.dim(`buffered (${s.tx.size} pending; tx commit applies them)`));
    return;
  }
  const n = s.pending?.length ?? 0;
  s.out.print(s.out.c.dim(`queued (${n} pending; batch commit applies them)`));
}

const put: Command = {
  name: 'put',
  usage: 'put KEY VALUE',
  summary: 'store VALUE under KEY',
  details:
    'Replaces any earlier value. Inside a batch the write is queued until `batch commit`;\n' +
    'inside a transaction it is buffered until `tx commit` (and get sees it at once).',
  arity: [2, 2],
  async run(s, a) {
    const key = arg(a, 0).bytes;
    const value = arg(a, 1).bytes;
    checkWrite(key, value);
    if (s.tx !== null) {
      s.tx.put(key, value);
      return queued(s);
    }
    if (s.pending !== null) {
      s.pending.push({ type: 'put', key, value });
      return queued(s);
    }
    await s.ops.put(key, value);
    s.out.print('OK');
  },
};

const get: Command = {
  name: 'get',
  usage: 'get KEY',
  summary: 'show the value stored under KEY, or (nil)',
  details:
    'Values that are printable UTF-8 are shown as text, anything else as a 0x hex literal.\n' +
    'A sketch (hll add, cms add) is shown as a summary, e.g. (HyperLogLog sketch, 4101 bytes; use hll count).\n' +
    'Inside a batch, get reads the store as committed: queued writes are not visible yet.\n' +
    "Inside a transaction, get sees the transaction's own writes over the store.",
  arity: [1, 1],
  run(s, a) {
    const key = arg(a, 0).bytes;
    const value = s.tx === null ? s.ops.get(key) : s.tx.get(s.ops, key);
    s.out.print(value === undefined ? s.out.c.dim('(nil)') : showValue(s, key, value));
  },
};

const del: Command = {
  name: 'del',
  usage: 'del KEY',
  summary: 'delete KEY (deleting a missing key is not an error)',
  arity: [1, 1],
  async run(s, a) {
    const key = arg(a, 0).bytes;
    checkWrite(key);
    if (s.tx !== null) {
      s.tx.del(key);
      return queued(s);
    }
    if (s.pending !== null) {
      s.pending.push({ type: 'del', key });
      return queued(s);
    }
    await s.ops.delete(key);
    s.out.print('OK');
  },
};

function range(a: Args): { gte?: Uint8Array; lt?: Uint8Array } {
  const from = a.positional[0];
  const to = a.positional[1];
  return {
    ...(from === undefined ? {} : { gte: from.bytes }),
    ...(to === undefined ? {} : { lt: to.bytes }),
  };
}

/** The entries in a range as the session sees them: through the open transaction, if any. */
function* entries(s: Session, a: Args, reverse: boolean, limit?: number): Generator<[Uint8Array, Uint8Array]> {
  if (s.tx === null) {
    const opts: IteratorOptions = { ...range(a), reverse, ...(limit === undefined ? {} : { limit }) };
    yield* s.ops.iterator(opts);
    return;
  }
  if (limit === 0) return;
  let n = 0;
  for (const e of s.tx.entries(s.ops, range(a), reverse)) {
    yield e;
    if (++n === limit) return;
  }
}

const scan: Command = {
  name: 'scan',
  usage: 'scan [FROM [TO]] [--limit N] [--reverse]',
  summary: 'list keys and values in key order, FROM inclusive, TO exclusive',
  details:
    'Keys compare bytewise. --reverse walks from the end of the range backwards.\n' +
    "A sketch shows as a summary. Inside a transaction, scan sees the transaction's own writes.\n" +
    `On a terminal the result is a table of at most ${TTY_SCAN_ROWS} rows unless --limit says otherwise;\n` +
    'piped, every entry is one line: KEY<tab>VALUE.',
  arity: [0, 2],
  flags: { limit: 'count', reverse: 'switch' },
  async run(s, a) {
    const limit = a.flags.get('limit') as number | undefined;
    const reverse = a.flags.has('reverse');
    const { out } = s;
    if (!out.tty) {
      let n = 0;
      for (const [k, v] of entries(s, a, reverse, limit)) {
        out.print(`${showBytes(k, out.c)}\t${showValue(s, k, v)}`);
        if (++n % 1000 === 0) {
          await breathe();
          if (s.interrupted) break;
        }
      }
      return;
    }
    const shown = limit ?? TTY_SCAN_ROWS;
    const cell = Math.max(16, Math.floor((out.columns - 7) / 2));
    const rows: string[][] = [];
    let more = false;
    for (const [k, v] of entries(s, a, reverse, shown + 1)) {
      if (rows.length === shown) {
        more = limit === undefined;
        break;
      }
      rows.push([showBytes(k, out.c, cell), showValue(s, k, v, cell)]);
    }
    if (rows.length > 0) printTable(out, ['key', 'value'], rows);
    const tail = more ? `; more follow, use --limit N to see them` : '';
    out.print(out.c.dim(`(${rows.length} ${rows.length === 1 ? 'entry' : 'entries'}${tail})`));
  },
};

const count: Command = {
  name: 'count',
  usage: 'count [FROM [TO]]',
  summary: 'count the keys (in a range: FROM inclusive, TO exclusive)',
  details: "Inside a transaction, count sees the transaction's own writes.",
  arity: [0, 2],
  async run(s, a) {
    let n = 0;
    for (const _ of entries(s, a, false)) {
      if (++n % 10_000 === 0) {
        await breathe();
        if (s.interrupted) throw new CliError(`count interrupted after ${n} keys`);
      }
    }
    s.out.print(String(n));
  },
};

export const storeCommands: readonly Command[] = [put, get, del, scan, count];
