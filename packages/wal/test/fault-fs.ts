import * as fs from 'node:fs';
import { realFs, type WalFs } from '@kv/wal';

type Op = keyof WalFs;

function sysError(code: string, op: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: injected fault in ${op}`) as NodeJS.ErrnoException;
  err.code = code;
  return err;
}

/**
 * A WalFs for tests. `failAt(op, n, code)` makes the n-th call of `op` from now fail.
 * With `powerLoss: true`, mappings are private heap copies that reach the file only on
 * fdatasync, so `crash()` can model a power cut: bytes never synced are lost, or partly
 * persisted sector by sector, or garbled.
 */
export class FaultFs implements WalFs {
  private faults = new Map<Op, { countdown: number; code: string }>();
  private maps = new Map<number, { buf: Buffer; path: string }>();
  private paths = new Map<number, string>();
  calls: Record<string, number> = {};

  constructor(private readonly powerLoss = false) {}

  failAt(op: Op, n: number, code: string): void {
    this.faults.set(op, { countdown: n, code });
  }

  private async gate(op: Op): Promise<void> {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    const f = this.faults.get(op);
    if (f === undefined) return;
    if (--f.countdown <= 0) {
      this.faults.delete(op);
      throw sysError(f.code, op);
    }
  }

  async mkdir(dir: string) {
    await this.gate('mkdir');
    return realFs.mkdir(dir);
  }
  async readdir(dir: string) {
    await this.gate('readdir');
    return realFs.readdir(dir);
  }
  async open(p: string, create: boolean) {
    await this.gate('open');
    const fd = await realFs.open(p, create);
    this.paths.set(fd, p);
    return fd;
  }
  async close(fd: number) {
    this.maps.delete(fd);
    this.paths.delete(fd);
    return realFs.close(fd);
  }
  async size(fd: number) {
    return realFs.size(fd);
  }
  async write(fd: number, data: Uint8Array, position: number) {
    await this.gate('write');
    return realFs.write(fd, data, position);
  }
  /** The production append path. In power-loss mode the bytes land in the simulated page cache. */
  writeSync(fd: number, data: Uint8Array, position: number): void {
    this.calls.writeSync = (this.calls.writeSync ?? 0) + 1;
    const f = this.faults.get('writeSync');
    if (f !== undefined && --f.countdown <= 0) {
      this.faults.delete('writeSync');
      throw sysError(f.code, 'writeSync');
    }
    const m = this.maps.get(fd);
    if (m !== undefined) m.buf.set(data, position);
    else realFs.writeSync?.(fd, data, position);
  }
  async read(fd: number, into: Uint8Array, position: number) {
    return realFs.read(fd, into, position);
  }
  async fdatasync(fd: number) {
    await this.gate('fdatasync');
    const m = this.maps.get(fd);
    if (m !== undefined) await realFs.write(fd, m.buf, 0);
    return realFs.fdatasync(fd);
  }
  async fsyncDir(dir: string) {
    await this.gate('fsyncDir');
    return realFs.fsyncDir(dir);
  }
  async rename(from: string, to: string) {
    await this.gate('rename');
    for (const [fd, p] of this.paths) if (p === from) this.paths.set(fd, to);
    return realFs.rename(from, to);
  }
  async unlink(p: string) {
    await this.gate('unlink');
    return realFs.unlink(p);
  }
  map(fd: number, size: number): Buffer {
    if (!this.powerLoss) return realFs.map(fd, size);
    const buf = Buffer.alloc(size);
    fs.readSync(fd, buf, 0, size, 0);
    this.maps.set(fd, { buf, path: this.paths.get(fd) as string });
    return buf;
  }

  /**
   * Models a power cut: for every mapped file, each 512-byte sector that differs from the file
   * (written, never synced) is dropped, persisted, or garbled, as `mode` says.
   */
  crash(mode: 'drop' | 'some' | 'garble', random: () => number = Math.random): { sectorsTouched: number } {
    let sectorsTouched = 0;
    for (const { buf, path } of this.maps.values()) {
      if (!fs.existsSync(path)) continue;
      const onDisk = fs.readFileSync(path);
      for (let at = 0; at < buf.length; at += 512) {
        const end = Math.min(at + 512, buf.length);
        if (buf.compare(onDisk, at, end, at, end) === 0) continue;
        if (mode === 'drop') continue;
        const r = random();
        if (mode === 'some' && r < 0.5) onDisk.set(buf.subarray(at, end), at);
        if (mode === 'garble' && r < 0.5) for (let i = at; i < end; i++) onDisk[i] = Math.floor(random() * 256);
        if (mode === 'garble' && r >= 0.5 && r < 0.8) onDisk.set(buf.subarray(at, end), at);
        sectorsTouched++;
      }
      fs.writeFileSync(path, onDisk);
    }
    for (const fd of this.paths.keys()) fs.closeSync(fd);
    this.maps.clear();
    this.paths.clear();
    return { sectorsTouched };
  }
}
