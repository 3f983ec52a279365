/**
 * Classification metrics from predicted probabilities (rows x classes) and true labels. Plain
 * arrays only: the ensemble and evaluation need no tensors, and a test can check them by hand.
 */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  rows: number;
  accuracy: number;
  macroF1: number;
  /** Mean negative log-likelihood of the true class. */
  logLoss: number;
  perClass: Record<string, ClassMetrics>;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

export function argmax(probabilities: ArrayLike<number>, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (probabilities[row * classes + c]! > probabilities[row * classes + best]!) best = c;
  return best;
}

export function computeMetrics(probabilities: ArrayLike<number>, labels: ArrayLike<number>, classNames: readonly string[]): Metrics {
  const classes = classNames.length;
  const n = labels.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    const truth = labels[i]!;
    const predicted = argmax(probabilities, i, classes);
    confusion[truth]![predicted]!++;
    if (predicted === truth) correct++;
    logLoss -= Math.log(Math.max(1e-7, probabilities[i * classes + truth]!));
  }
  const perClass: Record<string, ClassMetrics> = {};
  let f1Sum = 0;
  classNames.forEach((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedCount === 0 ? 0 : tp / predictedCount;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass[name] = { precision, recall, f1, support };
    f1Sum += f1;
  });
  return { rows: n, accuracy: n === 0 ? 0 : correct / n, macroF1: f1Sum / classes, logLoss: n === 0 ? 0 : logLoss / n, perClass, confusion };
}
