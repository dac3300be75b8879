// Issue 11, point 4 at small scale (bench/processes.ts runs it at full scale):
// two web and two worker processes, real ones, on one Postgres and one Redis.
import { expect } from 'chai';
import { config } from '../../src/config.js';
import { startStandIn, stopStandIn } from '../payments/stripe-fixtures.js';
import { reconcileInBothWorkers, sendThroughCluster, startCluster, webhookReplayStorm, type Cluster } from '../support/cluster.js';
import { processEnv } from '../support/process-env.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';

describe('two web and two worker processes on one Postgres and Redis (fault: real processes)', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let twilio: TwilioStandin;
  let smtp: TestSmtp;
  let stripe: StripeConnectStandIn;

  before(async () => {
    twilio = await startTwilioStandin();
    smtp = await startTestSmtp({ parse: false });
    stripe = await startStandIn();
    cluster = await startCluster(
      { webs: 2, workers: 2 },
      processEnv(
        { redisUrl: config.redisUrl!, twilio, smtp },
        {
          STRIPE_SECRET_KEY: config.stripe.secretKey,
          STRIPE_API_URL: config.stripe.apiUrl,
          STRIPE_CONNECT_WEBHOOK_SECRET: config.stripe.connectWebhookSecret,
        },
      ),
    );
  });

  after(async () => {
    await cluster?.stop();
    await stopStandIn(stripe);
    await twilio.close();
    await smtp.close();
  });

  it('100 sends split across both web processes are each delivered exactly once', async () => {
    const counts = await sendThroughCluster(cluster, 100, () => [...twilio.sent.map((m) => m.to), ...smtp.recipients]);
    expect(counts).to.deep.include({ requested: 100, accepted: 100, sent: 100, delivered: 100, duplicates: 0, missing: 0 });
    expect(counts.notSent).to.deep.equal({});
  });

  it('a webhook replay storm split across both web processes records one payment', async () => {
    const storm = await webhookReplayStorm(cluster, stripe, 200);
    expect(storm.otherStatuses).to.deep.equal([]);
    expect(storm.okPerWeb).to.deep.equal([100, 100]);
    expect(storm).to.deep.include({ payments: 1, invoiceStatus: 'paid', amountPaidCents: 12_500 });
  });

  it('reconciliation started in both workers at once records each missed payment once', async () => {
    const result = await reconcileInBothWorkers(stripe, 4);
    expect(result.paymentsPerInvoice).to.deep.equal([1, 1, 1, 1]);
    // Both workers ran it, and between them they recorded each payment once.
    expect(new Set(result.runs.map((r) => r.processedBy)).size).to.equal(2);
    expect(result.runs.reduce((sum, r) => sum + r.payments, 0)).to.equal(4);
  });
});
