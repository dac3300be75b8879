// What the contractor reads when reconciliation fails for their account, per kind
// of Stripe answer, and the run's summary: one org's failure never stops the others.
import { expect } from 'chai';
import type Stripe from 'stripe';
import { withOrg } from '../../src/db/tenancy.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import type { OrgRecord } from '../support/rows.js';
import { connectedOrg, metadataFor, openInvoice, startStandIn, stopStandIn } from './stripe-fixtures.js';
import { translate } from '../../src/i18n/index.js';

const readable = (error: string | null) => (error === null ? null : translate('en', error));

describe('Stripe reconciliation errors (src/payments/stripe/reconcile.ts)', () => {
  let standIn: StripeConnectStandIn;
  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  const storedError = async (orgId: string) =>
    // Stored as a message (src/i18n); the contractor reads it in their language.
    readable(
      (await withOrg(orgId, (db) => db('organizations').first<Pick<OrgRecord, 'stripe_reconcile_error'>>('stripe_reconcile_error')))
        .stripe_reconcile_error,
    );

  it('words a refusal (401 or 403) as lost access, any other Stripe error with its status, and no answer as Stripe unreachable', async () => {
    const [unauthorized, forbidden, broken, unreachable, healthy] = [
      await connectedOrg(standIn),
      await connectedOrg(standIn),
      await connectedOrg(standIn),
      await connectedOrg(standIn),
      await connectedOrg(standIn),
    ];
    standIn.refuseAccount(unauthorized.accountId, 401, 'Key revoked');
    standIn.refuseAccount(forbidden.accountId, 403, 'Not allowed');
    standIn.refuseAccount(broken.accountId, 400, 'Bad thing');
    standIn.hangUpOn(unreachable.accountId);
    const invoiceId = await openInvoice(healthy.orgId, healthy.leadId, 2_500);
    standIn.addPaidCheckout(healthy.accountId, { amount: 2_500, currency: 'usd', metadata: metadataFor(healthy, invoiceId) });

    const run = await reconcileAll({
      orgIds: [unauthorized.orgId, forbidden.orgId, broken.orgId, unreachable.orgId, healthy.orgId],
      concurrency: 1,
    });
    expect(run).to.deep.include({ orgs: 5, failed: 4, payments: 1, refunds: 0 });
    const byOrg = new Map(run.results.map((r) => [r.orgId, r]));
    expect(byOrg.get(healthy.orgId)).to.deep.equal({ orgId: healthy.orgId, payments: 1, refunds: 0 });
    expect(byOrg.get(unauthorized.orgId)).to.deep.include({ payments: 0, refunds: 0 });

    const lostAccess = (status: number, message: string) =>
      `Stripe refused access to your connected account (${status}): ${message}. Online payments can’t be checked until Stripe is reconnected.`;
    expect(await storedError(unauthorized.orgId)).to.equal(lostAccess(401, 'Key revoked'));
    expect(readable(byOrg.get(unauthorized.orgId)?.error ?? null)).to.equal(lostAccess(401, 'Key revoked'));
    expect(await storedError(forbidden.orgId)).to.equal(lostAccess(403, 'Not allowed'));
    expect(await storedError(broken.orgId)).to.equal('Stripe answered with an error (400): Bad thing');
    // No answer at all (the connection closed): said as such, not as an error Stripe answered with.
    expect(await storedError(unreachable.orgId)).to.match(
      /^Stripe couldn’t be reached \(An error occurred with our connection to Stripe[^)]*\)\. Online payments will be checked again on the next run\.$/,
    );
    expect(await storedError(healthy.orgId)).to.equal(null);
  });

  it('words a failure that is not Stripe’s with its own message', async () => {
    const org = await connectedOrg(standIn);
    // A Stripe client that breaks before any answer (as a bug in handling one would).
    const broken = {
      checkout: {
        sessions: {
          list: () => {
            throw new TypeError('Cannot read what is not there');
          },
        },
      },
    } as unknown as Stripe;
    const run = await reconcileAll({ orgIds: [org.orgId], stripe: broken });
    expect(run).to.deep.include({ orgs: 1, failed: 1, payments: 0 });
    expect(await storedError(org.orgId)).to.equal('Payments could not be checked: Cannot read what is not there');
  });
});
