/** Runs the named benchmarks (all when none is named): `npm run bench -- compile`. */
const available = ['compile', 'data', 'engine'] as const;
const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? wanted : [...available];
for (const name of selected) {
  if (!(available as readonly string[]).includes(name)) {
    console.error(`unknown benchmark ${name}; available: ${available.join(', ')}`);
    process.exit(2);
  }
  await import(`./${name}.js`);
}
