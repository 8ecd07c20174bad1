/**
 * An SVG chart of one run, written without a charting library: for each row measured on more
 * than one store, a group of bars scaled so the best store reaches full height (latency and
 * RSS inverted, so taller is always better), with kv's ratio to the best peer above the group.
 */
import { formatRatio } from './format.js';
import type { Row } from './report.js';
import type { StoreName } from './stores/types.js';

const COLORS: Readonly<Record<StoreName, string>> = {
  kv: '#d9480f',
  'classic-level': '#1971c2',
  lmdb: '#2f9e44',
  'better-sqlite3': '#7048e8',
};

const BAR = 14;
const GAP = 30;
const PLOT_HEIGHT = 180;
const TOP = 80;
const LEFT = 150;

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderChart(rows: readonly Row[], stores: readonly StoreName[], title: string): string {
  const groups = rows.filter((r) => stores.filter((s) => r.values[s] !== undefined).length > 1);
  const groupWidth = stores.length * BAR;
  const width = Math.max(600, LEFT + 40 + groups.length * (groupWidth + GAP));
  const height = TOP + PLOT_HEIGHT + 150;
  const base = TOP + PLOT_HEIGHT;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${LEFT - 4}" y1="${base}" x2="${width - 40}" y2="${base}" stroke="#999"/>`,
    `<line x1="${LEFT - 4}" y1="${TOP}" x2="${width - 40}" y2="${TOP}" stroke="#ddd" stroke-dasharray="4 3"/>`,
    `<text x="${LEFT - 8}" y="${TOP + 4}" text-anchor="end" fill="#666">best</text>`,
  ];
  stores.forEach((s, i) => {
    const x = LEFT + i * 120;
    out.push(`<rect x="${x}" y="32" width="10" height="10" fill="${COLORS[s]}"/>`);
    out.push(`<text x="${x + 14}" y="41">${s}</text>`);
  });
  groups.forEach((row, g) => {
    const x0 = LEFT + g * (groupWidth + GAP);
    const present = stores.map((s) => row.values[s]).filter((v): v is number => v !== undefined);
    const best = row.better === 'higher' ? Math.max(...present) : Math.min(...present);
    stores.forEach((s, i) => {
      const v = row.values[s];
      if (v === undefined || v <= 0) return;
      const h = Math.max(1, PLOT_HEIGHT * (row.better === 'higher' ? v / best : best / v));
      out.push(
        `<rect x="${x0 + i * BAR}" y="${(base - h).toFixed(1)}" width="${BAR - 2}" height="${h.toFixed(1)}" fill="${COLORS[s]}"><title>${escapeXml(`${row.label} — ${s}: ${v.toPrecision(4)} ${row.unit}`)}</title></rect>`,
      );
    });
    const ratio = row.kvToBest === null ? 'kv n/a' : `kv ${formatRatio(row.kvToBest)}`;
    const color = row.kvToBest === null ? '#999' : row.kvToBest >= 1 ? '#2b8a3e' : '#c92a2a';
    out.push(`<text x="${x0 + groupWidth / 2}" y="${TOP - 8}" text-anchor="middle" fill="${color}">${ratio}</text>`);
    const lx = x0 + groupWidth / 2;
    out.push(
      `<text x="${lx}" y="${base + 12}" text-anchor="end" transform="rotate(-40 ${lx} ${base + 12})">${escapeXml(row.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
