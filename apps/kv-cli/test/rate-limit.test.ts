import { describe, expect, it } from 'vitest';
import { kv, lines, storeDir } from './helpers.js';

describe('--rate-limit and --client', () => {
  it('each get, put, del, scan, count spends a token; an empty bucket is KV_RATE_LIMITED', async () => {
    const dir = storeDir();
    const r = await kv(dir, ['--rate-limit', '3:0.5', '--client', 'alice'], 'put a 1\nget a\nscan\ncount\nget a\n');
    expect(r.code).toBe(1);
    expect(lines(r)).toEqual(['OK', '1', 'a\t1']);
    const errors = r.stderr.split('\n').slice(0, -1);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      /^error: line 4: client "alice" is over its rate limit \(3 burst, 0\.5\/s\); retry in \d+ ms \(KV_RATE_LIMITED\)$/,
    );
    // The refused write did not happen: the store still holds what the allowed ones wrote.
    expect(lines(await kv(dir, ['scan']))).toEqual(['a\t1']);
  });

  it('a batch commit spends one token per write; without --client the client is kv-cli', async () => {
    const r = await kv(
      storeDir(),
      ['--rate-limit', '2:0.1'],
      'batch begin\nput a 1\nput b 2\nput c 3\nbatch commit\nbatch abort\n',
    );
    expect(r.stderr).toMatch(/^error: line 5: client "kv-cli" is over its rate limit/);
  });

  it('a bad --rate-limit, or --client alone, is one error line', async () => {
    const bad = await kv(storeDir(), ['--rate-limit', '10', 'get', 'a']);
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toBe(
      'error: --rate-limit needs CAPACITY:PER_SECOND, both above 0, e.g. --rate-limit 10:5 (a burst of 10, then 5 per second); got "10"\n',
    );
    const alone = await kv(storeDir(), ['--client', 'bob', 'get', 'a']);
    expect(alone.stderr).toBe(
      'error: --client only matters with --rate-limit, e.g. --rate-limit 10:5 --client alice\n',
    );
    const late = await kv(storeDir(), ['get', 'a', '--rate-limit', '1:1']);
    expect(late.stderr).toBe(
      'error: --rate-limit goes before the command, e.g. kv-cli --rate-limit CAPACITY:PER_SECOND get KEY\n',
    );
  });
});
