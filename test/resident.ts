import { readFileSync } from 'node:fs';

/**
 * KB of this process's resident pages in the mappings whose path `matches` (from Linux's
 * /proc/self/smaps; a deleted file's path ends in " (deleted)"). What the package tests use to
 * check that a store gives the pages it read back.
 */
export function residentKB(matches: (path: string) => boolean): number {
  let kb = 0;
  let inside = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) inside = matches(head[1] as string);
    else if (inside) kb += Number(/^Rss:\s+(\d+) kB/.exec(line)?.[1] ?? 0);
  }
  return kb;
}
