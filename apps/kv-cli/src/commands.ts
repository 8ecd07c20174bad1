/**
 * The command registry: every command kv-cli knows, how a line of tokens finds its command,
 * `help`, `exit`, and tab completion. Commands with a space in their name ("wal dump") are
 * subcommands of a group ("wal").
 */
import { batchCommands } from './batch-commands.js';
import { type Args, type Command, parseArgs } from './command.js';
import { CliError, errorLine } from './errors.js';
import { loadCommands } from './load.js';
import { maintenanceCommands } from './maintenance-commands.js';
import type { Session } from './session.js';
import { sketchCommands } from './sketch-commands.js';
import { storeCommands } from './store-commands.js';
import { tailCommands } from './tail.js';
import { type Token, tokenize, tokenText } from './tokenize.js';
import { txCommands } from './tx-commands.js';
import { walCommands } from './wal-commands.js';

const exit: Command = {
  name: 'exit',
  usage: 'exit',
  summary: 'close the store and leave (also quit, or Ctrl-D)',
  arity: [0, 0],
  noStore: true,
  run(s) {
    s.exitRequested = true;
  },
};

const ALIASES: Readonly<Record<string, string>> = { quit: 'exit' };

const help: Command = {
  name: 'help',
  usage: 'help [COMMAND]',
  summary: 'list the commands, or explain one (help scan, help wal dump)',
  arity: [0, 2],
  noStore: true,
  run(s, a) {
    const words = a.positional.map((t) => tokenText(t).toLowerCase());
    if (words.length === 0) return printList(s, COMMANDS, true);
    const name = ALIASES[words.join(' ')] ?? words.join(' ');
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd !== undefined) {
      s.out.print(s.out.c.bold(cmd.usage));
      s.out.print(`  ${cmd.summary}`);
      for (const line of (cmd.details ?? '').split('\n').filter((l) => l !== '')) s.out.print(`  ${line}`);
      return;
    }
    const group = COMMANDS.filter((c) => c.name.startsWith(`${name} `));
    if (group.length > 0) return printList(s, group, false);
    throw unknownCommand(name);
  },
};

export const COMMANDS: readonly Command[] = [
  ...storeCommands,
  ...batchCommands,
  ...txCommands,
  ...sketchCommands,
  ...tailCommands,
  ...maintenanceCommands,
  ...walCommands,
  ...loadCommands,
  help,
  exit,
];

const GROUPS = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] as string));

function printList(s: Session, cmds: readonly Command[], footer: boolean): void {
  const { c } = s.out;
  const width = Math.max(...cmds.map((cmd) => cmd.usage.length));
  for (const cmd of cmds) s.out.print(`  ${c.bold(cmd.usage.padEnd(width))}  ${c.dim(cmd.summary)}`);
  if (!footer) return;
  s.out.print('');
  s.out.print('Keys and values: quote them to keep spaces ("a b" or \'a b\'); escapes \\n \\t \\" \\xHH;');
  s.out.print("binary as 0xCAFE or x'ca fe'. Output shows non-text bytes as 0x... hex.");
}

/** Edit distance counting a swap of neighbours as one edit, for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

function unknownCommand(name: string): CliError {
  const names = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0] as string)), ...Object.keys(ALIASES)];
  const close = names.filter((n) => distance(n, name) <= (name.length > 3 ? 2 : 1));
  const hint = close.length > 0 ? `did you mean ${close.map((n) => `"${n}"`).join(' or ')}? ` : '';
  return new CliError(`unknown command "${name}"; ${hint}type help for the list`);
}

function groupUsage(group: string): string {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `))
    .map((c) => c.usage)
    .join(' | ');
}

export interface Prepared {
  readonly command: Command;
  readonly args: Args;
}

/** Finds the command for a non-empty line of tokens and checks its arguments. Touches nothing. */
export function prepare(tokens: readonly Token[]): Prepared {
  const first = tokens[0];
  if (first === undefined) throw new Error('prepare needs at least one token');
  let name = tokenText(first).toLowerCase();
  let rest = tokens.slice(1);
  if (GROUPS.has(name)) {
    const sub = rest[0];
    if (sub === undefined) throw new CliError(`${name} needs a subcommand: ${groupUsage(name)}`);
    const full = `${name} ${tokenText(sub).toLowerCase()}`;
    if (!COMMANDS.some((c) => c.name === full)) {
      throw new CliError(`unknown subcommand "${full}"; ${name} has: ${groupUsage(name)}`);
    }
    name = full;
    rest = rest.slice(1);
  }
  const command = COMMANDS.find((c) => c.name === (ALIASES[name] ?? name));
  if (command === undefined) throw unknownCommand(name);
  return { command, args: parseArgs(command, rest) };
}

export async function execute(session: Session, p: Prepared): Promise<void> {
  session.resetInterrupt();
  await p.command.run(session, p.args);
}

/**
 * Runs one typed line: tokenize, find the command, check its arguments, run it. A failure is
 * reported as one error line (prefixed with `where`, e.g. "line 3: ") and returns false; the
 * store is untouched by any line that fails before its command runs.
 */
export async function runLine(session: Session, line: string, where = ''): Promise<boolean> {
  try {
    const tokens = tokenize(line);
    if (tokens.length > 0) await execute(session, prepare(tokens));
    return true;
  } catch (err) {
    session.out.error(`${where}${errorLine(err, session.dir)}`);
    return false;
  }
}

/**
 * Tab completion for node:readline: command names, subcommands after a group (`wal `, `batch `,
 * `tx `, `hll `, `cms `),
 * command names after `help `, and --options. Returns [candidates, the word being completed].
 */
export function complete(line: string): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const current = words.at(-1) ?? '';
  const done = words.slice(0, -1).map((w) => w.toLowerCase());
  let candidates: string[];
  if (done.length === 0) {
    candidates = [...new Set([...COMMANDS.map((c) => c.name.split(' ')[0] as string), ...Object.keys(ALIASES)])];
  } else if (done.length === 1 && GROUPS.has(done[0] as string)) {
    candidates = COMMANDS.filter((c) => c.name.startsWith(`${done[0]} `)).map((c) => c.name.split(' ')[1] as string);
  } else if (done[0] === 'help' && done.length <= 2) {
    const prefix = done.length === 2 ? `${done[1]} ` : '';
    candidates = COMMANDS.filter((c) => c.name.startsWith(prefix) && c.name !== done[1]).map(
      (c) => c.name.slice(prefix.length).split(' ')[0] as string,
    );
  } else if (current.startsWith('--')) {
    const name = GROUPS.has(done[0] ?? '') ? `${done[0]} ${done[1]}` : (done[0] ?? '');
    candidates = Object.keys(COMMANDS.find((c) => c.name === name)?.flags ?? {}).map((f) => `--${f}`);
  } else {
    candidates = [];
  }
  const hits = [...new Set(candidates)].filter((c) => c.startsWith(current.toLowerCase())).sort();
  return [hits.length === 1 ? [`${hits[0]} `] : hits, current];
}
