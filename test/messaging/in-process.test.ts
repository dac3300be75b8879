// Development without REDIS_URL: a stored message is sent by the web process itself, a transient
// provider error retried after a backoff; production without Redis never sends that way (the row
// waits for the sweeper of a process that has a queue).
import { expect } from 'chai';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { dispatchDelivery, sweepOutbox } from '../../src/messaging/outbox.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, delivery, storeTestDelivery, useStandins, waitForStatus } from './helpers.js';

describe('sending without Redis (development)', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;
  let redisUrl: string | undefined;
  let isProduction: boolean;

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
  });
  beforeEach(() => {
    ({ redisUrl, isProduction } = config);
    config.redisUrl = undefined;
  });
  afterEach(() => {
    Object.assign(config, { redisUrl, isProduction });
  });
  after(async () => {
    closeTransports();
    await standin.close();
    await smtp.close();
  });

  it('sends in this process, retrying a transient Twilio error once its backoff has passed', async function () {
    this.timeout(30_000);
    const phone = '+15555550811';
    const customer = await customerWithLink({ phone });
    standin.script(phone, { kind: 'error', status: 503, code: 20503, message: 'Down' }, { kind: 'ok' });
    const id = await storeTestDelivery(customer);

    expect(await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId })).to.equal(true);
    const row = await waitForStatus(customer.org.orgId, id, ['sent', 'failed', 'undeliverable'], 15_000);
    expect(row).to.include({ status: 'sent', attempts: 2 });
    const sent = standin.sent.filter((m) => m.to === phone);
    expect(sent).to.have.length(1);
    expect(row.provider_id).to.equal(sent[0].sid);
  });

  it('in production, leaves the message pending instead (config refuses to start that way anyway)', async () => {
    const phone = '+15555550812';
    const customer = await customerWithLink({ phone });
    const id = await storeTestDelivery(customer);
    config.isProduction = true;

    expect(await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId })).to.equal(false);
    // The sweeper cannot hand it over either, and says so.
    await withOrg(customer.org.orgId, (db) =>
      db('message_deliveries')
        .where({ id })
        .update({ updated_at: db.raw(`now() - interval '2 minutes'`) }),
    );
    expect((await sweepOutbox()).notDispatched).to.be.at.least(1);
    await new Promise((r) => setTimeout(r, 300));
    expect((await delivery(customer.org.orgId, id)).status).to.equal('pending');
    expect(standin.sent.filter((m) => m.to === phone)).to.have.length(0);
  });
});
