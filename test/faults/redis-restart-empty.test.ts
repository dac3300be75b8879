// Issue 11, point 2: a Redis restarted without its data (no AOF/RDB) loses the
// job schedulers. A real worker process re-establishes them when its Redis
// connection is ready again, so messages written during the outage go out,
// each exactly once, without restarting the worker.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { closeQueues } from '../../src/queue/queues.js';
import { customerWithLink, useStandins, waitForStatus } from '../messaging/helpers.js';
import { loginAgent } from '../support/http.js';
import { processEnv } from '../support/process-env.js';
import { OwnRedis } from '../support/own-redis.js';
import { stopChild, waitForLine } from '../support/processes.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';

describe('a Redis restarted empty (fault: real worker process, own Redis)', function () {
  this.timeout(90_000);
  let redis: OwnRedis;
  let twilio: TwilioStandin;
  let smtp: TestSmtp;
  let worker: ChildProcess | undefined;
  let output = '';
  const sharedRedisUrl = config.redisUrl;

  before(async () => {
    redis = await OwnRedis.start();
    twilio = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(twilio, smtp);
    // This process's send route enqueues into the test's own Redis, as the web process would.
    await closeQueues();
    config.redisUrl = redis.url;
    worker = spawn(process.execPath, ['--import', 'tsx', 'workers/index.ts'], {
      env: processEnv({ redisUrl: redis.url, twilio, smtp }, { OUTBOX_SWEEP_SECONDS: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitForLine(worker, /workers started/, 30_000);
  });

  after(async () => {
    await stopChild(worker);
    await closeQueues();
    config.redisUrl = sharedRedisUrl;
    await redis.stop();
    await twilio.close();
    await smtp.close();
  });

  it('sends an email and a text written while Redis was down, once each, after Redis comes back empty', async () => {
    const customer = await customerWithLink({ email: 'outage.email@example.test', phone: '+15555550177' });
    const agent = await loginAgent(customer.org.email, customer.org.password);

    await redis.stop();
    const ids: string[] = [];
    for (const channel of ['email', 'sms'] as const) {
      const confirmTo = channel === 'email' ? 'outage.email@example.test' : '+15555550177';
      const res = await agent
        .post(`/customers/${customer.leadId}/send`)
        .type('form')
        .send({ channel, context: 'general', confirmTo, _csrf: agent.csrf });
      expect(res.status, `send ${channel}`).to.equal(303);
      ids.push(/\/messages\/([0-9a-f-]{36})$/.exec(res.headers.location)![1]);
    }
    // Recorded in the Postgres outbox, not in any queue.
    const statuses = await withOrg(customer.org.orgId, (db) => db('message_deliveries').whereIn('id', ids).pluck<string[]>('status'));
    expect(statuses).to.deep.equal(['pending', 'pending']);

    await redis.start();
    expect(await redis.keyCount()).to.be.lessThan(5); // came back without the schedulers' data

    for (const id of ids) expect((await waitForStatus(customer.org.orgId, id, ['sent', 'failed'], 30_000)).status).to.equal('sent');
    await new Promise((r) => setTimeout(r, 3_000)); // a few more sweeps: nothing goes out twice
    expect(smtp.inbox.filter((m) => JSON.stringify(m.to).includes('outage.email@example.test'))).to.have.length(1);
    expect(twilio.sent.filter((m) => m.to === '+15555550177')).to.have.length(1);
    expect(output).to.contain('job scheduler re-established');
    expect(worker!.exitCode).to.equal(null); // the same worker process throughout
  });
});
