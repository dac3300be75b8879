// The outbox sweeper in-process (the crash test drives it through a killed worker, too slowly for
// mutation runs): a message whose worker died mid-send is failed once with a reason the contractor
// can act on, never resent; a message Redis never got is handed to the queue again, a fresh one is not.
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { sweepOutbox } from '../../src/messaging/outbox.js';
import { customerWithLink, delivery, hasSendJob, storeTestDelivery } from './helpers.js';

async function setRow(orgId: string, id: string, status: string, minutesAgo: number): Promise<void> {
  await withOrg(orgId, (db) =>
    db('message_deliveries')
      .where({ id })
      .update({ status, updated_at: db.raw(`now() - make_interval(mins => ?)`, [minutesAgo]) }),
  );
}

async function interruptedEvents(orgId: string, id: string) {
  return withOrg(orgId, (db) =>
    db('audit_events')
      .where({ subject_id: id, action: 'message.interrupted' })
      .select<{ actor_type: string; actor_label: string; subject_type: string }[]>('actor_type', 'actor_label', 'subject_type'),
  );
}

describe('outbox sweeper', () => {
  it('fails a message left "sending" past 15 minutes once, saying it may have arrived; a younger one is left alone', async () => {
    const customer = await customerWithLink({ phone: '+15555550801' });
    const stuck = await storeTestDelivery(customer);
    const recent = await storeTestDelivery(customer);
    await setRow(customer.org.orgId, stuck, 'sending', 16);
    await setRow(customer.org.orgId, recent, 'sending', 10);

    // Two web/worker processes sweep at the same moment: the row is failed and reported once.
    const [first, second] = await Promise.all([sweepOutbox(), sweepOutbox()]);
    expect(first.interrupted + second.interrupted).to.be.at.least(1);
    const row = await delivery(customer.org.orgId, stuck);
    expect(row.status).to.equal('failed');
    expect(row.last_error).to.equal(
      'Sending was interrupted (the worker stopped while handing the message to the provider), so it may or may not have reached the customer. ' +
        'Porchlight does not resend it by itself to avoid a duplicate; check with the customer, then send again if needed.',
    );
    expect(await hasSendJob(stuck), 'never sent again').to.equal(false);
    expect((await delivery(customer.org.orgId, recent)).status, 'still within every provider timeout').to.equal('sending');

    // The next sweep finds nothing more to do for it: one entry in the history, not one per sweeper.
    await sweepOutbox();
    // The message's history says who failed it: the sweeper, not a person.
    expect(await interruptedEvents(customer.org.orgId, stuck)).to.deep.equal([
      { actor_type: 'system', actor_label: 'outbox sweeper', subject_type: 'message_delivery' },
    ]);
    expect(await interruptedEvents(customer.org.orgId, recent)).to.deep.equal([]);
  });

  it('hands a message Redis never got (pending for over a minute) to the queue again; a just-stored one waits for its own dispatch', async () => {
    const customer = await customerWithLink({ phone: '+15555550802' });
    const lost = await storeTestDelivery(customer);
    const fresh = await storeTestDelivery(customer);
    // Queued once, but Redis lost the job (restarted empty): it still goes out.
    const lostQueued = await storeTestDelivery(customer);
    await setRow(customer.org.orgId, lost, 'pending', 2);
    await setRow(customer.org.orgId, lostQueued, 'queued', 2);

    const sweep = await sweepOutbox();
    expect(sweep.redispatched).to.be.at.least(1);
    expect(sweep.notDispatched).to.equal(0);
    expect(await hasSendJob(lost)).to.equal(true);
    expect(await hasSendJob(lostQueued)).to.equal(true);
    expect((await delivery(customer.org.orgId, lost)).status).to.equal('queued');
    expect(await hasSendJob(fresh)).to.equal(false);
    expect((await delivery(customer.org.orgId, fresh)).status).to.equal('pending');
  });
});
