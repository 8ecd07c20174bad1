// The second process of the two-process scenario: tries to open the store, and its WAL
// directly, while the first process owns them. Prints one JSON line: the error code of each
// attempt ('opened' if it wrongly succeeded) and the messages.
// argv: dir
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { Wal } from '@kv/wal';

const [dir] = process.argv.slice(2);
const attempt = async (open) => {
  try {
    const handle = await open();
    await handle.close();
    return { code: 'opened', message: '' };
  } catch (err) {
    return { code: err?.code ?? String(err), message: err?.message ?? '' };
  }
};
const engine = await attempt(() => KvStore.open(dir));
const wal = await attempt(() => Wal.open(path.join(dir, 'wal')));
process.stdout.write(`${JSON.stringify({ engine, wal })}\n`);
