import { contentDigest, type Dataset } from './dataset.js';

/**
 * Relabels a dataset to merged classes (data.merge_classes): the reference study's 3-class
 * models, for instance, take positive = happy + surprise, negative = angry + disgust + fear + sad,
 * neutral = neutral. Pixels and splits are shared, not copied; the digest is of the new content,
 * so runs on merged and unmerged labels never share folders or caches.
 */
export function mergeClasses(dataset: Dataset, merge: Record<string, readonly string[]>): Dataset {
  const targets = Object.keys(merge);
  const mapping = new Uint8Array(dataset.classes.length).fill(255);
  targets.forEach((target, t) => {
    for (const name of merge[target]!) {
      const index = dataset.classes.indexOf(name);
      if (index < 0) throw new Error(`merge_classes: \`${name}\` is not a class of the data (${dataset.classes.join(', ')})`);
      mapping[index] = t;
    }
  });
  const left = dataset.classes.filter((_, i) => mapping[i] === 255);
  if (left.length > 0) throw new Error(`merge_classes leaves out ${left.join(', ')}`);
  const labels = new Uint8Array(dataset.labels.length);
  for (let i = 0; i < labels.length; i++) labels[i] = mapping[dataset.labels[i]!]!;
  const merged = { ...dataset, classes: targets, labels };
  return { ...merged, digest: contentDigest(merged) };
}
