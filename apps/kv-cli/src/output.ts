import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Where command output goes, and how it may look: colours only on a terminal with NO_COLOR
 * unset, tables and progress bars only on a terminal. Piped output is plain lines.
 */
export interface Output {
  /** stdout is a terminal: tables, progress bars, truncated cells. */
  readonly tty: boolean;
  /** Colour functions; identity functions when colour is off. */
  readonly c: Colors;
  /** Terminal width (80 when unknown). */
  readonly columns: number;
  /** A line of command output, on stdout. */
  print(line: string): void;
  /** One error line, on stderr, prefixed with "error: ". */
  error(line: string): void;
  /** A line for people (hints, warnings), on stderr so piped stdout stays parseable. */
  note(line: string): void;
}

export function processOutput(): Output {
  const tty = process.stdout.isTTY === true;
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  const c = pc.createColors(tty && !noColor);
  const errColors = pc.createColors(process.stderr.isTTY === true && !noColor);
  return {
    tty,
    c,
    get columns() {
      return process.stdout.columns ?? 80;
    },
    print: (line) => {
      process.stdout.write(`${line}\n`);
    },
    error: (line) => {
      process.stderr.write(`${errColors.red(errColors.bold('error:'))} ${line}\n`);
    },
    note: (line) => {
      process.stderr.write(`${errColors.dim(line)}\n`);
    },
  };
}
