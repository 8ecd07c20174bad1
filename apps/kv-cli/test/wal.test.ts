import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, childEnv, kv, lines, script, storeDir } from './helpers.js';
import { spawn } from 'node:child_process';

describe('wal commands', () => {
  it('wal segments: one line per live segment: position, file, first, last, entries, size', async () => {
    const r = await script(storeDir(), ['put a 1', 'put b 2', 'wal segments']);
    const cols = lines(r)[2]?.split('\t');
    expect(cols).toEqual(['0', 'wal-00000000000000000001.log', '1', '2', '2', expect.stringMatching(/^\d+$/)]);
  });

  it('wal dump --json: one object per entry with index, seq, op, key, value, timestamp', async () => {
    const r = await script(storeDir(), ['put a 1', 'put 0x00ff x', 'del a', 'wal dump --json']);
    const entries = lines(r)
      .slice(3)
      .map((l) => JSON.parse(l));
    expect(entries).toEqual([
      { index: 1, seq: 1, op: 'put', key: 'a', value: '1', timestamp: expect.any(Number) },
      { index: 2, seq: 2, op: 'put', key: { hex: '00ff' }, value: 'x', timestamp: expect.any(Number) },
      { index: 3, seq: 3, op: 'del', key: 'a', value: null, timestamp: expect.any(Number) },
    ]);
  });

  it('wal dump without --json prints INDEX SEQ OP KEY VALUE lines', async () => {
    const r = await script(storeDir(), ['put a 1', 'del a', 'wal dump']);
    expect(lines(r).slice(2)).toEqual(['1\t1\tput\ta\t1', '2\t2\tdel\ta\t']);
  });

  it('wal verify reports what it checked', async () => {
    const r = await script(storeDir(), ['put a 1', 'put b 2', 'del a', 'wal verify']);
    expect(lines(r)[3]).toBe('OK: 3 entries in 1 segment verified (indices 1..3; 2 puts, 1 delete)');
  });

  /** A store of a=1, needle-key=2, c=3 whose second WAL entry has a flipped byte. */
  async function damagedStore(): Promise<string> {
    const dir = storeDir();
    await script(dir, ['put a 1', 'put needle-key 2', 'put c 3']);
    const file = path.join(dir, 'wal', 'wal-00000000000000000001.log');
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf('needle-key');
    bytes.writeUInt8((bytes[at] as number) ^ 0xff, at);
    fs.writeFileSync(file, bytes);
    return dir;
  }

  it('a damaged entry in the WAL is one KV_CORRUPTION error line with a non-zero exit', async () => {
    const r = await kv(await damagedStore(), ['wal', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: WAL segment wal-0+1\.log at offset \d+: .*\(KV_CORRUPTION\).*\n$/);
    expect(r.stderr).toContain('kv-cli --recovery truncate');
  });

  it('--recovery truncate opens a damaged store, keeping the entries before the damage', async () => {
    const r = await kv(await damagedStore(), ['--recovery', 'truncate', 'scan']);
    expect(r).toMatchObject({ code: 0, stdout: 'a\t1\n' });
  });

  it('wal verify finds damage that appears while the store is open, and names the entry', async () => {
    const dir = storeDir();
    const child = spawn(process.execPath, [BIN, '--db', dir], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write('put a 1\nput needle-key 2\nput c 3\n');
    while ((stdout.match(/OK/g) ?? []).length < 3) await new Promise((r) => setTimeout(r, 20));
    // Flip one byte in place: the store's memory map sees it, as it would see a bad disk.
    const file = path.join(dir, 'wal', 'wal-00000000000000000001.log');
    const at = fs.readFileSync(file).indexOf('needle-key');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0x00]), 0, 1, at);
    fs.closeSync(fd);
    child.stdin.end('wal verify\n');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(
      /^error: line 4: WAL corrupt at entry 2: .*checksum mismatch.*\(KV_CORRUPTION\); the 1 entry before it is intact\n$/,
    );
  });
});
