import type { Unit } from './workloads/types.js';

/** Three significant digits, with k/M suffixes for large numbers: 2946 -> "2.95k". */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  if (abs >= 100) return Math.round(n).toString();
  return n.toPrecision(3);
}

export function formatValue(n: number, unit: Unit): string {
  return unit === 'MB' ? Math.round(n).toString() : compact(n);
}

export function formatRatio(r: number): string {
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

export function formatPercent(r: number): string {
  return `${Math.round(r * 100)}%`;
}
