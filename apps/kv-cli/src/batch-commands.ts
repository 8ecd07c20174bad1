import type { Command } from './command.js';
import { CliError } from './errors.js';
import type { Session } from './session.js';

function writes(n: number): string {
  return `${n} ${n === 1 ? 'write' : 'writes'}`;
}

function open(s: Session): NonNullable<Session['pending']> {
  if (s.pending === null) throw new CliError('no batch is open; start one with: batch begin');
  return s.pending;
}

const begin: Command = {
  name: 'batch begin',
  usage: 'batch begin',
  summary: 'start queueing put and del; nothing is written until batch commit',
  details: 'The prompt shows how many writes are pending. get and scan still read the committed store.',
  arity: [0, 0],
  run(s) {
    if (s.mode === 'once') {
      throw new CliError('a batch spans several commands: run it in the REPL (kv-cli) or pipe a script to kv-cli');
    }
    if (s.pending !== null) {
      throw new CliError(
        `a batch is already open (${writes(s.pending.length)} pending); batch commit or batch abort first`,
      );
    }
    if (s.tx !== null) {
      throw new CliError(
        `a transaction is open (${writes(s.tx.size)} pending) and batch and tx do not mix; tx commit or tx abort first`,
      );
    }
    s.pending = [];
    s.out.print('OK: batch open; put and del are queued until batch commit');
  },
};

const commit: Command = {
  name: 'batch commit',
  usage: 'batch commit',
  summary: 'apply the queued writes atomically: all of them or, after a crash, none',
  arity: [0, 0],
  async run(s) {
    const ops = open(s);
    // On failure the batch stays open, so it can be retried or aborted.
    await s.ops.batch(ops);
    s.pending = null;
    s.out.print(`OK: committed ${writes(ops.length)}`);
  },
};

const abort: Command = {
  name: 'batch abort',
  usage: 'batch abort',
  summary: 'drop the queued writes; the store is unchanged',
  arity: [0, 0],
  run(s) {
    const ops = open(s);
    s.pending = null;
    s.out.print(`OK: dropped ${writes(ops.length)}`);
  },
};

export const batchCommands: readonly Command[] = [begin, commit, abort];
