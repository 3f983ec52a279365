import type { Diagnostic } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import { entryOf } from '../core/item-spec.js';
import type { Locator } from '../schema/errors.js';
import type { FerConfig } from './types.js';

/**
 * Where validation rows come from, checked on the normalised config: folds (each fold validates on
 * its own rows) or, without folds, `data.split.validation_fraction`; never the test rows.
 * - both at once is an error (the folds already validate);
 * - early stopping or reduce_on_plateau watching a `val_*` metric in a run with neither is a
 *   warning: they would never see the metric, so never act.
 */
export function checkValidationRows(config: FerConfig, locate: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (severity: Diagnostic['severity'], at: DocumentPath, message: string, hint: string): void => {
    out.push({ severity, code: 'schema', message, hint, span: locate(at).span, path: displayPath(at) });
  };
  const fraction = config.data?.split?.validation_fraction;
  const held = typeof fraction === 'number';
  if (held && config.folds) {
    report('error', ['data', 'split', 'validation_fraction'], 'validation_fraction holds out validation rows for a run without folds, but this run has folds (each fold already validates on its own rows)', 'remove validation_fraction, or the folds section');
  }
  if (held || config.folds) return out;
  const watchers: { at: DocumentPath; name: string; monitor: unknown }[] = [];
  if (config.training?.early_stopping) watchers.push({ at: ['training', 'early_stopping'], name: 'early_stopping', monitor: config.training.early_stopping.monitor });
  const schedule = config.training?.schedule;
  if (schedule && typeof schedule === 'object' && Object.keys(schedule).length === 1) {
    const { name, args } = entryOf(schedule);
    if (name === 'reduce_on_plateau') watchers.push({ at: ['training', 'schedule'], name, monitor: (args as { monitor?: unknown }).monitor });
  }
  for (const { at, name, monitor } of watchers) {
    if (typeof monitor === 'string' && monitor.startsWith('val_')) {
      report('warning', at, `${name} watches ${monitor}, but this run has no validation rows (no folds, no data.split.validation_fraction): it will never act`, 'set data.split.validation_fraction (0.1, say) to hold out validation rows, or watch a training metric');
    }
  }
  return out;
}
