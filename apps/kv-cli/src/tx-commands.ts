import type { Command } from './command.js';
import { CliError } from './errors.js';
import { showBytes } from './format.js';
import type { Session } from './session.js';
import { Transaction } from './transaction.js';

function writes(n: number): string {
  return `${n} ${n === 1 ? 'write' : 'writes'}`;
}

function open(s: Session): Transaction {
  if (s.tx === null) throw new CliError('no transaction is open; start one with: tx begin');
  return s.tx;
}

const begin: Command = {
  name: 'tx begin',
  usage: 'tx begin',
  summary: 'start a transaction: get sees its own writes, tx commit applies them atomically',
  details:
    'Until tx commit or tx abort, put and del are buffered in the transaction, and get, scan and\n' +
    'count see them over the store. tx commit checks that every value get read from the store is\n' +
    'unchanged, then applies the writes with one db.transaction(): all of them or none, across a\n' +
    'crash too. The transaction is serializable: the store is open in this process only, and while\n' +
    'it is open kv-cli refuses the commands that would write around it (batch, hll add, cms add,\n' +
    'load), so nothing else writes to the store in the meantime.\n' +
    'A later write to a key replaces an earlier one; the prompt shows how many keys are written.\n' +
    'batch and tx do not mix: one of them is open at a time.',
  arity: [0, 0],
  run(s) {
    if (s.mode === 'once') {
      throw new CliError(
        'a transaction spans several commands: run it in the REPL (kv-cli) or pipe a script to kv-cli',
      );
    }
    if (s.tx !== null) {
      throw new CliError(`a transaction is already open (${writes(s.tx.size)} pending); tx commit or tx abort first`);
    }
    if (s.pending !== null) {
      throw new CliError(
        `a batch is open (${writes(s.pending.length)} pending) and batch and tx do not mix; batch commit or batch abort first`,
      );
    }
    s.tx = new Transaction();
    s.out.print('OK: transaction open; put and del are buffered until tx commit, get sees them');
  },
};

const commit: Command = {
  name: 'tx commit',
  usage: 'tx commit',
  summary: "apply the transaction's writes atomically: all of them or none",
  arity: [0, 0],
  async run(s) {
    const tx = open(s);
    // On failure the transaction stays open, so it can be retried or aborted.
    await s.ops.transaction((t) => tx.applyTo(t, (key) => showBytes(key, s.out.c)));
    s.tx = null;
    s.out.print(`OK: committed ${writes(tx.size)}`);
  },
};

const abort: Command = {
  name: 'tx abort',
  usage: 'tx abort',
  summary: "drop the transaction's writes; the store is unchanged",
  arity: [0, 0],
  run(s) {
    const tx = open(s);
    s.tx = null;
    s.out.print(`OK: rolled back ${writes(tx.size)}`);
  },
};

export const txCommands: readonly Command[] = [begin, commit, abort];

/** For commands that write around a batch or a transaction: refuses while one is open. */
export function refuseInsideBatchOrTx(s: Session, what: string): void {
  if (s.tx !== null) {
    throw new CliError(`${what} would write outside the open transaction; tx commit or tx abort first`);
  }
  if (s.pending !== null) {
    throw new CliError(`${what} cannot be queued in a batch; batch commit or batch abort first`);
  }
}
