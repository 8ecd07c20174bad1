import { CliError } from './errors.js';
import type { Session } from './session.js';
import type { Token } from './tokenize.js';

/** A command's --options: a switch, or one taking a whole number (--limit 10 or --limit=10). */
export type FlagKind = 'switch' | 'count';

export interface Args {
  readonly positional: readonly Token[];
  /** Given flags by name without dashes: true for a switch, the number for a count. */
  readonly flags: ReadonlyMap<string, true | number>;
}

export interface Command {
  /** 'get', or 'wal dump' for a subcommand. */
  readonly name: string;
  /** 'scan [FROM [TO]] [--limit N] [--reverse]' */
  readonly usage: string;
  /** One line for the `help` list. */
  readonly summary: string;
  /** More detail for `help NAME`; may be several lines. */
  readonly details?: string;
  /** Least and most positional arguments. */
  readonly arity: readonly [min: number, max: number];
  readonly flags?: Readonly<Record<string, FlagKind>>;
  /** Runs without opening the store (help, exit). Default false. */
  readonly noStore?: boolean;
  /**
   * Runs until interrupted (tail): as a one-shot command, SIGINT or SIGTERM stops it, the
   * store is closed and kv-cli exits 0. Default false.
   */
  readonly untilInterrupted?: boolean;
  run(session: Session, args: Args): Promise<void> | void;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function arityError(cmd: Command, given: number): CliError {
  const [min, max] = cmd.arity;
  let need: string;
  if (min === max) need = min === 0 ? 'takes no arguments' : `needs ${plural(min, 'argument')}`;
  else if (given < min) need = `needs at least ${plural(min, 'argument')}`;
  else need = `takes at most ${plural(max, 'argument')}`;
  return new CliError(`${cmd.name} ${need}: ${cmd.usage}`);
}

/** kv-cli's own options, which go before the command, and what each takes. */
const GLOBAL_OPTIONS: Readonly<Record<string, string>> = {
  db: 'DIR',
  recovery: 'MODE',
  'rate-limit': 'CAPACITY:PER_SECOND',
  client: 'ID',
};

/**
 * Splits a command's tokens into positional arguments and --flags, checking both against the
 * command. Only plain (unquoted) words are flags; `--` ends the flags, so `scan -- --x` scans
 * from the key "--x".
 */
export function parseArgs(cmd: Command, tokens: readonly Token[]): Args {
  const positional: Token[] = [];
  const flags = new Map<string, true | number>();
  let flagsDone = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const word = t.bare;
    if (flagsDone || word === undefined || !word.startsWith('--')) {
      positional.push(t);
      continue;
    }
    if (word === '--') {
      flagsDone = true;
      continue;
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const kind = cmd.flags?.[name];
    const globalValue = GLOBAL_OPTIONS[name];
    if (kind === undefined && globalValue !== undefined) {
      const value = globalValue;
      throw new CliError(`--${name} goes before the command, e.g. kv-cli --${name} ${value} ${cmd.usage}`);
    }
    if (kind === undefined) {
      const known = Object.keys(cmd.flags ?? {});
      const has = known.length === 0 ? 'has no options' : `has no option --${name}`;
      throw new CliError(`${cmd.name} ${has}: ${cmd.usage}`);
    }
    if (kind === 'switch') {
      if (eq >= 0) throw new CliError(`--${name} takes no value: ${cmd.usage}`);
      flags.set(name, true);
      continue;
    }
    let text: string | undefined;
    if (eq >= 0) text = word.slice(eq + 1);
    else text = tokens[++i]?.bare;
    if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new CliError(`--${name} needs a whole number, e.g. --${name} 10: ${cmd.usage}`);
    }
    flags.set(name, Number(text));
  }
  const [min, max] = cmd.arity;
  if (positional.length < min || positional.length > max) throw arityError(cmd, positional.length);
  return { positional, flags };
}

/** The i-th positional argument (parseArgs has checked the count). */
export function arg(args: Args, i: number): Token {
  const t = args.positional[i];
  if (t === undefined) throw new Error(`argument ${i} missing after parseArgs`);
  return t;
}
