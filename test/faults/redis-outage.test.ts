// Redis going away under a running web process: the portal and log-in keep
// answering at normal speed, rate limits fall back to the process's memory
// with one warning, /readyz says what is degraded, and limits are shared in
// Redis again once it is back (empty, as after a restart without persistence).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { csrfFrom } from '../support/http.js';
import { OwnRedis } from '../support/own-redis.js';
import { freePort, stopChild, waitForLine } from '../support/processes.js';
import { linkFor } from '../portal/support.js';

/** A request's status, body and how long it took. */
async function timed(url: string, init?: RequestInit): Promise<{ status: number; ms: number; text: string; res: Response }> {
  const started = performance.now();
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, text, res };
}

/** Logs in through the form; returns the response to the POST. */
async function logIn(base: string, email: string, password: string) {
  const page = await fetch(`${base}/login`);
  const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
  const csrf = csrfFrom(await page.text());
  return timed(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ email, password, _csrf: csrf }),
  });
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Far below ioredis's default retries (the 10–15 s a page took before), with room for a busy machine.
const NORMAL_MS = 2_000;

describe('Redis outage under the web process', function () {
  this.timeout(180_000);
  let redis: OwnRedis;
  let web: ChildProcess | undefined;
  let output = '';
  let base: string;
  let owner: TestOrg;
  let token: string;
  const prefix = `${process.env.QUEUE_PREFIX}-outage`;

  const warnings = () => output.split('\n').filter((line) => line.includes('Redis is unreachable'));
  /** Every failed-lookup count the portal keeps in Redis. */
  async function missCountsInRedis(): Promise<number> {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      const keys = await client.keys(`${prefix}:rl:portal-miss:*`);
      const values = keys.length ? await client.mget(...keys) : [];
      return values.reduce((n, v) => n + Number(v ?? 0), 0);
    } finally {
      client.disconnect();
    }
  }

  before(async () => {
    redis = await OwnRedis.start();
    owner = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(owner.orgId);
    ({ token } = await linkFor(owner.orgId, lead.id));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    web = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: process.env.DATABASE_URL,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: prefix,
        APP_SECRET: process.env.APP_SECRET,
        PUBLIC_URL: base,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    web.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    web.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitForLine(web, /Porchlight web listening/, 60_000);
  });

  after(async () => {
    await stopChild(web);
    await redis.stop();
  });

  it('keeps the portal and log-in up, fast, with one warning; /readyz says what is degraded; limits return to Redis', async () => {
    // Up: warm the pages, and misses are counted in Redis.
    expect((await timed(`${base}/p/${token}`)).status).to.equal(200);
    expect((await timed(`${base}/p/${'A'.repeat(43)}`)).status).to.equal(404);
    expect(await missCountsInRedis()).to.equal(1);
    const ready = await timed(`${base}/readyz`);
    expect(JSON.parse(ready.text)).to.deep.include({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });

    await redis.stop();

    const during: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await timed(`${base}/p/${token}`);
      expect(page.status, page.text.slice(0, 300)).to.equal(200);
      const tab = await timed(`${base}/p/${token}/invoices`);
      expect(tab.status).to.equal(200);
      const unknown = await timed(`${base}/p/${'B'.repeat(42)}${i}`);
      expect(unknown.status).to.equal(404);
      during.push(page.ms, tab.ms, unknown.ms);
    }
    const login = await logIn(base, owner.email, owner.password);
    expect(login.status).to.equal(303);
    expect(login.res.headers.get('location')).to.equal('/');
    during.push(login.ms);
    expect(Math.max(...during), `slowest request while Redis was down: ${during.map(Math.round).join(', ')} ms`).to.be.below(NORMAL_MS);

    // Limits still hold, in this process's memory: the eleventh wrong password for an address is refused.
    const wrong: number[] = [];
    for (let i = 0; i < 11; i++) wrong.push((await logIn(base, owner.email, 'not-the-password')).status);
    expect(wrong).to.deep.equal([...Array<number>(10).fill(422), 429]);

    const degraded = await timed(`${base}/readyz`);
    expect(degraded.status).to.equal(200);
    const body = JSON.parse(degraded.text) as { status: string; checks: Record<string, string>; degraded: string[] };
    expect(body.status).to.equal('degraded');
    expect(body.checks.postgres).to.equal('ok');
    expect(body.checks.redis).to.match(/^down: /);
    expect(body.degraded.join(' ')).to.contain('rate limits');
    expect(warnings(), output.slice(-3000)).to.have.length(1);

    // Back, empty: once the process has reconnected, counters are in Redis again.
    await redis.start();
    await until(
      '/readyz to say ok',
      async () => ((JSON.parse((await timed(`${base}/readyz`)).text) as { status: string }).status === 'ok' ? true : undefined),
      20_000,
    );
    for (let i = 0; i < 3; i++) expect((await timed(`${base}/p/${'C'.repeat(42)}${i}`)).status).to.equal(404);
    expect(await missCountsInRedis()).to.equal(3);
    expect((await timed(`${base}/p/${token}`)).status).to.equal(200);
    expect(output).to.contain('Redis is reachable again');
    expect(warnings()).to.have.length(1);
    // Nothing was logged as an error (no 500, no unhandled Redis error) through the outage.
    expect(output.split('\n').filter((line) => /"level":(50|60)/.test(line))).to.deep.equal([]);
  });

  it('answers fast while Redis hangs (connected but silent), then shares limits again', async () => {
    const before = warnings().length;
    const hanger = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      const sleeping = hanger.call('DEBUG', 'SLEEP', '4').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      const during: number[] = [];
      for (let i = 0; i < 6; i++) {
        const unknown = await timed(`${base}/p/${'D'.repeat(42)}${i}`);
        expect(unknown.status).to.equal(404);
        during.push(unknown.ms);
      }
      // The first waits out the 1 s command timeout; the rest don't ask Redis at all.
      expect(Math.max(...during), during.map(Math.round).join(', ')).to.be.below(NORMAL_MS);
      expect(during.slice(1).every((ms) => ms < 1_000)).to.equal(true);
      expect(warnings()).to.have.length(before + 1);
      await sleeping;
    } finally {
      hanger.disconnect();
    }
    // Awake again: after the back-off, counters go to Redis again.
    await new Promise((r) => setTimeout(r, 5_500));
    const counted = await missCountsInRedis();
    for (let i = 0; i < 2; i++) expect((await timed(`${base}/p/${'E'.repeat(42)}${i}`)).status).to.equal(404);
    expect(await missCountsInRedis()).to.equal(counted + 2);
  });
});
