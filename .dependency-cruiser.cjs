/**
 * The architecture of src/ as rules (docs/architecture.md draws the same map). Each folder may import
 * only the folders listed for it, all of them further down the flow; an import that runs back up,
 * or any cycle between files, fails `npm run lint`. Only backend/ loads TensorFlow.js: every other
 * folder receives the `tf` it is handed, so choosing a backend happens in one place.
 *
 * To change the map, change ALLOWED here and the table in docs/architecture.md together.
 */
const ALLOWED = {
  core: [],
  backend: ['core'],
  setup: ['core', 'backend'],
  layers: ['core', 'backend'],
  registry: ['core', 'layers'],
  schema: ['core', 'registry'],
  plugins: ['core', 'registry'],
  config: ['core', 'registry', 'schema', 'plugins'],
  data: ['core', 'registry', 'schema', 'config'],
  ensemble: ['core'],
  pictures: ['core'],
  store: ['core', 'layers', 'registry', 'plugins', 'config', 'data', 'ensemble'],
  compile: ['core', 'backend', 'layers', 'registry', 'schema', 'plugins', 'config', 'data', 'store'],
  engine: ['core', 'backend', 'layers', 'registry', 'config', 'data', 'store'],
  track: ['core', 'backend'],
  export: ['core', 'config', 'data', 'ensemble', 'store'],
  run: ['core', 'backend', 'layers', 'registry', 'schema', 'plugins', 'config', 'data', 'ensemble', 'pictures', 'store', 'compile', 'engine', 'track', 'export'],
  sweep: ['core', 'backend', 'layers', 'registry', 'schema', 'plugins', 'config', 'data', 'ensemble', 'pictures', 'store', 'compile', 'engine', 'track', 'export', 'run'],
  predict: ['core', 'backend', 'layers', 'registry', 'plugins', 'config', 'data', 'ensemble', 'pictures', 'store', 'engine'],
  serve: ['core', 'backend', 'registry', 'config', 'data', 'store', 'predict', 'export'],
  cli: ['core', 'backend', 'setup', 'layers', 'registry', 'schema', 'plugins', 'config', 'data', 'ensemble', 'pictures', 'store', 'compile', 'engine', 'track', 'run', 'sweep', 'predict', 'export', 'serve'],
};

// The root of the tree being checked: `src/` here; the lint test checks a fixture tree laid out the same way.
const ROOT = '(^|/)src/';

const folderRules = Object.entries(ALLOWED).map(([folder, allowed]) => ({
  name: `${folder}-imports-only-${allowed.length > 0 ? allowed.join('-') : 'itself'}`,
  comment: `src/${folder}/ may import ${allowed.length > 0 ? allowed.map((f) => `${f}/`).join(', ') : 'nothing else of fer'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `${ROOT}${folder}/` },
  to: {
    path: `${ROOT}[^/]+/`,
    pathNot: [`${ROOT}(${[folder, ...allowed].join('|')})/`, 'node_modules'],
  },
}));

module.exports = {
  forbidden: [
    ...folderRules,
    {
      name: 'no-cycles',
      comment: 'files import each other in a loop (type-only imports count: they tie the files together all the same)',
      severity: 'error',
      from: { path: ROOT },
      to: { circular: true },
    },
    {
      name: 'only-backend-loads-tensorflow',
      comment: 'only src/backend/ loads TensorFlow.js; elsewhere import its types only and use the tf you are given',
      severity: 'error',
      from: { path: ROOT, pathNot: `${ROOT}backend/` },
      to: { path: '@tensorflow/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unknown-folder',
      comment: 'every file of src/ lives in one of the folders of the map (add a new folder to ALLOWED and the docs)',
      severity: 'error',
      from: { path: `${ROOT}(?!(${Object.keys(ALLOWED).join('|')})/)[^/]+/` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.d.ts'] },
  },
};
