/**
 * The one error type of kv. `code` is stable and safe to branch on; `message` is for people
 * and says what was wrong and what to do. Codes are only ever added, never renamed.
 */
export type KvErrorCode =
  | 'KV_CORRUPTION'
  | 'KV_IO_ERROR'
  | 'KV_NOT_OPEN'
  | 'KV_LOCKED'
  | 'KV_INVALID_ARGUMENT'
  | 'KV_TOO_LARGE'
  | 'KV_TX_EXPIRED'
  | 'KV_TX_NOT_FOUND'
  | 'KV_TX_NOT_PENDING'
  | 'KV_RATE_LIMITED';

export class KvError extends Error {
  readonly code: KvErrorCode;

  constructor(code: KvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KvError';
    this.code = code;
  }
}

export function isKvError(err: unknown, code?: KvErrorCode): err is KvError {
  return err instanceof KvError && (code === undefined || err.code === code);
}

/** Wraps a Node.js system error (or an errno number from a native addon) as KV_IO_ERROR. */
export function ioError(what: string, cause: unknown): KvError {
  if (cause instanceof KvError) return cause;
  const detail =
    typeof cause === 'number'
      ? `errno ${cause}`
      : cause instanceof Error
        ? ((cause as NodeJS.ErrnoException).code ?? cause.message)
        : String(cause);
  return new KvError('KV_IO_ERROR', `${what} failed (${detail}); the store must be reopened`, {
    cause,
  });
}
