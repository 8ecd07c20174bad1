/**
 * `tail`: the store's changes feed (db.changes), printed as the writes happen.
 */
import type { Change } from '@kv/engine';
import type { Command } from './command.js';
import { showBytes, sketchShape, sketchSummary } from './format.js';
import { breathe, type Session } from './session.js';
import { jsonBytes } from './wal-commands.js';

/** One change as a line: tab-separated when piped, spaced and coloured on a terminal. */
function changeLine(s: Session, ch: Change, json: boolean): string {
  const { out } = s;
  const { c } = out;
  if (json) {
    const value = ch.value === undefined ? null : jsonBytes(ch.value);
    return JSON.stringify({ seq: ch.seq, op: ch.type, key: jsonBytes(ch.key), value });
  }
  // The feed carries no record type: a sketch is recognised by its bytes alone.
  const shape = ch.value === undefined ? undefined : sketchShape(ch.value);
  const value =
    ch.value === undefined
      ? undefined
      : shape === undefined
        ? showBytes(ch.value, c)
        : sketchSummary(shape, ch.value.length, c);
  const fields = [String(ch.seq), ch.type, showBytes(ch.key, c), ...(value === undefined ? [] : [value])];
  if (!out.tty) return fields.join('\t');
  fields[0] = c.dim(fields[0] as string);
  fields[1] = ch.type === 'del' ? c.red(ch.type) : c.green(ch.type);
  return fields.join('  ');
}

const STOP = Symbol('stop');

const tail: Command = {
  name: 'tail',
  usage: 'tail [--since SEQ] [--limit N] [--json]',
  summary: 'print changes as they happen: SEQ put KEY VALUE / SEQ del KEY, until Ctrl-C',
  details:
    'Without --since it shows only new writes; --since SEQ first replays every write after SEQ that\n' +
    'the WAL still holds (--since 0: all of them), then follows. Writes already flushed to tables\n' +
    'and gone from the WAL cannot be replayed: that is an error, never a silent gap.\n' +
    '--limit N stops after N changes. Ctrl-C stops it (in the REPL, back to the prompt); as a\n' +
    'one-shot command SIGINT or SIGTERM stops it, closes the store and exits 0.\n' +
    'Piped: SEQ<tab>put<tab>KEY<tab>VALUE and SEQ<tab>del<tab>KEY lines. --json: one object per\n' +
    'line, {"seq","op","key","value"} as in wal dump --json.\n' +
    'The store is open in one process at a time, so new changes come from this process only.',
  arity: [0, 0],
  flags: { since: 'count', limit: 'count', json: 'switch' },
  untilInterrupted: true,
  async run(s, a) {
    const since = (a.flags.get('since') as number | undefined) ?? s.store.stats().lastSeq;
    const limit = a.flags.get('limit') as number | undefined;
    const json = a.flags.has('json');
    const { out } = s;
    if (out.tty) {
      const from = since === 0 ? 'from the start of the WAL' : `after seq ${since}`;
      out.print(out.c.dim(`tailing changes ${from}; Ctrl-C stops`));
    }
    const feed = s.store.changes({ since });
    const stop = s.whenInterrupted().then(() => STOP);
    let n = 0;
    let next: Promise<IteratorResult<Change, void>> | undefined;
    // Waiting on the feed holds no handle: without this timer a one-shot tail with nothing
    // else open would let Node end the process as if the work were done.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      while (limit === undefined || n < limit) {
        next = feed.next();
        const got = await Promise.race([next, stop]);
        if (typeof got === 'symbol' || got.done === true) break;
        next = undefined;
        out.print(changeLine(s, got.value, json));
        // A replay resolves at once, again and again: let Ctrl-C and output through now and then.
        if (++n % 1000 === 0) await breathe();
        if (s.interrupted) break;
      }
    } finally {
      clearInterval(keepAlive);
      // Stopped while waiting: that next() settles when a write arrives or the store closes;
      // the generator then finishes (return() is queued behind it). Nobody awaits either.
      next?.catch(() => {});
      feed.return(undefined).catch(() => {});
    }
    if (out.tty) out.print(out.c.dim(`(${n} ${n === 1 ? 'change' : 'changes'})`));
  },
};

export const tailCommands: readonly Command[] = [tail];
