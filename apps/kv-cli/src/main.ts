#!/usr/bin/env node
/**
 * kv-cli: poke at a kv store.
 *
 *   kv-cli [--db DIR]                    REPL on DIR (default ./data), or run piped stdin
 *   kv-cli [--db DIR] COMMAND [ARGS...]  run one command and exit
 *
 * Exit status: 0 on success (a one-shot tail stopped by SIGINT or SIGTERM included); 1 when the
 * command (or any line of a piped script) failed; 130 when a script was interrupted.
 */
import { createRequire } from 'node:module';
import type { KvStore, RateLimit } from '@kv/engine';
import { Option, Command as Program } from 'commander';
import { COMMANDS, execute, type Prepared, prepare } from './commands.js';
import { CliError, errorLine } from './errors.js';
import { type Output, processOutput } from './output.js';
import { runRepl, runScript } from './repl.js';
import { Session } from './session.js';
import { tokenFromArg } from './tokenize.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** A closed stdout (`kv-cli scan | head`) stops the running command instead of crashing. */
function watchStdout(onClosed: () => void): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    onClosed();
  });
}

async function closeStore(db: KvStore, out: Output, dir: string): Promise<boolean> {
  try {
    await db.close();
    return true;
  } catch (err) {
    out.error(`closing the store: ${errorLine(err, dir)}`);
    return false;
  }
}

interface Options {
  db: string;
  recovery: 'strict' | 'truncate';
  rateLimit?: string;
  client?: string;
}

/** The client whose token bucket the commands spend, when --rate-limit is given. */
const DEFAULT_CLIENT = 'kv-cli';

/** `--rate-limit 10:5`: a burst of 10 operations, then 5 per second. */
function parseRateLimit(spec: string): RateLimit {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(spec);
  const capacity = Number(m?.[1]);
  const refillPerSecond = Number(m?.[2]);
  if (m === null || !(capacity > 0) || !(refillPerSecond > 0)) {
    throw new CliError(
      `--rate-limit needs CAPACITY:PER_SECOND, both above 0, e.g. --rate-limit 10:5 (a burst of 10, then 5 per second); got "${spec}"`,
    );
  }
  return { capacity, refillPerSecond };
}

async function openStore(opts: Options, out: Output): Promise<KvStore | undefined> {
  const dir = opts.db;
  try {
    // Imported here so help and usage errors do not pay for loading the engine.
    const { KvStore } = await import('@kv/engine');
    const rateLimit = opts.rateLimit === undefined ? undefined : parseRateLimit(opts.rateLimit);
    return await KvStore.open(dir, { recoveryMode: opts.recovery, ...(rateLimit === undefined ? {} : { rateLimit }) });
  } catch (err) {
    out.error(errorLine(err, dir));
    return undefined;
  }
}

function clientOf(opts: Options): string | undefined {
  return opts.rateLimit === undefined ? undefined : (opts.client ?? DEFAULT_CLIENT);
}

/** `kv-cli --db DIR COMMAND ARGS...`: the shell already split the words; each is one token. */
async function runOnce(words: readonly string[], opts: Options, out: Output): Promise<number> {
  const dir = opts.db;
  let prepared: Prepared;
  try {
    prepared = prepare(words.map(tokenFromArg));
  } catch (err) {
    out.error(errorLine(err, dir));
    return 1;
  }
  const db = prepared.command.noStore === true ? undefined : await openStore(opts, out);
  if (db === undefined && prepared.command.noStore !== true) return 1;
  const session = new Session(out, dir, 'once', db, clientOf(opts));
  watchStdout(() => session.interrupt());
  const untrap = prepared.command.untilInterrupted === true ? stopOnSignals(session) : () => {};
  let ok = true;
  try {
    await execute(session, prepared);
  } catch (err) {
    out.error(errorLine(err, dir));
    ok = false;
  } finally {
    if (db !== undefined && !(await closeStore(db, out, dir))) ok = false;
    untrap();
  }
  return ok ? 0 : 1;
}

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * For a command that runs until it is stopped (tail): the first SIGINT, SIGTERM or SIGHUP
 * stops it, so the store closes cleanly; a second one ends the process at once.
 */
function stopOnSignals(session: Session): () => void {
  let seen = false;
  const handler = (signal: NodeJS.Signals) => {
    if (seen) process.exit(SIGNAL_EXIT[signal] ?? 1);
    seen = true;
    session.interrupt();
  };
  const signals = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];
  for (const sig of signals) process.on(sig, handler);
  return () => {
    for (const sig of signals) process.off(sig, handler);
  };
}

/** No command: the REPL when stdin is a terminal, otherwise a script read from stdin. */
async function runSession(opts: Options, out: Output): Promise<number> {
  const dir = opts.db;
  const db = await openStore(opts, out);
  if (db === undefined) return 1;
  const interactive = process.stdin.isTTY === true;
  const session = new Session(out, dir, interactive ? 'repl' : 'script', db, clientOf(opts));
  watchStdout(() => session.interrupt());
  let code: number;
  try {
    code = interactive ? await runRepl(session) : await runScript(session);
  } finally {
    if (!(await closeStore(db, out, dir))) code = 1;
  }
  return code;
}

function commandList(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  const lines = COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`);
  return `\nCommands (in the REPL, in a piped script, or once on the command line):\n${lines.join('\n')}\n
Examples:
  kv-cli                                   REPL on ./data
  kv-cli --db /tmp/s put greeting "hello world"
  kv-cli --db /tmp/s get greeting
  kv-cli --db /tmp/s scan a b --limit 10
  kv-cli --db /tmp/s tail --since 0 --limit 10
  printf 'put a 1\\nget a\\n' | kv-cli --db /tmp/s
`;
}

const program = new Program()
  .name('kv-cli')
  .description('Open a kv store and run commands: a REPL, a piped script, or one command.')
  .version(version, '-V, --version')
  .option('--db <dir>', 'the data directory', './data')
  .addOption(
    new Option('--recovery <mode>', "WAL corruption at open: 'strict' fails, 'truncate' keeps what precedes it")
      .choices(['strict', 'truncate'])
      .default('strict'),
  )
  .option('--rate-limit <capacity:per_second>', 'limit get/put/del/scan/count/batch/tx to a token bucket, e.g. 10:5')
  .option('--client <id>', `the client id whose bucket --rate-limit spends (default ${DEFAULT_CLIENT})`)
  .argument('[command...]', 'a command and its arguments; none opens the REPL (or reads stdin when piped)')
  .passThroughOptions()
  .allowUnknownOption()
  .helpCommand(false)
  .addHelpText('after', commandList())
  .action(async (words: string[], opts: Options) => {
    const out = processOutput();
    if (opts.db === '') {
      out.error(errorLine(new CliError('--db needs a directory, e.g. --db ./data'), opts.db));
      process.exitCode = 1;
      return;
    }
    if (opts.client !== undefined && (opts.client === '' || opts.rateLimit === undefined)) {
      const why = opts.client === '' ? '--client needs an id' : '--client only matters with --rate-limit';
      out.error(errorLine(new CliError(`${why}, e.g. --rate-limit 10:5 --client alice`), opts.db));
      process.exitCode = 1;
      return;
    }
    process.exitCode = words.length > 0 ? await runOnce(words, opts, out) : await runSession(opts, out);
  });

await program.parseAsync(process.argv);
