import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvError } from '@kv/record';

/** Paths locked by this process: a second open in the same process is refused too. */
const heldHere = new Set<string>();

export interface DirLock {
  readonly path: string;
  release(): void;
}

function startTimeOf(pid: number): string | undefined {
  try {
    // Field 22 of /proc/<pid>/stat is the start time; with the pid it names a process uniquely.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function holderAlive(content: string): boolean {
  const [pidText, started] = content.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = startTimeOf(pid);
  return now === undefined || started === undefined || started === '' || now === started;
}

/**
 * Takes `<dir>/<file>` as an exclusive lock. The file holds the owner's pid and start time,
 * so a lock left by a killed process is recognised as stale and taken over.
 * Throws KV_LOCKED when a live process (this one included) holds it.
 */
export function acquireDirLock(dir: string, file: string): DirLock {
  const lockPath = path.resolve(dir, file);
  if (heldHere.has(lockPath)) {
    throw new KvError('KV_LOCKED', `${dir} is already open in this process; close it before opening it again`);
  }
  const me = `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, me);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      heldHere.add(lockPath);
      return {
        path: lockPath,
        release() {
          if (!heldHere.delete(lockPath)) return;
          try {
            fs.unlinkSync(lockPath);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new KvError('KV_IO_ERROR', `cannot create lock file ${lockPath}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      let content = '';
      try {
        content = fs.readFileSync(lockPath, 'utf8');
      } catch {
        continue;
      }
      if (holderAlive(content)) {
        throw new KvError(
          'KV_LOCKED',
          `${dir} is locked by process ${content.trim().split(' ')[0]}; close the store there first`,
        );
      }
      try {
        fs.unlinkSync(lockPath);
      } catch {
        // Another opener removed the stale lock first; retry the exclusive create.
      }
    }
  }
  throw new KvError('KV_LOCKED', `${dir} is being opened by another process; try again`);
}
