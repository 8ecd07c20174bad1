import type { DataSet } from '../data.js';
import type { Store } from '../stores/types.js';

/** Loads keys [first, first + count) in batches of `batch`; `afterBatch` runs between batches. */
export async function load(
  store: Store,
  data: DataSet,
  count: number,
  batch: number,
  first = 0,
  afterBatch?: () => void,
): Promise<void> {
  const end = first + count;
  for (let start = first; start < end; start += batch) {
    const n = Math.min(batch, end - start);
    const keys = new Array<Buffer>(n);
    const values = new Array<Buffer>(n);
    for (let j = 0; j < n; j++) {
      keys[j] = data.key(start + j);
      values[j] = data.value(start + j);
    }
    await store.batch(keys, values);
    afterBatch?.();
  }
}
