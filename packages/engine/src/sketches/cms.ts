import { KvError } from '@kv/record';
import bloom from 'bloom-filters';

type Cms = InstanceType<typeof bloom.CountMinSketch>;

/** Defaults: counts over-estimated by at most 1% of the total, with probability 99%. */
export const DEFAULT_CMS_ERROR_RATE = 0.01;
export const DEFAULT_CMS_ACCURACY = 0.99;

/**
 * A Count-Min Sketch from bloom-filters, stored as its JSON form. Sized here (width e/ε,
 * depth ln(1/δ) with δ = 1 - accuracy) rather than by CountMinSketch.create, which takes
 * ln(1/accuracy) as the depth and so builds a single row for any accuracy near 1.
 */
export function newCms(errorRate = DEFAULT_CMS_ERROR_RATE, accuracy = DEFAULT_CMS_ACCURACY): Cms {
  if (!(errorRate > 0 && errorRate < 1) || !(accuracy > 0 && accuracy < 1)) {
    throw new KvError('KV_INVALID_ARGUMENT', `Count-Min Sketch errorRate and accuracy must be in (0, 1)`);
  }
  const width = Math.ceil(Math.E / errorRate);
  const depth = Math.ceil(Math.log(1 / (1 - accuracy)));
  return new bloom.CountMinSketch(width, depth);
}

export function serializeCms(cms: Cms): Uint8Array {
  return Buffer.from(JSON.stringify(cms.saveAsJSON()), 'utf8');
}

export function deserializeCms(bytes: Uint8Array, key: string): Cms {
  try {
    return bloom.CountMinSketch.fromJSON(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch (err) {
    throw new KvError('KV_CORRUPTION', `the Count-Min Sketch stored under ${key} is damaged`, { cause: err });
  }
}
