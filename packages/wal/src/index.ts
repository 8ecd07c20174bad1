export type { WalFs } from './fs.js';
export { realFs } from './fs.js';
export { acquireDirLock, type DirLock } from './lock.js';
export {
  DEFAULT_WAL_OPTIONS,
  type EntryCodecName,
  type RecoveryMode,
  type ResolvedWalOptions,
  resolveWalOptions,
  type SyncMode,
  type VerifyThreadMode,
  type WalOptions,
} from './options.js';
export type { RecoveryReport, TornTail, TruncationReport } from './recovery.js';
export { segmentFileName } from './segment.js';
export type { TransactionOptions } from './transactions.js';
export { type EncodedRun, Wal, type WalEntry, type WalStats } from './wal.js';
