// Stryker (npm run test:mutation): mutation testing of the modules that hold the core rules.
// The modules come in groups, each run on its own with only the specs that exercise it, so a
// run reports (and can be repeated) one group at a time: MUTATION_GROUP=<name> npx stryker run.
// scripts/mutation.sh runs every group in turn; the README's "Mutation testing" has the scores.

import { writeFileSync } from 'node:fs';

/** @type {Record<string, { mutate: string[]; spec: string[] }>} */
export const groups = {
  // Tenancy, portal links and lookup, approval. The pure rules it calls (balance, tokens, the portal
  // token) are scored by `unit`. Every request runs the tenancy code, so every spec covers it: the
  // specs are the ones written for these rules, not every spec that passes through them.
  core: {
    mutate: [
      'src/db/tenancy.ts',
      'src/db/rls.ts',
      'src/portal-links/commands.ts',
      'src/portal-links/queries.ts',
      'src/db/portal-page.ts',
      'src/jobs/approve-proposal.ts',
    ],
    spec: [
      'test/db/rls.test.ts',
      'test/db/rls-helpers.test.ts',
      'test/orgs/lookups.test.ts',
      'test/portal/approval.test.ts',
      'test/portal/link-rules.test.ts',
      'test/portal/links.test.ts',
      'test/portal/portal.test.ts',
      // The property filter is one of portal_page()'s arguments (src/db/portal-page.ts).
      'test/portal/properties.test.ts',
      // A new link retires an expired one (commands.ts); an approval with optional lines audits the lines chosen.
      'test/portal/expiry.test.ts',
      'test/proposals/options.test.ts',
      // The contractor's view of a link's visits (queries.ts words each one).
      'test/portal/visit-log.test.ts',
      // The version a page is read at, and the page not built again while it is current (portal-page.ts).
      'test/portal/page-versions.test.ts',
      'test/portal/page-cache.test.ts',
    ],
  },
  // Payment recording: manual payments and the Stripe payments and refunds the webhooks and
  // reconciliation both record through.
  payments: {
    mutate: ['src/payments/manual.ts', 'src/payments/stripe/record.ts'],
    spec: [
      'test/payments/manual.test.ts',
      'test/payments/manual-deposit.test.ts',
      'test/payments/not-received.test.ts',
      'test/payments/service.test.ts',
      'test/payments/stripe-webhooks.test.ts',
      'test/payments/stripe-checkout-return.test.ts',
      // Which path a Stripe payment takes (a proposal's deposit, several invoices at once) is decided in record.ts.
      'test/payments/stripe-deposits.test.ts',
      'test/payments/stripe-pay-several.test.ts',
      // A payment that cannot be applied (void, draft, another currency, overpaid) and one seen again with
      // more to fill in (its session or charge id): both decided in record.ts, reached by these specs.
      'test/payments/stripe-unapplied.test.ts',
      'test/payments/stripe-reconcile.test.ts',
    ],
  },
  // Webhooks: the signed endpoint and the Stripe payment events.
  webhooks: {
    mutate: ['src/stripe/webhook.ts', 'src/payments/stripe/webhooks.ts'],
    spec: [
      'test/payments/stripe-webhook-endpoint.test.ts',
      'test/payments/stripe-webhooks.test.ts',
      'test/payments/webhook-events-documented.test.ts',
      // A paid Checkout that saves the card (and detaches the older ones) is handled in webhooks.ts.
      'test/payments/autopay.test.ts',
      // A deposit's failed attempt is audited on its proposal (webhooks.ts words the subject).
      'test/payments/stripe-deposits.test.ts',
    ],
  },
  // Reconciliation against Stripe's lists.
  reconcile: {
    mutate: ['src/payments/stripe/reconcile.ts'],
    spec: [
      'test/payments/stripe-reconcile.test.ts',
      'test/payments/stripe-reconcile-errors.test.ts',
      'test/payments/stripe-reconcile-window.test.ts',
      // Where the next run starts: what holds the cursor back, to the second.
      'test/payments/stripe-reconcile-cursor.test.ts',
      // The in-process schedule: a pass at a time, stopped cleanly, a failed pass logged.
      'test/payments/reconcile-schedule.test.ts',
      'test/payments/stripe-unapplied.test.ts',
      'test/payments/stripe-void.test.ts',
    ],
  },
  // The message claim and record (their SQL calls) and the outbox (dispatch, the sweeper, the development
  // in-process sender), with the in-process specs. Not sending.test.ts (a real worker: a mutant that breaks a
  // send is seen only when its 8-second polling gives up) nor worker-crash.test.ts (kills worker processes,
  // over a minute per run); sweeper.test.ts and outbox.test.ts drive the sweeper rules that
  // worker-crash.test.ts checks end to end.
  messaging: {
    mutate: ['src/messaging/outbox.ts', 'src/db/sql/messaging.ts'],
    spec: [
      'test/messaging/outbox.test.ts',
      'test/messaging/sweeper.test.ts',
      'test/messaging/in-process.test.ts',
      'test/messaging/deliver.test.ts',
      'test/messaging/batcher.test.ts',
    ],
  },
  // The send processor: the claim, how each provider answer is sorted, the record of a send.
  deliver: {
    mutate: ['src/messaging/deliver.ts'],
    spec: [
      // How each provider answer is sorted, at every edge, and the pause between tries at recording a send.
      'test/messaging/deliver-classify.test.ts',
      'test/messaging/deliver.test.ts',
      'test/messaging/deliver-record.test.ts',
      'test/messaging/batcher.test.ts',
      'test/messaging/in-process.test.ts',
    ],
  },
  // The pure rules with fast, in-process specs only: the quickest score (a subset of core and money).
  unit: {
    mutate: ['src/lib/balance.ts', 'src/lib/tokens.ts', 'src/portal-links/token.ts', 'src/stripe/webhook.ts'],
    spec: ['test/lib/*.test.ts', 'test/portal/token.test.ts', 'test/payments/stripe-webhook-endpoint.test.ts'],
  },
  // Headers, CSP nonces, CSRF and rate limits.
  security: {
    mutate: ['src/http/security.ts'],
    // Every request runs this middleware, so every spec "covers" each mutant and a survivor would re-run them
    // all: the security spec (and the CSRF walk over every form) is the one that pins what it does.
    spec: ['test/http/security.test.ts', 'test/routes/csrf.test.ts'],
  },
};

