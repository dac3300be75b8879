// The one shape of every Stripe webhook endpoint (src/stripe/webhook.ts), on a bare
// app with a handler that only records what reached it: configuration, signature
// and timestamp checks come before the handler, and its outcome or failure is echoed.
import { expect } from 'chai';
import express from 'express';
import Stripe from 'stripe';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { resetStripe } from '../../src/stripe/client.js';
import { stripeWebhook } from '../../src/stripe/webhook.js';
import { captureLogs } from '../support/logs.js';

const SECRET = 'whsec_endpoint_shape_test';
const signer = new Stripe('sk_test_signer');

describe('Stripe webhook endpoint shape (src/stripe/webhook.ts)', () => {
  let secret: string | undefined;
  let handled: Stripe.Event[];
  let fail: boolean;
  let savedKey: string | undefined;
  let app: express.Express;

  before(() => {
    savedKey = config.stripe.secretKey;
    config.stripe.secretKey ??= 'sk_test_endpoint_shape';
    resetStripe();
  });
  // Built per test, so the endpoint is made while the test runs (mutation testing activates mutants then).
  beforeEach(() => {
    app = express();
    app.post(
      '/hook',
      ...stripeWebhook({
        name: 'Shape test webhook',
        secret: () => secret,
        handle: (event) => {
          if (fail) return Promise.reject(new Error('handler broke'));
          handled.push(event);
          return Promise.resolve(`handled ${event.type}`);
        },
      }),
    );
  });
  after(() => {
    config.stripe.secretKey = savedKey;
    resetStripe();
  });
  beforeEach(() => {
    secret = SECRET;
    handled = [];
    fail = false;
  });

  const event = { id: 'evt_shape_1', object: 'event', type: 'payment_intent.succeeded', data: { object: {} } };
  const payload = JSON.stringify(event);
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (timestamp = now(), body = payload, key = SECRET) =>
    signer.webhooks.generateTestHeaderString({ payload: body, secret: key, timestamp });
  const post = (signature?: string, body = payload, type = 'application/json') => {
    const req = supertest(app).post('/hook').set('content-type', type);
    if (signature !== undefined) req.set('stripe-signature', signature);
    return req.send(body);
  };

  it('passes a correctly signed event to the handler and echoes its outcome', async () => {
    const res = await post(sign());
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ received: true, outcome: 'handled payment_intent.succeeded' });
    expect(handled.map((e) => e.id)).to.deep.equal(['evt_shape_1']);
  });

  it('verifies the exact bytes whatever the content type says', async () => {
    const text = await post(sign(), payload, 'text/plain');
    expect(text.status).to.equal(200);
    const spaced = `${payload} `;
    expect((await post(sign(), spaced)).status).to.equal(401);
    expect((await post(sign(now(), spaced), spaced)).status).to.equal(200);
    expect(handled).to.have.length(2);
  });

  it('refuses with 503 when the endpoint has no signing secret, and says so in the log', async () => {
    secret = undefined;
    let res: supertest.Response | undefined;
    const logs = await captureLogs(async () => {
      res = await post(sign());
    });
    expect(res?.status).to.equal(503);
    expect(res?.body).to.deep.equal({ error: 'not_configured', message: 'Webhook signing secret is not configured' });
    expect(logs.text).to.contain('Shape test webhook: signing secret or Stripe key not configured; webhook refused');
    secret = '';
    expect((await post(sign())).status).to.equal(503);
    expect(handled).to.have.length(0);
  });

  it('answers 400 without a signature and 401 with a wrong one', async () => {
    const missing = await post();
    expect(missing.status).to.equal(400);
    expect(missing.body).to.deep.equal({ error: 'missing_signature', message: 'Missing Stripe-Signature header' });
    const wrong = await post(sign(now(), payload, 'whsec_someone_else'));
    expect(wrong.status).to.equal(401);
    expect(wrong.body).to.deep.equal({ error: 'bad_signature', message: 'Signature verification failed' });
    expect(handled).to.have.length(0);
  });

  it('refuses a signature from more than 5 minutes ago or ahead, and takes one just inside', async () => {
    expect((await post(sign(now() - 6 * 60))).status).to.equal(401);
    const ahead = await post(sign(now() + 6 * 60));
    expect(ahead.status).to.equal(401);
    expect(ahead.body).to.deep.equal({ error: 'bad_timestamp', message: 'Signature timestamp is more than 5 minutes in the future' });
    expect((await post(sign(now() + 4 * 60))).status).to.equal(200);
    expect((await post(sign(now() - 4 * 60))).status).to.equal(200);
    expect(handled).to.have.length(2);
  });

  it('refuses a header with a second timestamp or one that is not a plain number, though the SDK would take them', async () => {
    const good = sign();
    const [t, ...rest] = good.split(',');
    // The SDK reads only "t=" without a space and keeps the last one; the endpoint wants exactly one, trimmed.
    expect((await post(`${good}, t=${now() + 3600}`)).status).to.equal(401);
    expect((await post(`${t}, ${t},${rest.join(',')}`)).status).to.equal(401);
    // parseInt in the SDK reads "t=<now>.5" as <now>; the endpoint refuses anything but digits.
    expect((await post(`${t}.5,${rest.join(',')}`)).status).to.equal(401);
    expect((await post(`${t}x,${rest.join(',')}`)).status).to.equal(401);
    expect(handled).to.have.length(0);
    expect((await post(`${t},${rest.join(',')}`)).status).to.equal(200);
  });

  it('takes a signature dated exactly 5 minutes ahead and refuses one a second later', async () => {
    const realNow = Date.now;
    const fixed = 1_790_000_000_000;
    Date.now = () => fixed;
    try {
      expect((await post(sign(fixed / 1000 + 300))).status).to.equal(200);
      expect((await post(sign(fixed / 1000 + 301))).status).to.equal(401);
    } finally {
      Date.now = realNow;
    }
  });

  it('answers 500 when the handler fails, so Stripe retries, and logs which event', async () => {
    fail = true;
    let res: supertest.Response | undefined;
    const logs = await captureLogs(async () => {
      res = await post(sign());
    });
    expect(res?.status).to.equal(500);
    expect(res?.body).to.deep.equal({ error: 'handler_failed', message: 'Event could not be processed; retry later' });
    expect(logs.text)
      .to.contain('Shape test webhook: event failed')
      .and.to.contain('evt_shape_1')
      .and.to.contain('payment_intent.succeeded');
  });

  it('takes a body up to 1 MB', async () => {
    const big = JSON.stringify({ ...event, pad: 'x'.repeat(900_000) });
    expect((await post(sign(now(), big), big)).status).to.equal(200);
    const tooBig = JSON.stringify({ ...event, pad: 'x'.repeat(1_100_000) });
    expect((await post(sign(now(), tooBig), tooBig)).status).to.be.oneOf([400, 413]);
  });
});
