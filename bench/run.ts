/**
 * Runs the named benchmarks: `npm run bench -- compile`. Without names, the quick ones; the
 * accuracy, recipes and sweep benchmarks train for half an hour or more, and serve starts a server, so they run only when named.
 */
const quick = ['compile', 'data', 'engine', 'validate'];
const available = [...quick, 'faults', 'serve', 'reference-accuracy', 'recipes', 'sweep'];
const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? wanted : quick;
for (const name of selected) {
  if (!available.includes(name)) {
    console.error(`unknown benchmark ${name}; available: ${available.join(', ')}`);
    process.exit(2);
  }
  await import(`./${name}.js`);
}
