// `npm run reconcile [-- --org <uuid>]`: one Stripe reconciliation pass now, over
// every connected org (or one), the same pass the schedule runs. Safe to run
// while the schedule or another copy runs: a payment is recorded once.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { closeDb } from '../src/db/knex.js';
import { assertRlsEnforced } from '../src/db/tenancy.js';
import { translate } from '../src/i18n/index.js';
import { runReconciliation } from '../src/payments/stripe/reconcile.js';

const { values } = parseArgs({ options: { org: { type: 'string', multiple: true } } });
const orgIds = z.array(z.uuid('--org takes an organization id (a UUID)')).optional().safeParse(values.org);

try {
  if (!orgIds.success) throw new Error(orgIds.error.issues[0].message);
  await assertRlsEnforced();
  const summary = await runReconciliation({ orgIds: orgIds.data });
  process.stdout.write(
    `Reconciled ${summary.orgs} connected org(s): ${summary.payments} payment(s) and ${summary.refunds} refund(s) recorded, ${summary.failed} failed.\n`,
  );
  for (const failed of summary.results.filter((r) => r.error))
    process.stdout.write(`  ${failed.orgId}: ${translate('en', failed.error)}\n`);
  if (summary.failed) process.exitCode = 1;
} catch (err) {
  process.stderr.write(`Reconciliation failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await closeDb();
}
