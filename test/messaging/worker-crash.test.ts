// A real worker process killed with SIGKILL while sends are in flight, then a new
// worker process finishing the queue. What DESIGN.md and src/messaging/deliver.ts
// promise: no message is ever sent twice (a row claimed for sending is never
// sent again by itself: at-most-once), every message not caught mid-send is
// delivered exactly once, and nothing is lost silently — a message caught
// mid-send ends 'failed' with a reason telling the contractor to check.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { withOrg } from '../../src/db/tenancy.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { previewSend } from '../../src/messaging/queries.js';
import { storeDelivery } from '../../src/messaging/commands.js';
import { dispatchDelivery, sweepOutbox } from '../../src/messaging/outbox.js';
import { closeQueues, getSendQueue } from '../../src/queue/queues.js';
import { getOrg } from '../../src/orgs/queries.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { processEnv } from '../support/process-env.js';
import { stopChild, waitForLine } from '../support/processes.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { useStandins } from './helpers.js';

/** More messages than one worker takes at once (its concurrency is 50), so some wait in Redis at the kill. */
const MESSAGES = 80;

async function until<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a worker process killed with SIGKILL mid-send', function () {
  this.timeout(180_000);
  let standin: TwilioStandin;
  let smtp: TestSmtp;
  const children: ChildProcess[] = [];

  function startWorker(): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/index.ts'], {
      env: processEnv({ twilio: standin }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  }

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
  });

  after(async () => {
    for (const child of children) await stopChild(child);
    await closeQueues();
    await standin.close();
    await smtp.close();
  });

  it('sends nothing twice; the new worker delivers every message not caught mid-send, and those are reported', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const phones = Array.from({ length: MESSAGES }, (_, i) => `+1555555${String(2000 + i)}`);
    const ids: string[] = [];
    for (const phone of phones) {
      const lead = await createTestLead(org.orgId, { phone, email: null });
      ids.push(
        await withOrg(org.orgId, async (db) => {
          await generatePortalLink(db, lead.id, { type: 'user', userId: org.userId });
          const preview = await previewSend(db, await getOrg(db), lead.id, { channel: 'sms', context: 'general' });
          expect(preview.problems).to.deep.equal([]);
          return (await storeDelivery(db, preview, { type: 'user', userId: org.userId })).id;
        }),
      );
    }
    const rows = () =>
      withOrg(org.orgId, (db) =>
        db('message_deliveries')
          .whereIn('id', ids)
          .select<{ id: string; to_address: string; status: string; provider_id: string | null; last_error: string | null }[]>(
            'id',
            'to_address',
            'status',
            'provider_id',
            'last_error',
          ),
      );

    // Worker A takes the jobs; the provider answers slowly, so sends are in flight when it dies.
    standin.delayMs = 1_500;
    const a = startWorker();
    await waitForLine(a, /workers started/, 60_000);
    for (const id of ids) expect(await dispatchDelivery({ deliveryId: id, orgId: org.orgId })).to.equal(true);
    await until(
      () => standin.requests,
      (n) => n >= 10,
      'sends in flight at the provider',
    );
    const exited = new Promise((resolve) => a.once('exit', (_code, signal) => resolve(signal)));
    a.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');
    const atKill = await rows();
    const claimedAtKill = new Set(atKill.filter((r) => r.status === 'sending').map((r) => r.id));
    expect(claimedAtKill.size, 'sends in flight when the worker died').to.be.greaterThan(0);
    expect(atKill.filter((r) => r.status === 'queued' || r.status === 'pending').length, 'messages not yet started').to.be.greaterThan(0);

    // Worker B: finishes the waiting jobs and, once the dead worker's locks expire, its stalled ones.
    standin.delayMs = 0;
    const b = startWorker();
    await waitForLine(b, /workers started/, 60_000);
    await until(rows, (r) => r.every((row) => row.status !== 'pending' && row.status !== 'queued'), 'every unclaimed message sent');
    const queue = getSendQueue();
    await until(
      () => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
      (c) => Object.values(c).every((n) => n === 0),
      'the send queue drained (stalled jobs of the dead worker included)',
    );
    // The sweeper's pass for rows left 'sending' by a crash (normally after 15 minutes).
    await sweepOutbox({ sendingTimeoutSeconds: 0 });
    const final = await rows();

    const sentTo = new Map<string, number>();
    for (const m of standin.sent) sentTo.set(m.to, (sentTo.get(m.to) ?? 0) + 1);
    for (const row of final) {
      const copies = sentTo.get(row.to_address) ?? 0;
      expect(copies, `${row.to_address} received ${copies} copies`).to.be.at.most(1);
      if (claimedAtKill.has(row.id)) {
        // Caught mid-send: maybe delivered, never resent, and the contractor is told.
        expect(row.status).to.equal('failed');
        expect(row.last_error).to.match(/interrupted/i);
      } else {
        expect(row.status, row.to_address).to.equal('sent');
        expect(copies, row.to_address).to.equal(1);
        expect(standin.sent.find((m) => m.to === row.to_address)!.sid).to.equal(row.provider_id);
      }
    }
    expect(final.filter((r) => r.status === 'sent').length).to.equal(MESSAGES - claimedAtKill.size);
    expect(await stopChild(b)).to.equal(0);
  });
});
