import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, SimDisk, tempDir } from './lib/index.mjs';
import { cleanUpTempDirs } from './helpers.js';

cleanUpTempDirs();

// The power-loss scenario is only as good as its model of a disk: these pin the model down.

function disk(seed = 1, options: { durableMkdir?: boolean } = {}) {
  const root = tempDir('simdisk');
  return { root, d: new SimDisk(root, new Rng(seed), options) };
}

function cut(d: SimDisk, mode: 'drop' | 'some' | 'garble'): string {
  d.crash(mode);
  const image = tempDir('simdisk-image');
  d.writeImage(image);
  return image;
}

async function durableFile(d: SimDisk, root: string, name: string, data: string): Promise<number> {
  const fd = await d.walFs.open(path.join(root, name), true);
  await d.walFs.write(fd, Buffer.from(data), 0);
  await d.walFs.fdatasync(fd);
  await d.walFs.fsyncDir(root);
  return fd;
}

describe('SimDisk, the power-loss model', () => {
  it('bytes covered by a completed fdatasync survive; later unsynced bytes are dropped', async () => {
    const { root, d } = disk();
    const fd = await durableFile(d, root, 'f', 'synced');
    await d.walFs.write(fd, Buffer.from('+unsynced'), 6);
    const image = cut(d, 'drop');
    expect(fs.readFileSync(path.join(image, 'f'), 'utf8')).toBe('synced');
  });

  it('garbling touches only bytes written after the last sync, even within one sector', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { root, d } = disk(seed);
      const fd = await durableFile(d, root, 'f', 'a'.repeat(100));
      await d.walFs.write(fd, Buffer.from('b'.repeat(100)), 100);
      const image = cut(d, 'garble');
      expect(fs.readFileSync(path.join(image, 'f')).subarray(0, 100).toString(), `seed ${seed}`).toBe('a'.repeat(100));
    }
  });

  it('mapped bytes reach the disk image only through fdatasync', async () => {
    const { root, d } = disk();
    const fd = await durableFile(d, root, 'seg', '\0'.repeat(1024));
    const map = d.walFs.map(fd, 1024);
    map.write('synced', 0);
    await d.walFs.fdatasync(fd);
    map.write('lost', 600);
    const image = cut(d, 'drop');
    const bytes = fs.readFileSync(path.join(image, 'seg'));
    expect(bytes.subarray(0, 6).toString()).toBe('synced');
    expect(bytes.subarray(600, 604).every((b) => b === 0)).toBe(true);
  });

  it('a file created without a directory fsync is gone after the cut', async () => {
    const { root, d } = disk();
    const fd = await d.walFs.open(path.join(root, 'new'), true);
    await d.walFs.write(fd, Buffer.from('data'), 0);
    await d.walFs.fdatasync(fd);
    expect(fs.existsSync(path.join(cut(d, 'drop'), 'new'))).toBe(false);
  });

  it('a rename without a directory fsync is undone: the file is back under its old name', async () => {
    const { root, d } = disk();
    await durableFile(d, root, 'old', 'content');
    await d.walFs.rename(path.join(root, 'old'), path.join(root, 'new'));
    const image = cut(d, 'drop');
    expect(fs.readdirSync(image)).toEqual(['old']);
    expect(fs.readFileSync(path.join(image, 'old'), 'utf8')).toBe('content');
  });

  it('an unlink without a directory fsync is undone: the file comes back with its content', async () => {
    const { root, d } = disk();
    await durableFile(d, root, 'f', 'still here');
    await d.walFs.unlink(path.join(root, 'f'));
    expect(fs.readFileSync(path.join(cut(d, 'drop'), 'f'), 'utf8')).toBe('still here');
  });

  it('a new directory needs an fsync of its parent, unless modelled as a journaling file system', async () => {
    const strict = disk();
    await strict.d.walFs.mkdir(path.join(strict.root, 'sub'));
    expect(fs.existsSync(path.join(cut(strict.d, 'drop'), 'sub'))).toBe(false);
    const journaled = disk(1, { durableMkdir: true });
    await journaled.d.walFs.mkdir(path.join(journaled.root, 'sub'));
    expect(fs.existsSync(path.join(cut(journaled.d, 'drop'), 'sub'))).toBe(true);
  });

  it('after the cut no seam call completes, as on a dead machine', async () => {
    const { root, d } = disk();
    d.crash('drop');
    const answered = await Promise.race([
      d.engineFs.readdir(root).then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 50)),
    ]);
    expect(answered).toBe(false);
  });
});
