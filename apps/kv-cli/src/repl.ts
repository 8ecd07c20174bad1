/**
 * The interactive prompt (stdin is a terminal) and the script runner (stdin is piped).
 *
 * REPL keys: Tab completes commands, subcommands and --options; Up/Down walk the history,
 * which persists across sessions (history.ts); Ctrl-C cancels the line being typed, or
 * interrupts a running scan/load/count/tail; Ctrl-C on an empty line twice, Ctrl-D, `exit` or
 * `quit` close the store and leave.
 */
import * as readline from 'node:readline';
import { complete, runLine } from './commands.js';
import { History, HISTORY_SIZE } from './history.js';
import type { Session } from './session.js';

function prompt(s: Session): string {
  const { c } = s.out;
  let open = '';
  if (s.pending !== null) open = c.yellow(` [batch: ${s.pending.length} pending]`);
  else if (s.tx !== null) open = c.yellow(` [tx: ${s.tx.size} pending]`);
  return `${c.bold(c.cyan('kv'))}${open}> `;
}

/** Moves past the typed text to a fresh line and forgets it (what Node's own REPL does on Ctrl-C). */
function dropLine(rl: readline.Interface): void {
  const internal = rl as unknown as { clearLine?: () => void };
  if (typeof internal.clearLine === 'function') internal.clearLine();
  else {
    rl.write(null, { ctrl: true, name: 'e' });
    rl.write(null, { ctrl: true, name: 'u' });
  }
}

/** SIGTERM and SIGHUP close the store like `exit` does; a second one ends the process at once. */
function onTermination(stop: () => void): () => void {
  let seen = false;
  const handler = (signal: NodeJS.Signals) => {
    if (seen) process.exit(signal === 'SIGHUP' ? 129 : 143);
    seen = true;
    stop();
  };
  process.on('SIGTERM', handler);
  process.on('SIGHUP', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGHUP', handler);
  };
}

/** Runs the interactive prompt until exit; resolves with the exit code. */
export async function runRepl(session: Session): Promise<number> {
  const { out } = session;
  const history = History.forStore(session.dir);
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    // Line editing needs a terminal on both sides; `kv-cli | tee log` still gets plain lines.
    terminal: process.stdout.isTTY === true,
    completer: complete,
    history: history.load(),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    prompt: prompt(session),
  });
  let running = false;
  let sawCtrlC = false;
  let closedByCommand = false;
  rl.on('SIGINT', () => {
    if (running) return session.interrupt();
    const empty = rl.line.length === 0;
    dropLine(rl);
    if (empty && sawCtrlC) return rl.close();
    if (empty) out.print(out.c.dim('(press Ctrl-C again, or Ctrl-D, to exit)'));
    sawCtrlC = empty;
    rl.prompt();
  });
  const untrap = onTermination(() => {
    session.interrupt();
    rl.close();
  });

  out.print(out.c.dim(`kv-cli on ${session.dir}: type help for commands, Tab to complete, Ctrl-D to exit`));
  rl.prompt();
  try {
    for await (const line of rl) {
      sawCtrlC = false;
      const problem = history.add(line);
      if (problem !== undefined) out.note(problem);
      running = true;
      await runLine(session, line);
      running = false;
      if (session.exitRequested) {
        closedByCommand = true;
        break;
      }
      rl.setPrompt(prompt(session));
      rl.prompt();
    }
  } finally {
    untrap();
    rl.close();
  }
  if (!closedByCommand) process.stdout.write('\n');
  if (session.pending !== null && session.pending.length > 0) {
    out.note(`batch aborted: ${session.pending.length} pending writes were not applied`);
  }
  if (session.tx !== null && session.tx.size > 0) {
    out.note(`transaction rolled back: ${session.tx.size} pending writes were not applied`);
  }
  return 0;
}

/**
 * Runs piped stdin line by line. A failing line is reported with its line number and the
 * script goes on; resolves with 1 if any line failed (or a batch was left open), else 0.
 */
export async function runScript(session: Session): Promise<number> {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  let stopped = false;
  const onInterrupt = () => {
    stopped = true;
    session.interrupt();
    rl.close();
  };
  process.on('SIGINT', onInterrupt);
  const untrap = onTermination(onInterrupt);
  let failed = false;
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (!(await runLine(session, line, `line ${n}: `))) failed = true;
      if (session.exitRequested || stopped) break;
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    untrap();
    rl.close();
  }
  if (session.pending !== null) {
    session.out.error(
      `the input ended inside a batch; its ${session.pending.length} queued writes were not applied (end it with batch commit)`,
    );
    failed = true;
  }
  if (session.tx !== null) {
    session.out.error(
      `the input ended inside a transaction; its ${session.tx.size} pending writes were not applied (end it with tx commit)`,
    );
    failed = true;
  }
  if (stopped) return 130;
  return failed ? 1 : 0;
}
