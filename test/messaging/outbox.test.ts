// The outbox's hand-over to the queue and its sweeper, in-process: which row a dispatch relabels, what
// an unreachable Redis leaves behind, that a re-dispatched row is left alone by the next sweep, that a
// sweeper racing a worker's last-moment record writes no "interrupted" history, and that the
// development in-process sender gives up after its last attempt.
import { expect } from 'chai';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { dispatchDelivery, sweepOutbox } from '../../src/messaging/outbox.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { closeQueues, deliveryJobId, getSendQueue, SEND_ATTEMPTS } from '../../src/queue/queues.js';
import { backendPid, waitUntilBlockedBy } from '../support/locks.js';
import { captureLogs } from '../support/logs.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, delivery, hasSendJob, storeTestDelivery, useStandins } from './helpers.js';

async function setRow(orgId: string, id: string, status: string, minutesAgo: number): Promise<void> {
  await withOrg(orgId, (db) =>
    db('message_deliveries')
      .where({ id })
      .update({ status, updated_at: db.raw(`now() - make_interval(mins => ?)`, [minutesAgo]) }),
  );
}

/** Seconds since the row was last written (by the database's clock). */
async function secondsSinceUpdate(orgId: string, id: string): Promise<number> {
  const row = await withOrg(orgId, (db) =>
    db('message_deliveries').where({ id }).first<{ age: number }>(db.raw('extract(epoch from now() - updated_at)::float as age')),
  );
  return row.age;
}

