/**
 * The comparison as a picture: two panels of horizontal bars, one group per event with a
 * bar per engine: the timed figure (s) on the left, failed requests on the right. Plain
 * SVG written by hand (no chart library); text is escaped; pure, so it is unit-tested.
 */
import { LAB_ENGINES, type LabEngine } from '../labs/engines.js';
import { EVENT_TITLES } from './events.js';
import { resultFor, type ComparisonReport, type EventFigures } from './figures.js';
import { ENGINE_TITLES } from './report.js';

export const ENGINE_COLORS: Record<LabEngine, string> = { swarm: '#1d63ed', kube: '#e8710a' };

const PANEL_WIDTH = 330;
const LABEL_WIDTH = 150;
const PANEL_GAP = 24;
const MARGIN = 16;
const WIDTH = 2 * MARGIN + 2 * (LABEL_WIDTH + PANEL_WIDTH) + PANEL_GAP;
const BAR_HEIGHT = 16;
const BAR_GAP = 4;
const GROUP_GAP = 18;
const TOP = 64;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

interface Panel {
  title: string;
  value: (f: EventFigures | undefined) => number | undefined;
  format: (v: number) => string;
}

const PANELS: Panel[] = [
  {
    title: 'Time until back to normal (s)',
    value: (f) => (f && f.completed && f.seconds !== null && f.error === undefined ? f.seconds : undefined),
    format: (v) => `${v.toFixed(1)} s`,
  },
  {
    title: 'Failed requests (probe)',
    value: (f) => f?.probe?.failed,
    format: (v) => String(v),
  },
];

/** A round upper end for an axis: 1, 2, 5 × 10^n at or above `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

export function renderChart(report: ComparisonReport): string {
  const groupHeight = LAB_ENGINES.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const plotHeight = report.events.length * (groupHeight + GROUP_GAP);
  const height = TOP + plotHeight + 56;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">${escapeXml('Docker Swarm and Kubernetes: the same events, measured by the probe')}</text>`,
  ];
  PANELS.forEach((panel, index) => {
    const left = MARGIN + index * (LABEL_WIDTH + PANEL_WIDTH + PANEL_GAP);
    const plotLeft = left + LABEL_WIDTH;
    const values = report.events.flatMap((event) => LAB_ENGINES.map((engine) => panel.value(resultFor(report, engine, event)) ?? 0));
    const max = niceMax(Math.max(0, ...values));
    const scale = (PANEL_WIDTH - 60) / max;
    out.push(`<text x="${left}" y="${TOP - 16}" font-weight="bold">${escapeXml(panel.title)}</text>`);
    out.push(`<line x1="${plotLeft}" y1="${TOP - 6}" x2="${plotLeft}" y2="${TOP + plotHeight - GROUP_GAP + 6}" stroke="#888"/>`);
    out.push(`<text x="${plotLeft + max * scale}" y="${TOP + plotHeight}" text-anchor="end" fill="#666">${escapeXml(panel.format(max))}</text>`);
    report.events.forEach((event, row) => {
      const groupTop = TOP + row * (groupHeight + GROUP_GAP);
      out.push(`<text x="${left}" y="${groupTop + groupHeight / 2 + 4}">${escapeXml(EVENT_TITLES[event].title)}</text>`);
      LAB_ENGINES.forEach((engine, slot) => {
        const y = groupTop + slot * (BAR_HEIGHT + BAR_GAP);
        const value = panel.value(resultFor(report, engine, event));
        if (value === undefined) {
          out.push(`<text x="${plotLeft + 4}" y="${y + BAR_HEIGHT - 4}" fill="#999">${escapeXml(`${ENGINE_TITLES[engine]}: n/a`)}</text>`);
          return;
        }
        const width = Math.max(1, value * scale);
        out.push(
          `<rect x="${plotLeft}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${ENGINE_COLORS[engine]}"><title>${escapeXml(`${ENGINE_TITLES[engine]}, ${EVENT_TITLES[event].title}: ${panel.format(value)}`)}</title></rect>`,
          `<text x="${(plotLeft + width + 4).toFixed(1)}" y="${y + BAR_HEIGHT - 4}">${escapeXml(panel.format(value))}</text>`,
        );
      });
    });
  });
  const legendY = height - 20;
  LAB_ENGINES.forEach((engine, i) => {
    const x = 16 + i * 160;
    out.push(`<rect x="${x}" y="${legendY - 11}" width="12" height="12" fill="${ENGINE_COLORS[engine]}"/>`);
    out.push(`<text x="${x + 18}" y="${legendY}">${escapeXml(ENGINE_TITLES[engine])}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
