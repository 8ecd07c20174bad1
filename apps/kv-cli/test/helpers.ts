import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach } from 'vitest';

const APP = fileURLToPath(new URL('..', import.meta.url));
/** The built binary: the tests run what users run. */
export const BIN = path.join(APP, 'dist', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function checkBuilt(): void {
  const info = path.join(APP, 'dist', '.tsbuildinfo');
  if (!fs.existsSync(BIN) || !fs.existsSync(info) || fs.statSync(info).mtimeMs < newestMtime(path.join(APP, 'src'))) {
    throw new Error('apps/kv-cli/dist is missing or older than src: run `npx tsc -b apps/kv-cli` first');
  }
}
checkBuilt();

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test file. The store goes in `<it>/data`. */
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-cli-test-'));
  made.push(d);
  return d;
}

export function storeDir(): string {
  return path.join(tempDir(), 'data');
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of every child: no colour settings leak in from the test runner. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return env;
}

/** Runs `kv-cli --db dir ...args` with `input` piped to stdin (closed at once when omitted). */
export function kv(dir: string, args: readonly string[], input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--db', dir, ...args], {
      env: childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Runs a piped script: one command per array element. */
export function script(dir: string, lines: readonly string[]): Promise<Result> {
  return kv(dir, [], `${lines.join('\n')}\n`);
}

/** stdout split into lines, without the final empty one. */
export function lines(r: Result): string[] {
  return r.stdout.split('\n').slice(0, -1);
}

/** A kv-cli reading a script that stays open: the store stays open until `end()`. */
export function holder(dir: string): { child: ChildProcess; ready: Promise<void>; end(): Promise<void> } {
  const child = spawn(process.execPath, [BIN, '--db', dir], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('OK')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
  });
  child.stdin?.write('put held yes\n');
  const end = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', () => resolve());
      child.stdin?.end();
    });
  return { child, ready, end };
}

/** A tmux server of its own (unique socket), to run the REPL under a real terminal. */
export class Tmux {
  readonly socket = `kvtest-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  private run(args: readonly string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Starts the REPL on `dir` in a 120x40 window; `env` adds variables (e.g. NO_COLOR). */
  start(dir: string, env: Record<string, string> = {}, name = 'repl'): void {
    const vars = Object.entries({ ...childEnv(), ...env })
      .filter(([k]) => /^(PATH|HOME|LANG|LC_ALL)$/.test(k) || k in env)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    const node = JSON.stringify(process.execPath);
    const cmd = `env -u NO_COLOR -u FORCE_COLOR ${vars.join(' ')} ${node} ${JSON.stringify(BIN)} --db ${JSON.stringify(dir)}`;
    this.run(['new-session', '-d', '-s', name, '-x', '120', '-y', '40', cmd]);
  }

  /** Sends keys: literal text, or tmux key names when `keys` is true (Enter, Tab, Up, C-c, C-d). */
  send(text: string, name = 'repl'): void {
    this.run(['send-keys', '-t', name, '-l', text]);
  }

  keys(keys: readonly string[], name = 'repl'): void {
    this.run(['send-keys', '-t', name, ...keys]);
  }

  /** The visible screen as text; with `escapes`, colour codes included. */
  screen(name = 'repl', escapes = false): string {
    return this.run(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', name]);
  }

  alive(name = 'repl'): boolean {
    try {
      this.run(['has-session', '-t', name]);
      return true;
    } catch {
      return false;
    }
  }

  /** Polls the screen until `test` passes; fails with the screen after `ms`. */
  async waitFor(test: (screen: string) => boolean, ms = 10_000, name = 'repl'): Promise<string> {
    const deadline = Date.now() + ms;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.alive(name)) throw new Error(`the REPL exited; last screen:\n${last}`);
      last = this.screen(name);
      if (test(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out; screen:\n${last}`);
  }

  async waitForExit(ms = 10_000, name = 'repl'): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!this.alive(name)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the REPL did not exit');
  }

  /** Ends the server and removes its socket file (tmux leaves it behind when the last session ends). */
  kill(): void {
    try {
      this.run(['kill-server']);
    } catch {
      // Already gone: the last session ended.
    }
    const uid = process.getuid?.() ?? 0;
    fs.rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${uid}`, this.socket), { force: true });
  }
}

/** capture-pane drops trailing spaces, so a bare prompt is "kv>". */
export const PROMPT = /^kv>$/m;

/**
 * Registers, for the calling describe block, a REPL under tmux on a fresh store before each
 * test (handed to `use` once its prompt shows) and the tmux server's removal after it.
 */
export function freshReplEachTest(use: (tmux: Tmux, dir: string) => void): void {
  let tmux: Tmux | undefined;
  beforeEach(async () => {
    tmux = new Tmux();
    const dir = storeDir();
    tmux.start(dir);
    await tmux.waitFor((s) => PROMPT.test(s));
    use(tmux, dir);
  });
  afterEach(() => tmux?.kill());
}