/** Fails fast instead of hanging when the awaited signal never comes (a hang costs a mutation run a restart). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function historyOf(orgId: string, id: string): Promise<string[]> {
  const rows = await withOrg(orgId, (db) => db('audit_events').where({ subject_id: id }).select<{ action: string }[]>('action'));
  return rows.map((r) => r.action);
}

describe('outbox: dispatch and sweep', () => {
  it('labels only the dispatched row queued, and only while it is still pending', async () => {
    const customer = await customerWithLink({ phone: '+15555550821' });
    const orgId = customer.org.orgId;
    const dispatched = await storeTestDelivery(customer);
    const other = await storeTestDelivery(customer);
    const alreadySent = await storeTestDelivery(customer);
    await setRow(orgId, alreadySent, 'sent', 0);

    expect(await dispatchDelivery({ deliveryId: dispatched, orgId })).to.equal(true);
    expect(await hasSendJob(dispatched)).to.equal(true);
    expect((await delivery(orgId, dispatched)).status).to.equal('queued');
    expect((await delivery(orgId, other)).status, 'another message of the same customer').to.equal('pending');

    // A duplicate dispatch of a message that went out meanwhile must not make it look unsent again.
    await dispatchDelivery({ deliveryId: alreadySent, orgId });
    expect((await delivery(orgId, alreadySent)).status).to.equal('sent');
  });

  it('with Redis unreachable, says the message was not handed over and leaves it pending for the sweeper', async function () {
    this.timeout(15_000);
    const customer = await customerWithLink({ phone: '+15555550822' });
    const orgId = customer.org.orgId;
    const id = await storeTestDelivery(customer);
    await setRow(orgId, id, 'pending', 2);
    const realRedis = config.redisUrl;
    await closeQueues();
    config.redisUrl = 'redis://127.0.0.1:1'; // nothing listens there
    let dispatched: boolean;
    let sweep: Awaited<ReturnType<typeof sweepOutbox>>;
    try {
      dispatched = await dispatchDelivery({ deliveryId: id, orgId });
      sweep = await sweepOutbox();
    } finally {
      await closeQueues();
      config.redisUrl = realRedis;
    }
    expect(dispatched).to.equal(false);
    expect(sweep.notDispatched, 'the sweep reports what it could not hand over').to.be.at.least(1);
    const row = await delivery(orgId, id);
    expect(row.status).to.equal('pending');
    expect(await hasSendJob(id)).to.equal(false);
    // Still stale: the next sweep (Redis back) picks it up at once rather than a minute later.
    expect(await secondsSinceUpdate(orgId, id)).to.be.above(60);
    expect((await sweepOutbox()).redispatched).to.be.at.least(1);
    expect(await hasSendJob(id)).to.equal(true);
    expect((await delivery(orgId, id)).status).to.equal('queued');
  });

  it('touches a re-dispatched queued message, so the next sweep leaves it alone while its job waits', async () => {
    const customer = await customerWithLink({ phone: '+15555550823' });
    const orgId = customer.org.orgId;
    const lostQueued = await storeTestDelivery(customer);
    const sent = await storeTestDelivery(customer);
    await setRow(orgId, lostQueued, 'queued', 5);
    await setRow(orgId, sent, 'sent', 5);

    expect((await sweepOutbox()).redispatched).to.be.at.least(1);
    expect(await hasSendJob(lostQueued)).to.equal(true);
    expect(await secondsSinceUpdate(orgId, lostQueued)).to.be.below(60);
    // The touch is for messages still waiting to be sent, not a sent one's record.
    expect(await secondsSinceUpdate(orgId, sent)).to.be.above(60);
    expect(await hasSendJob(sent)).to.equal(false);
  });

  it('touches only the message it re-dispatched, not others waiting in the same org', async () => {
    const customer = await customerWithLink({ phone: '+15555550825' });
    const orgId = customer.org.orgId;
    const a = await storeTestDelivery(customer);
    const b = await storeTestDelivery(customer);
    await setRow(orgId, a, 'queued', 5);
    await setRow(orgId, b, 'queued', 5);

    // One at a time: the sweep re-dispatches one of the two and touches that one only.
    expect((await sweepOutbox({ limit: 1 })).redispatched).to.equal(1);
    const [handed, left] = (await hasSendJob(a)) ? [a, b] : [b, a];
    expect(await hasSendJob(handed)).to.equal(true);
    expect(await secondsSinceUpdate(orgId, handed)).to.be.below(60);
    expect(await hasSendJob(left)).to.equal(false);
    expect(await secondsSinceUpdate(orgId, left), 'still stale for the next sweep').to.be.above(60);
  });

  it('writes no "interrupted" history for a message its worker recorded sent while the sweeper waited for the row', async function () {
    this.timeout(15_000);
    const customer = await customerWithLink({ phone: '+15555550824' });
    const orgId = customer.org.orgId;
    const id = await storeTestDelivery(customer);
    await setRow(orgId, id, 'sending', 16);

    // The worker is recording the send: it holds the row while the sweeper comes to fail it.
    const worker = await getDb().transaction();
    let sweeping: ReturnType<typeof sweepOutbox> | undefined;
    try {
      await worker('message_deliveries').where({ id }).forUpdate().select('id');
      const workerPid = await backendPid(worker);
      sweeping = sweepOutbox();
      sweeping.catch(() => undefined);
      // The positive signal: some backend is waiting on the worker's row lock.
      if (!(await waitUntilBlockedBy(workerPid))) throw new Error('the sweeper never reached the row');
      await worker('message_deliveries').where({ id }).update({ status: 'sent', last_error: null });
      await worker.commit();
    } catch (err) {
      if (!worker.isCompleted()) await worker.rollback();
      throw err;
    }
    await sweeping;

    const row = await delivery(orgId, id);
    expect(row.status).to.equal('sent');
    expect(row.last_error).to.equal(null);
    expect(await historyOf(orgId, id)).not.to.include('message.interrupted');
  });
});

describe('outbox: what the sweep and the dispatch log', () => {
  it('logs what a sweep did, and nothing for a sweep with nothing to do', async () => {
    const customer = await customerWithLink({ phone: '+15555550827' });
    const orgId = customer.org.orgId;
    const lost = await storeTestDelivery(customer);
    await setRow(orgId, lost, 'pending', 3);

    let busy!: Awaited<ReturnType<typeof sweepOutbox>>;
    const first = await captureLogs(async () => {
      busy = await sweepOutbox();
    });
    expect(busy.redispatched).to.be.at.least(1);
    expect(busy.interrupted).to.equal(0);
    const line = first.text.split('\n').find((l) => l.includes('"msg":"outbox sweep"'));
    expect(line, first.text).to.be.a('string');
    expect(JSON.parse(line!)).to.include({ redispatched: busy.redispatched, notDispatched: 0, interrupted: 0 });

    // Everything stale was just handed over and touched: the next sweep finds nothing and stays quiet.
    let idle!: Awaited<ReturnType<typeof sweepOutbox>>;
    const second = await captureLogs(async () => {
      idle = await sweepOutbox();
    });
    expect(idle).to.deep.equal({ redispatched: 0, notDispatched: 0, interrupted: 0 });
    expect(second.text).not.to.contain('outbox sweep');
  });

  it("never throws when the job is in Redis but the row's label can't be written; it warns instead", async () => {
    const customer = await customerWithLink({ phone: '+15555550828' });
    const id = await storeTestDelivery(customer);
    // An org id the database refuses: the label's transaction fails after the job was added.
    let added: boolean | undefined;
    const logs = await captureLogs(async () => {
      added = await dispatchDelivery({ deliveryId: id, orgId: 'not-an-org-id' });
    });
    expect(added).to.equal(true);
    expect(await hasSendJob(id)).to.equal(true);
    expect(logs.text).to.contain('could not mark delivery queued');
    expect(logs.text).to.contain(id);
    // No worker should ever meet a job with that org id.
    await (await getSendQueue().getJob(deliveryJobId(id)))?.remove();
  });
});

describe('outbox: sending without Redis (development), giving up', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;
  let redisUrl: string | undefined;

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
    redisUrl = config.redisUrl;
    config.redisUrl = undefined;
  });
  after(async () => {
    config.redisUrl = redisUrl;
    closeTransports();
    await standin.close();
    await smtp.close();
  });

  /**
   * Dispatches a message in development mode and waits for the in-process sender to give up on it (its
   * warning in the log, the positive signal that no retry is left). A faked clock for the outbox's retry
   * timers only (pg and the pool keep real time): each wait is recorded and then skipped, so the test sees
   * the whole schedule without sitting through 15–30 s of backoff.
   */
  async function dispatchUntilGivenUp(job: { deliveryId: string; orgId: string }): Promise<{ waits: number[]; log: string }> {
    const realSetTimeout = globalThis.setTimeout;
    const waits: number[] = [];
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      // Only a timer the outbox sets itself (the line below the wrapper), not one set further down its calls.
      if (new Error().stack?.split('\n')[2]?.includes('src/messaging/outbox.')) {
        waits.push(ms ?? 0);
        return realSetTimeout(fn, 0);
      }
      return realSetTimeout(fn, ms);
    }) as typeof setTimeout;
    let gaveUp!: () => void;
    const givenUp = new Promise<void>((resolve) => (gaveUp = resolve));
    try {
      const { text } = await captureLogs(
        async () => {
          expect(await dispatchDelivery(job)).to.equal(true);
          await within(givenUp, 6_000, 'the in-process sender never gave up');
        },
        (line) => {
          if (line.includes('in-process delivery failed') && line.includes(job.deliveryId)) gaveUp();
        },
      );
      return { waits, log: text };
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
  }

  it(`backs off 1–2, 2–4, 4–8, 8–16 s between attempts, then fails the message after ${SEND_ATTEMPTS} transient errors`, async function () {
    this.timeout(20_000);
    const phone = '+15555550825';
    const customer = await customerWithLink({ phone });
    const orgId = customer.org.orgId;
    const down = { kind: 'error', status: 503, code: 20503, message: 'Down' } as const;
    standin.script(phone, ...Array.from({ length: SEND_ATTEMPTS + 2 }, () => down));
    const id = await storeTestDelivery(customer);
    const before = standin.requests;

    const { waits, log } = await dispatchUntilGivenUp({ deliveryId: id, orgId });
    const row = await delivery(orgId, id);
    expect(row.status).to.equal('failed');
    expect(row.attempts).to.equal(SEND_ATTEMPTS);
    expect(row.last_error).to.match(new RegExp(`^Gave up after ${SEND_ATTEMPTS} attempts\\.`));
    expect(standin.requests - before).to.equal(SEND_ATTEMPTS);
    expect(standin.sent.filter((m) => m.to === phone)).to.have.length(0);
    expect(waits).to.have.length(SEND_ATTEMPTS - 1);
    waits.forEach((ms, i) => expect(ms, `wait ${i + 1}`).to.be.within(1_000 * 2 ** i, 2_000 * 2 ** i));
    expect(log).to.contain('Gave up after');
  });

  it(`gives up after ${SEND_ATTEMPTS} attempts when the database is what fails, leaving the message pending for the sweeper`, async function () {
    this.timeout(20_000);
    const phone = '+15555550829';
    const customer = await customerWithLink({ phone });
    const orgId = customer.org.orgId;
    const id = await storeTestDelivery(customer);
    const before = standin.requests;

    // Every claim fails while its SQL function is away (as with the database restarting).
    await getDb().raw('alter function claim_message_deliveries(uuid, uuid[]) rename to claim_message_deliveries_away');
    let waits: number[];
    try {
      ({ waits } = await dispatchUntilGivenUp({ deliveryId: id, orgId }));
    } finally {
      await getDb().raw('alter function claim_message_deliveries_away(uuid, uuid[]) rename to claim_message_deliveries');
    }
    expect(waits).to.have.length(SEND_ATTEMPTS - 1);
    expect(standin.requests - before).to.equal(0);
    expect(await delivery(orgId, id)).to.include({ status: 'pending', attempts: 0 });
  });

  it('does not try again after a permanent failure (a number Twilio cannot text)', async function () {
    this.timeout(20_000);
    const phone = '+15555550826';
    const customer = await customerWithLink({ phone });
    const orgId = customer.org.orgId;
    standin.script(phone, { kind: 'error', status: 400, code: 21211, message: 'Invalid To number' });
    const id = await storeTestDelivery(customer);
    const before = standin.requests;

    const { waits } = await dispatchUntilGivenUp({ deliveryId: id, orgId });
    expect(waits, 'no retry scheduled').to.deep.equal([]);
    expect(standin.requests - before).to.equal(1);
    expect(await delivery(orgId, id)).to.include({ status: 'undeliverable', attempts: 1 });
  });
});
