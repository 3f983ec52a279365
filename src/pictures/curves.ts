import { escapeXml, fmt, PALETTE, rect, svgDocument, text } from './svg.js';

/**
 * Learning curves of every task of a run in one picture: loss on the left, accuracy on the right,
 * one colour per task, training solid and validation dashed, so a fold that diverged or a member
 * that overfits stands out against the others.
 */
export interface CurveSeries {
  name: string;
  points: { epoch: number; loss?: number; val_loss?: number; accuracy?: number; val_accuracy?: number }[];
}

type Key = 'loss' | 'val_loss' | 'accuracy' | 'val_accuracy';

export function learningCurvesSvg(series: readonly CurveSeries[], title: string): string {
  const panelWidth = 420;
  const panelHeight = 280;
  const margin = { left: 64, top: 96, gap: 90 };
  const legendRows = series.length;
  const width = margin.left + 2 * panelWidth + margin.gap + 30;
  const height = margin.top + panelHeight + 60 + Math.ceil(legendRows / 3) * 20 + 30;
  const body: string[] = [text(20, 30, title, { size: 18, weight: 'bold' }), text(20, 52, 'training solid, validation dashed; one colour per task', { size: 13, fill: '#555' })];
  const maxEpoch = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.epoch)));
  const panel = (x0: number, label: string, keys: [Key, Key], fixed?: [number, number]) => {
    const values = series.flatMap((s) => s.points.flatMap((p) => keys.map((k) => p[k]).filter((v): v is number => v !== undefined && Number.isFinite(v))));
    let [lo, hi] = fixed ?? [Math.min(...values), Math.max(...values)];
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
    if (hi - lo < 1e-9) hi = lo + 1;
    const pad = fixed ? 0 : (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    const X = (epoch: number) => x0 + (maxEpoch === 1 ? panelWidth / 2 : ((epoch - 1) / (maxEpoch - 1)) * panelWidth);
    const Y = (v: number) => margin.top + panelHeight - ((v - lo) / (hi - lo)) * panelHeight;
    body.push(rect(x0, margin.top, panelWidth, panelHeight, '#fafafa', '#bbb'));
    for (let t = 0; t <= 4; t++) {
      const v = lo + ((hi - lo) * t) / 4;
      body.push(`<line x1="${x0}" x2="${x0 + panelWidth}" y1="${fmt(Y(v))}" y2="${fmt(Y(v))}" stroke="#e4e4e4"/>`);
      body.push(text(x0 - 6, Y(v), fixed ? `${(v * 100).toFixed(0)}%` : v.toFixed(2), { size: 11, anchor: 'end', baseline: 'middle', fill: '#555' }));
    }
    const ticks = Math.min(maxEpoch, 10);
    for (let t = 0; t < ticks; t++) {
      const epoch = Math.round(1 + ((maxEpoch - 1) * t) / Math.max(1, ticks - 1));
      body.push(text(X(epoch), margin.top + panelHeight + 16, String(epoch), { size: 11, anchor: 'middle', fill: '#555' }));
    }
    body.push(text(x0 + panelWidth / 2, margin.top + panelHeight + 34, 'epoch', { size: 12, anchor: 'middle', fill: '#555' }));
    body.push(text(x0, margin.top - 10, label, { size: 14, weight: 'bold' }));
    series.forEach((s, i) => {
      const color = PALETTE[i % PALETTE.length]!;
      keys.forEach((key, k) => {
        const pts = s.points.filter((p) => p[key] !== undefined && Number.isFinite(p[key]));
        if (pts.length === 0) return;
        const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${fmt(X(p.epoch))},${fmt(Y(p[key]!))}`).join(' ');
        body.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${k === 1 ? ' stroke-dasharray="6 4"' : ''}><title>${escapeXml(`${s.name} ${key}`)}</title></path>`);
      });
    });
  };
  panel(margin.left, 'loss', ['loss', 'val_loss']);
  panel(margin.left + panelWidth + margin.gap, 'accuracy', ['accuracy', 'val_accuracy'], [0, 1]);
  const legendTop = margin.top + panelHeight + 62;
  series.forEach((s, i) => {
    const x = margin.left + (i % 3) * 300;
    const y = legendTop + Math.floor(i / 3) * 20;
    body.push(`<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="3"/>`);
    body.push(text(x + 30, y, s.name, { size: 12, baseline: 'middle' }));
  });
  return svgDocument(width, Math.ceil(height), body);
}
