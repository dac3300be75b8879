// The security middleware (src/http/security.ts) through the real app and on a
// bare one: the CSP and its per-response nonce, where a CSRF token may come
// from, how long a form-only session lives, and the Redis-backed rate limiter.
import crypto from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import helmet from 'helmet';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { createRateLimiter, freshNonce, HELMET_OPTIONS, policyAllowingStyles, securityHeaders } from '../../src/http/security.js';
import { translate } from '../../src/i18n/index.js';
import { HttpError } from '../../src/lib/errors.js';
import { getStoreRedis } from '../../src/queue/redis.js';
import { createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';

function cspOf(header: unknown): Map<string, string> {
  return new Map(
    String(header)
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name, values.join(' ')] as const;
      }),
  );
}

function cookieExpiry(res: supertest.Response): number {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const session = cookies.find((c) => /expires=/i.test(c));
  if (!session) throw new Error(`no expiring cookie in ${JSON.stringify(cookies)}`);
  return Date.parse(/expires=([^;]+)/i.exec(session)![1]);
}

describe('security middleware (src/http/security.ts)', () => {
  it('sends the CSP the product needs: self only, Stripe form targets, and a fresh 128-bit style nonce each time', async () => {
    const first = await supertest(testApp()).get('/login');
    const second = await supertest(testApp()).get('/login');
    const csp = cspOf(first.headers['content-security-policy']);
    expect(csp.get('default-src')).to.equal("'self'");
    expect(csp.get('script-src')).to.equal("'self'");
    expect(csp.get('img-src')).to.equal("'self' data:");
    expect(csp.get('form-action')).to.equal("'self' https://checkout.stripe.com https://connect.stripe.com https://billing.stripe.com");
    expect(csp.get('frame-ancestors')).to.equal("'none'");
    expect(csp.has('upgrade-insecure-requests')).to.equal(false);
    const nonce = /^'self' 'nonce-([A-Za-z0-9+/=]+)'$/.exec(csp.get('style-src') ?? '')?.[1];
    expect(nonce, csp.get('style-src')).to.be.a('string');
    expect(Buffer.from(nonce!, 'base64')).to.have.length(16);
    const again = /'nonce-([^']+)'/.exec(cspOf(second.headers['content-security-policy']).get('style-src') ?? '')?.[1];
    expect(again).not.to.equal(nonce);
    expect(first.headers['strict-transport-security']).to.equal(undefined);
  });

  it('sends exactly the headers helmet itself sets with these settings, each response with its own nonce', async () => {
    // The same page behind the replayed headers and behind helmet run per request.
    const build = (...headers: express.RequestHandler[]) =>
      express()
        .disable('x-powered-by')
        .disable('etag')
        .use(...headers)
        .get('/', (_req, res) => {
          res.send(res.locals.cspNonce as string);
        });
    const replayed = build(securityHeaders);
    const withNonce: express.RequestHandler = (_req, res, next) => {
      res.locals.cspNonce = freshNonce();
      next();
    };
    const direct = build(withNonce, helmet(HELMET_OPTIONS));
    const headersOf = (res: supertest.Response) => {
      const { date: _date, ...rest } = res.headers as Record<string, string>;
      // The body is the response's nonce: put a fixed word in its place to compare the rest.
      return Object.fromEntries(Object.entries(rest).map(([name, value]) => [name, String(value).split(res.text).join('NONCE')]));
    };
    const [a, b, c] = [await supertest(replayed).get('/'), await supertest(replayed).get('/'), await supertest(direct).get('/')];
    expect(a.text).not.to.equal(b.text);
    expect(a.headers['content-security-policy']).to.contain(`'nonce-${a.text}'`);
    expect(b.headers['content-security-policy']).to.contain(`'nonce-${b.text}'`);
    expect(headersOf(a)).to.deep.equal(headersOf(c));
    expect(headersOf(b)).to.deep.equal(headersOf(c));
    expect(Object.keys(headersOf(c))).to.include.members([
      'content-security-policy',
      'x-content-type-options',
      'referrer-policy',
      'x-frame-options',
    ]);
  });

  it('gives a page sent as it is the same policy with its style hashes in place of the nonce', async () => {
    const res = await supertest(
      express()
        .use(securityHeaders)
        .get('/', (_req, r) => void r.end()),
    ).get('/');
    const perResponse = String(res.headers['content-security-policy']);
    const nonceSource = /'nonce-[^']+'/.exec(perResponse)![0];
    const hashes = ["'sha256-AAAA'", "'sha256-BBBB'"];
    expect(policyAllowingStyles(hashes)).to.equal(perResponse.replace(nonceSource, hashes.join(' ')));
    expect(cspOf(policyAllowingStyles(hashes)).get('style-src')).to.equal("'self' 'sha256-AAAA' 'sha256-BBBB'");
    // No inline style at all: the directive keeps 'self' alone, with nothing left dangling.
    expect(policyAllowingStyles([])).to.equal(perResponse.replace(` ${nonceSource}`, ''));
    expect(policyAllowingStyles([])).to.not.match(/ ;| $/);
  });

  it('cuts each nonce from system randomness asked for 256 nonces (4 KiB) at a time, never handing one out twice', () => {
    const fill = crypto.randomFillSync;
    let fills = 0;
    crypto.randomFillSync = ((buffer: Buffer) => {
      fills += 1;
      return fill(buffer);
    }) as typeof fill;
    try {
      const seen = new Set<string>();
      // Up to the next refill (the pool is shared with every request before this test)...
      for (let i = 0; fills === 0; i++) {
        expect(i).to.be.below(257);
        seen.add(freshNonce());
      }
      // ...then exactly 256 nonces per refill, each 16 bytes of base64 and each new.
      const afterFirst: number[] = [];
      for (let i = 1; i <= 600; i++) {
        const nonce = freshNonce();
        expect(nonce).to.match(/^[A-Za-z0-9+/]{22}==$/);
        expect(seen.has(nonce), `nonce ${i} repeated`).to.equal(false);
        seen.add(nonce);
        if (fills > 1 + afterFirst.length) afterFirst.push(i);
      }
      expect(afterFirst).to.deep.equal([256, 512]);
    } finally {
      crypto.randomFillSync = fill;
    }
  });

  it('a session started only to carry a form token lasts 2 hours; a logged-in one keeps its 14 days', async () => {
    const before = Date.now();
    const anonymous = await supertest(testApp()).get('/login');
    const expires = cookieExpiry(anonymous);
    expect(expires - before).to.be.within(2 * 3600_000 - 60_000, 2 * 3600_000 + 60_000);

    const org = await createTestOrg();
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get('/');
    expect(page.status).to.equal(200);
    expect(cookieExpiry(page) - Date.now()).to.be.greaterThan(13 * 86_400_000);
  });

  it('takes the CSRF token from the form field, else from the X-CSRF-Token header, and refuses with 403 otherwise', async () => {
    const org = await createTestOrg();
    const agent = await loginAgent(org.email, org.password);
    const none = await agent.post('/logout').type('form').send({});
    expect(none.status).to.equal(403);
    expect(none.text).to.contain('This form has expired. Go back, reload the page and try again.');
    const asJson = await agent.post('/logout').set('accept', 'application/json').type('form').send({});
    expect(asJson.status).to.equal(403);
    expect(asJson.body, 'a script posting without the token gets the stable error id').to.deep.equal({
      error: 'csrf',
      message: 'This form has expired. Go back, reload the page and try again.',
    });
    const wrongField = await agent.post('/logout').set('x-csrf-token', agent.csrf).type('form').send({ _csrf: 'not-the-token' });
    expect(wrongField.status, 'a wrong form field wins over a right header').to.equal(403);
    const notAString = await agent
      .post('/logout')
      .set('x-csrf-token', agent.csrf)
      .type('json')
      .send({ _csrf: { token: 'x' } });
    expect(notAString.status, 'a field that is not a string is no token: the header is used').to.not.equal(403);

    const agent2 = await loginAgent(org.email, org.password);
    const byHeader = await agent2.post('/logout').set('x-csrf-token', agent2.csrf).type('form').send({});
    expect(byHeader.status).to.equal(303);
    const agent3 = await loginAgent(org.email, org.password);
    const byField = await agent3.post('/logout').type('form').send({ _csrf: agent3.csrf });
    expect(byField.status).to.equal(303);
    expect(csrfFrom((await supertest(testApp()).get('/login')).text)).to.be.a('string');
  });

  describe('createRateLimiter', () => {
    function limitedApp(options: Parameters<typeof createRateLimiter>[0]) {
      const app = express();
      app.get('/hit', createRateLimiter(options), (_req, res) => {
        res.json({ ok: true });
      });
      app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        const e = err as HttpError;
        res.status(e.status).json({ id: e.id, message: e.message });
      });
      return app;
    }

    it('counts in Redis under the limiter’s own prefix, sends draft-8 headers only, and refuses with 429', async () => {
      const name = `probe${Date.now()}`;
      const app = limitedApp({ name, windowMs: 60_000, limit: 2 });
      const first = await supertest(app).get('/hit');
      expect(first.status).to.equal(200);
      expect(first.headers).to.have.property('ratelimit-policy');
      expect(first.headers).to.have.property('ratelimit');
      expect(first.headers).not.to.have.property('x-ratelimit-limit');
      expect(first.headers).not.to.have.property('ratelimit-limit');
      expect((await supertest(app).get('/hit')).status).to.equal(200);
      const third = await supertest(app).get('/hit');
      expect(third.status).to.equal(429);
      // The refusal is a message, told in the reader's language where it is shown (the error handler).
      expect(third.body).to.deep.equal({ id: 'rate_limited', message: 'http:error.rateLimited' });
      expect(translate('en', (third.body as { message: string }).message)).to.equal(
        'Too many attempts. Please wait a few minutes and try again.',
      );
      const keys = await getStoreRedis()!.keys(`${config.queuePrefix}:rl:${name}:*`);
      expect(keys).to.have.length(1);
      // A second process builds the same limiter: the count is shared, not per process.
      expect((await supertest(limitedApp({ name, windowMs: 60_000, limit: 2 })).get('/hit')).status).to.equal(429);
      // Another limiter name counts apart.
      expect((await supertest(limitedApp({ name: `${name}x`, windowMs: 60_000, limit: 2 })).get('/hit')).status).to.equal(200);
    });

    it('says what the limiter was given to say, and honours its key and what counts as a failure', async () => {
      const name = `probe${Date.now()}m`;
      const app = limitedApp({
        name,
        windowMs: 60_000,
        limit: 1,
        message: 'Slow down, please.',
        keyGenerator: (req) => (typeof req.query.who === 'string' ? req.query.who : 'nobody'),
      });
      expect((await supertest(app).get('/hit?who=a')).status).to.equal(200);
      expect((await supertest(app).get('/hit?who=b')).status).to.equal(200);
      const refused = await supertest(app).get('/hit?who=a');
      expect(refused.status).to.equal(429);
      expect(refused.body).to.include({ message: 'Slow down, please.' });

      const lenient = limitedApp({ name: `${name}s`, windowMs: 60_000, limit: 1, skipSuccessfulRequests: true });
      for (let i = 0; i < 3; i++) expect((await supertest(lenient).get('/hit')).status).to.equal(200);
    });
  });
});
