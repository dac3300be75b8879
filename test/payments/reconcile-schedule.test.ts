// Reconciliation on a timer inside the web process (no Redis): passes come on
// the timer, never two at once, and stop() waits for the one in progress. Kept
// apart from reconcile-anywhere.test.ts (which starts processes) so the
// mutation run's `reconcile` group can run it for every mutant it covers.
import { expect } from 'chai';
import { runReconciliation, scheduleInProcessReconciliation } from '../../src/payments/stripe/reconcile.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { captureLogs } from '../support/logs.js';
import { connectedOrg, invoiceState, metadataFor, openInvoice, startStandIn, stopStandIn } from './stripe-fixtures.js';

describe('reconciliation on an in-process timer', () => {
  let standIn: StripeConnectStandIn;
  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  it('runs on its timer, never two passes at once, and stops cleanly', async () => {
    // A payment made at Stripe whose webhook never arrived.
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 12_500);
    standIn.addPaidCheckout(org.accountId, { amount: 12_500, currency: 'usd', metadata: metadataFor(org, invoiceId) });

    let runs = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let third!: () => void;
    const thirdPass = new Promise<void>((resolve) => (third = resolve));
    const schedule = scheduleInProcessReconciliation(20, {
      firstAfterMs: 0,
      run: async () => {
        runs += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await runReconciliation({ orgIds: [org.orgId] });
          await new Promise((r) => setTimeout(r, 60)); // longer than the interval
        } finally {
          inFlight -= 1;
          if (runs >= 3) third();
        }
      },
    });
    try {
      await thirdPass;
    } finally {
      await schedule.stop();
    }
    expect(inFlight).to.equal(0);
    expect(maxInFlight).to.equal(1);
    const stoppedAt = runs;
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).to.equal(stoppedAt);
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('paid');
    expect(state.payments).to.have.length(1);
  });

  it('a pass that fails is logged and the timer goes on', async () => {
    let runs = 0;
    let second!: () => void;
    const secondPass = new Promise<void>((resolve) => (second = resolve));
    const logs = await captureLogs(async () => {
      const schedule = scheduleInProcessReconciliation(30, {
        firstAfterMs: 0,
        run: () => {
          runs += 1;
          if (runs >= 2) second();
          return Promise.reject(new Error('database away'));
        },
      });
      try {
        await secondPass;
      } finally {
        await schedule.stop();
      }
    });
    expect(logs.text).to.contain('Stripe reconciliation run failed');
    expect(logs.text).to.contain('database away');
  });
});