const name = process.env.MUTATION_GROUP ?? 'core';
const group = groups[name];
if (!group) throw new Error(`MUTATION_GROUP=${name}: one of ${Object.keys(groups).join(', ')}`);

// The TypeScript checker re-checks its program for every mutant: its roots are this group's modules
// only (they bring what they import), written here for each run and ignored by git. Files that only
// augment other modules' types (express-session's SessionData) are imported by nobody: always roots.
const TYPE_AUGMENTATIONS = ['src/auth/session.ts'];
const tsconfigFile = `tsconfig.mutation.${name}.json`;
const files = [...group.mutate, ...TYPE_AUGMENTATIONS.filter((file) => !group.mutate.includes(file))];
writeFileSync(
  tsconfigFile,
  `${JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: true }, include: [], files }, null, 2)}\n`,
);

export default {
  packageManager: 'npm',
  testRunner: 'mocha',
  // Stryker ignores .mocharc's node-option (stryker-js#4438): tsx is loaded here.
  testRunnerNodeArgs: ['--import', 'tsx'],
  mochaOptions: { config: '.mocharc.json', spec: group.spec },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  // The group's modules and what they import, not the 275 files with tests and scripts: with the whole
  // project the checker was the bottleneck.
  tsconfigFile,
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // The checker's processes reuse a parsed file while its text is unchanged instead of parsing every
  // declaration file again for each mutant (scripts/stryker-ts-parse-cache.cjs says why and how).
  checkerNodeArgs: ['--require', './scripts/stryker-ts-parse-cache.cjs'],
  mutate: group.mutate,
  // Mutants in code that runs only when a module loads would each need a fresh process and every test.
  ignoreStatic: true,
  ignorePatterns: ['dist', 'reports', 'coverage', '.data', 'bench/results', '.stryker-tmp'],
  // With a checker Stryker runs ceil(n/2) checker processes and floor(n/2) test runners: 4 gives two of
  // each. With parsed files reused the checkers wait on the tests, which two runners share the cores for.
  concurrency: 4,
  // Added to each mutant's measured test time before it counts as timed out: a mutant that leaves a
  // request or a batch hanging costs this plus a process restart.
  timeoutMS: 10_000,
  dryRunTimeoutMinutes: 30,
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  // `survivors` (scripts/stryker-survivors.mjs) lists each surviving mutant as soon as it is known.
  appendPlugins: ['./scripts/stryker-survivors.mjs'],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json', 'survivors'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  tempDirName: `.stryker-tmp/${name}`,
};
