/**
 * REPL history, kept per store in `<data dir>/.kv_history`: one line per command, oldest
 * first, appended as each line is entered, so a crash loses nothing and Up recalls commands
 * from earlier sessions. The file is private to the user (mode 0600): values may be secrets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const HISTORY_FILE = '.kv_history';
/** Lines kept in memory and, after trimming, in the file. */
export const HISTORY_SIZE = 1000;

export class History {
  private last: string | undefined;
  private failed = false;

  constructor(readonly file: string) {}

  static forStore(dir: string): History {
    return new History(path.join(dir, HISTORY_FILE));
  }

  /**
   * The saved lines, newest first (what readline's `history` option wants). A file grown past
   * twice HISTORY_SIZE is rewritten with its newest HISTORY_SIZE lines.
   */
  load(): string[] {
    let lines: string[];
    try {
      lines = fs
        .readFileSync(this.file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
    } catch {
      return [];
    }
    const kept = lines.slice(-HISTORY_SIZE);
    if (lines.length > 2 * HISTORY_SIZE) {
      try {
        fs.writeFileSync(this.file, `${kept.join('\n')}\n`, { mode: 0o600 });
      } catch {
        // Trimming is housekeeping; the full file still works.
      }
    }
    this.last = kept.at(-1);
    return kept.reverse();
  }

  /** Appends `line` unless it is blank or repeats the previous one. Returns an error message once if the file cannot be written. */
  add(line: string): string | undefined {
    if (line.trim() === '' || line === this.last) return undefined;
    this.last = line;
    try {
      fs.appendFileSync(this.file, `${line}\n`, { mode: 0o600 });
      return undefined;
    } catch (err) {
      if (this.failed) return undefined;
      this.failed = true;
      return `history is not saved: cannot write ${this.file} (${(err as NodeJS.ErrnoException).code ?? err})`;
    }
  }
}
