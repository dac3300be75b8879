// The node:http layer under the twilio SDK (transports.ts), against the Twilio stand-in.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import twilio from 'twilio';
import { TwilioHttpClient } from '../../src/messaging/transports.js';
import { TWILIO_ERRORS, startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';

describe('Twilio HTTP client (node:http under the SDK)', () => {
  let standin: TwilioStandin;

  before(async () => {
    standin = await startTwilioStandin();
  });
  after(() => standin.close());
  beforeEach(() => standin.reset());

  const sdk = () => twilio(standin.accountSid, standin.authToken, { accountSid: standin.accountSid, autoRetry: false, httpClient: new TwilioHttpClient(new URL(standin.url)) });

  it('sends the form the SDK builds (spaces, +, & and unicode intact) and returns the SDK instance', async () => {
    const body = 'Hi Zoë & co: 50% off + your page https://x.test/p/a?b=c d';
    const created = await sdk().messages.create({ to: '+15555550100', body, messagingServiceSid: 'MG00000000000000000000000000000000', statusCallback: 'https://porchlight.test/webhooks/twilio/status' });
    expect(created.sid).to.equal(standin.sent[0].sid);
    expect(created.status).to.equal('queued');
    expect(standin.sent[0]).to.include({ to: '+15555550100', body, messagingServiceSid: 'MG00000000000000000000000000000000', statusCallback: 'https://porchlight.test/webhooks/twilio/status' });
  });

  it("turns a Twilio error body into the SDK's RestException with status and code", async () => {
    standin.script('+15555550101', TWILIO_ERRORS.invalidNumber);
    const err = await sdk()
      .messages.create({ to: '+15555550101', body: 'x', messagingServiceSid: 'MG00000000000000000000000000000000' })
      .catch((e: unknown) => e as { status: number; code: number; message: string });
    expect(err).to.include({ status: 400, code: 21211 });
  });

  it('repeats list values as keys, appends params and sends basic auth', async () => {
    const seen: Array<{ url?: string; auth?: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ url: req.url, auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new TwilioHttpClient(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/base/`));
      const res = await client.request({
        method: 'post',
        uri: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json',
        username: 'AC1',
        password: 'secret',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        params: { PageSize: 2 },
        data: { To: '+15555550102', Body: 'a b&c', MediaUrl: ['https://a.test/1.png', 'https://a.test/2.png'], Skipped: undefined },
      });
      expect(res.statusCode).to.equal(200);
      expect(JSON.parse(String(res.body))).to.deep.equal({ ok: true });
      expect(seen).to.have.length(1);
      expect(seen[0].url).to.equal('/base/2010-04-01/Accounts/AC1/Messages.json?PageSize=2');
      expect(seen[0].auth).to.equal(`Basic ${Buffer.from('AC1:secret').toString('base64')}`);
      const form = new URLSearchParams(seen[0].body);
      expect(form.getAll('MediaUrl')).to.deep.equal(['https://a.test/1.png', 'https://a.test/2.png']);
      expect(form.get('Body')).to.equal('a b&c');
      expect(form.has('Skipped')).to.equal(false);
    } finally {
      server.close();
    }
  });

  it('rejects a request that hangs past its timeout (a transient error for the queue to retry)', async () => {
    standin.script('+15555550103', { kind: 'hang', ms: 2_000 });
    const client = new TwilioHttpClient(new URL(standin.url));
    const started = Date.now();
    const err = await client
      .request({
        method: 'post',
        uri: `https://api.twilio.com/2010-04-01/Accounts/${standin.accountSid}/Messages.json`,
        username: standin.accountSid,
        password: standin.authToken,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        data: { To: '+15555550103', Body: 'slow' },
        timeout: 150,
      })
      .then(
        () => ({}) as { code?: string; status?: number },
        (e: unknown) => e as { code?: string; status?: number },
      );
    expect(err).to.include({ code: 'ETIMEDOUT' });
    expect(err.status).to.equal(undefined);
    expect(Date.now() - started).to.be.below(1_500);
  });
});
