import { rect, shareColor, svgDocument, text, textWidth } from './svg.js';

/**
 * The confusion matrix as a picture: rows are true classes, columns predicted ones, each cell
 * coloured by its share of the row (the diagonal is each class's recall) and labelled with that
 * share and the count; full class names on both axes, row totals at the right.
 */
export function confusionSvg(confusion: readonly (readonly number[])[], classes: readonly string[], title: string, subtitle = ''): string {
  const n = classes.length;
  const cell = 72;
  const labelSize = 14;
  const left = Math.max(...classes.map((c) => textWidth(c, labelSize))) + 70;
  const top = 96 + Math.max(...classes.map((c) => textWidth(c, labelSize))) * 0.72;
  const width = Math.max(left + n * cell + 80, textWidth(title, 18, true) + 40);
  const height = top + n * cell + 40;
  const body: string[] = [text(20, 30, title, { size: 18, weight: 'bold' })];
  if (subtitle) body.push(text(20, 52, subtitle, { size: 13, fill: '#555' }));
  body.push(text(left + (n * cell) / 2, top - textWidth(classes.reduce((a, b) => (a.length > b.length ? a : b)), labelSize) * 0.72 - 16, 'predicted', { size: 13, anchor: 'middle', fill: '#555' }));
  body.push(text(18, top + (n * cell) / 2, 'true class', { size: 13, anchor: 'middle', fill: '#555', rotate: -90 }));
  for (let j = 0; j < n; j++) {
    // Column labels slanted so long names fit above narrow columns.
    body.push(text(left + j * cell + cell / 2, top - 10, classes[j]!, { size: labelSize, rotate: -45 }));
  }
  body.push(text(left + n * cell + 12, top - 10, 'rows', { size: 12, fill: '#555' }));
  for (let i = 0; i < n; i++) {
    const row = confusion[i] ?? [];
    const total = row.reduce((a, b) => a + b, 0);
    const y = top + i * cell;
    body.push(text(left - 12, y + cell / 2, classes[i]!, { size: labelSize, anchor: 'end', baseline: 'middle' }));
    for (let j = 0; j < n; j++) {
      const count = row[j] ?? 0;
      const share = total > 0 ? count / total : 0;
      const { fill, ink } = shareColor(share);
      const x = left + j * cell;
      body.push(rect(x, y, cell, cell, fill, i === j ? '#111' : '#ddd'));
      body.push(text(x + cell / 2, y + cell / 2 - 8, `${(share * 100).toFixed(0)}%`, { size: 16, anchor: 'middle', baseline: 'middle', fill: ink, weight: i === j ? 'bold' : 'normal' }));
      body.push(text(x + cell / 2, y + cell / 2 + 14, String(count), { size: 12, anchor: 'middle', baseline: 'middle', fill: ink }));
    }
    body.push(text(left + n * cell + 12, y + cell / 2, String(total), { size: 12, baseline: 'middle', fill: '#555' }));
  }
  return svgDocument(Math.ceil(width), Math.ceil(height), body);
}
