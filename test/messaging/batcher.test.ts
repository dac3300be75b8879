// The per-org batcher behind claims and records, and the send guarantees when
// several claim transactions for one org overlap.
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { KeyedBatcher } from '../../src/messaging/batcher.js';
import { deliverMessage, type DeliveryOutcome } from '../../src/messaging/deliver.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, delivery, storeTestDelivery, useStandins } from './helpers.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedBatcher', () => {
  function recordingBatcher(maxInFlight: number, maxSize?: number) {
    const batches: Array<{ key: string; items: number[] }> = [];
    const gates: Array<() => void> = [];
    let running = 0;
    let maxRunning = 0;
    const batcher = new KeyedBatcher<number, number>(
      async (key, items) => {
        batches.push({ key, items });
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running -= 1;
        if (items.includes(-1)) throw new Error('batch failed');
        return items.map((i) => i * 10);
      },
      { maxInFlight, maxSize },
    );
    /** Lets every batch, and any batch started after it, finish. */
    const openAll = async () => {
      for (let i = 0; i < 20; i++) {
        gates.splice(0).forEach((open) => open());
        await tick();
      }
    };
    return { batcher, batches, gates, openAll, maxRunning: () => maxRunning };
  }

  it('puts callers of the same turn in one batch and answers each with its own result', async () => {
    const { batcher, batches, openAll } = recordingBatcher(4);
    const results = Promise.all([1, 2, 3].map((i) => batcher.add('org', i)));
    await tick();
    expect(batches).to.deep.equal([{ key: 'org', items: [1, 2, 3] }]);
    await openAll();
    expect(await results).to.deep.equal([10, 20, 30]);
  });

  it('runs at most maxInFlight batches per key at once; later callers wait and are batched together', async () => {
    const { batcher, batches, gates, openAll, maxRunning } = recordingBatcher(2);
    const all: Array<Promise<number>> = [];
    for (let i = 1; i <= 4; i++) {
      all.push(batcher.add('org', i));
      await tick();
    }
    // Two batches are in flight (1 and 2); 3 and 4 wait for a free slot.
    expect(batches.map((b) => b.items)).to.deep.equal([[1], [2]]);
    gates.shift()!();
    await tick();
    await tick();
    expect(batches.map((b) => b.items)).to.deep.equal([[1], [2], [3, 4]]);
    await openAll();
    expect(await Promise.all(all)).to.deep.equal([10, 20, 30, 40]);
    expect(maxRunning()).to.equal(2);
  });

  it('keeps keys apart and splits a batch at maxSize', async () => {
    const { batcher, batches, openAll } = recordingBatcher(1, 2);
    const all = [batcher.add('a', 1), batcher.add('b', 2), batcher.add('a', 3), batcher.add('a', 4)];
    await tick();
    expect(batches).to.deep.equal([
      { key: 'a', items: [1, 3] },
      { key: 'b', items: [2] },
    ]);
    await openAll();
    expect(batches[2]).to.deep.equal({ key: 'a', items: [4] });
    expect(await Promise.all(all)).to.deep.equal([10, 20, 30, 40]);
  });

  it('rejects only the callers of the batch that failed', async () => {
    const { batcher, openAll } = recordingBatcher(2);
    const ok = batcher.add('org', 1);
    await tick();
    const bad = batcher.add('org', -1).catch((err: unknown) => err);
    await openAll();
    expect(await ok).to.equal(10);
    expect(((await bad) as Error).message).to.equal('batch failed');
  });
});

describe('overlapping claim transactions for one org', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
  });

  after(async () => {
    closeTransports();
    await standin.close();
    await smtp.close();
  });

  it('claims a delivery once when jobs for it land in different, concurrent batches', async () => {
    const customer = await customerWithLink({ phone: '+15555550177' });
    const id = await storeTestDelivery(customer);
    const other = await storeTestDelivery(customer);
    const job = { deliveryId: id, orgId: customer.org.orgId };
    // One job per turn of the event loop: each starts its own claim batch while the earlier ones are in flight.
    const outcomes: Array<Promise<DeliveryOutcome>> = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(deliverMessage(i === 3 ? { ...job, deliveryId: other } : job, { attempt: 1, maxAttempts: 5 }));
      await tick();
    }
    const results = await Promise.all(outcomes);
    const forId = results.filter((_, i) => i !== 3);
    expect(forId.filter((r) => r.result === 'sent')).to.have.length(1);
    expect(forId.filter((r) => r.result === 'skipped')).to.have.length(4);
    expect(results[3].result).to.equal('sent');
    expect(standin.sent.filter((m) => m.to === '+15555550177')).to.have.length(2); // `id` once, `other` once
    const row = await delivery(customer.org.orgId, id);
    expect(row.status).to.equal('sent');
    expect(row.attempts).to.equal(1);
    // Each sent delivery gets exactly one audit event.
    const audits = await withOrg(customer.org.orgId, (db) =>
      db('audit_events')
        .where({ action: 'message.sent' })
        .whereIn('subject_id', [id, other])
        .select<{ subject_id: string; data: { providerId: string; channel: string } }[]>('subject_id', 'data'),
    );
    expect(audits).to.have.length(2);
    const sent = await delivery(customer.org.orgId, other);
    expect(audits.find((a) => a.subject_id === other)?.data).to.deep.equal({ channel: 'sms', providerId: sent.provider_id });
  });
});
