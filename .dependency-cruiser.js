// dependency-cruiser rules for Porchlight's source layout (run: npm run lint:deps).
//
// Layers, bottom -> top; a module may import only from its own layer or lower ones:
//   1. base            src/{config,logger,paths,plans,shutdown}.ts, src/i18n/** (the catalogues' words)
//   2. lib             src/lib/**              (imports nothing from the project outside src/lib but src/i18n)
//   3. db              src/db/**               (lib, base)
//   4. infrastructure  src/{http,queue,mail,stripe}/**  (lib, db, base, each other)
//   5. features        src/<feature>/**        (lib, db, infrastructure, base, EARLIER features)
//   6. top             src/app.ts, src/server.ts, src/dev/**, workers/**, scripts/**  (anything in src)
// test/** and bench/** may import anything; they are cruised for unresolvable imports and cycles.

// The feature folders, in dependency order: each may import only the ones before it.
// Edit this list to add or reorder a feature; the per-feature rules are generated from it.
const FEATURES = [
  'orgs',
  'auth',
  'leads',
  'portal-links',
  'proposals',
  'jobs',
  'invoices',
  'payments',
  'messaging',
  'requests',
  'portal',
  'documents',
  'billing',
  'dashboard',
];
const INFRASTRUCTURE = ['http', 'queue', 'mail', 'stripe'];
const BASE_FILES = ['config', 'logger', 'paths', 'plans', 'shutdown'];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
const folders = (names) => `^src/(${names.map(esc).join('|')})/`;

const BASE = `^src/((${BASE_FILES.map(esc).join('|')})\\.ts$|i18n/)`;
const I18N = '^src/i18n/';
const LIB = '^src/lib/';
const DB = '^src/db/';
const DB_INTERNAL = '^src/db/internal/';
const INFRA = folders(INFRASTRUCTURE);
const TOP_IN_SRC = '^src/((app|server)\\.ts$|dev/)';
// Any module of the project (as opposed to npm packages and node built-ins).
const PROJECT = '^(src|workers|scripts|migrations|test|bench)/';
// Route files: routes.ts anywhere, anything under a routes/ folder, or *-routes.ts.
const ROUTE_FILE = '(^|/)routes\\.ts$|/routes/|-routes\\.ts$';
const ENTRY_POINTS = [
  '^src/server\\.ts$',
  '^workers/index\\.ts$',
  '^src/db/migrate\\.ts$',
  '^scripts/[^/]+\\.ts$',
  '^migrations/[^/]+\\.ts$',
  '^test/',
  '^bench/',
];
const IN_LAYOUT = [BASE, LIB, DB, INFRA, TOP_IN_SRC, FEATURES.length ? folders(FEATURES) : null].filter(Boolean);

const featureRules = FEATURES.map((feature, i) => {
  const allowedFeatures = FEATURES.slice(0, i + 1);
  return {
    name: `feature-${feature}`,
    comment:
      `src/${feature} may import lib, db, infrastructure, base` +
      (i > 0 ? ` and the features before it (${FEATURES.slice(0, i).join(', ')})` : '') +
      '; move shared code down, or reorder FEATURES in .dependency-cruiser.js.',
    severity: 'error',
    from: { path: `^src/${esc(feature)}/` },
    to: { path: PROJECT, pathNot: [BASE, LIB, DB, INFRA, folders(allowedFeatures)] },
  };
});

export default {
  forbidden: [
    {
      name: 'base-imports-base-only',
      comment:
        'src/{config,logger,paths,plans,shutdown}.ts and src/i18n are the bottom layer: they import only each other (and npm packages).',
      severity: 'error',
      from: { path: BASE },
      to: { path: PROJECT, pathNot: BASE },
    },
    {
      name: 'lib-imports-lib-only',
      comment: 'src/lib imports nothing from the project outside src/lib but the words of src/i18n (npm packages are fine).',
      severity: 'error',
      from: { path: LIB },
      to: { path: PROJECT, pathNot: [LIB, I18N] },
    },
    {
      name: 'db-imports-lib-and-base-only',
      comment: 'src/db may import src/lib and the base files only.',
      severity: 'error',
      from: { path: DB },
      to: { path: PROJECT, pathNot: [DB, LIB, BASE] },
    },
    {
      name: 'infrastructure-imports-below-only',
      comment: `src/{${INFRASTRUCTURE.join(',')}} may import lib, db, base and each other.`,
      severity: 'error',
      from: { path: INFRA },
      to: { path: PROJECT, pathNot: [INFRA, DB, LIB, BASE] },
    },
    ...featureRules,
    {
      name: 'src-not-to-workers',
      comment: 'Only src/app.ts and src/server.ts may import workers/**; workers share types through src/queue.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(app|server)\\.ts$' },
      to: { path: '^workers/' },
    },
    {
      name: 'app-not-to-tooling',
      comment: 'src, workers and scripts must not import tests, benches or migrations.',
      severity: 'error',
      from: { path: '^(src|workers|scripts)/' },
      to: { path: '^(test|bench|migrations)/' },
    },
    {
      name: 'not-in-layout',
      comment:
        'Every module under src/ belongs to a layer: base file, lib, db, infrastructure, a feature listed in FEATURES, or top (app.ts, server.ts, dev/).',
      severity: 'error',
      from: { path: '^src/', pathNot: IN_LAYOUT },
      to: {},
    },
    {
      name: 'db-internal-only-from-db',
      comment: 'src/db/internal (sqlLiteral, the multi-statement script runner) may only be imported from src/db.',
      severity: 'error',
      from: { path: '^(src|workers|scripts|migrations)/', pathNot: DB },
      to: { path: DB_INTERNAL },
    },
    {
      name: 'no-route-to-route',
      comment: 'A route file (routes.ts, routes/**, *-routes.ts) must not import another route file: share through a service or src/http.',
      severity: 'error',
      from: { path: ROUTE_FILE },
      to: { path: ROUTE_FILE },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment:
        'A module nothing imports must be an entry point (server, worker, migrate, scripts, migrations, tests, benches) - or be deleted.',
      severity: 'error',
      module: { path: '^(src|workers)/', pathNot: ENTRY_POINTS, numberOfDependentsLessThan: 1 },
      from: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import must resolve (a typo, a missing file or an uninstalled package).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    cache: false,
  },
};
