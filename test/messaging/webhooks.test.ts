// Twilio status callbacks: signature checked with the SDK, only valid ones change a delivery.
import crypto from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { jsonBody, testApp } from '../support/http.js';
import { customerWithLink, delivery, signTwilio, storeTestDelivery } from './helpers.js';

async function sentDelivery(phone: string): Promise<{ orgId: string; id: string; sid: string }> {
  const customer = await customerWithLink({ phone });
  const id = await storeTestDelivery(customer);
  const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
  await withOrg(customer.org.orgId, (db) =>
    db('message_deliveries').update({ status: 'sent', provider_id: sid, sent_at: db.fn.now() }).where({ id }),
  );
  return { orgId: customer.org.orgId, id, sid };
}

describe('Twilio status callbacks', () => {
  const saved = { ...config.twilio };
  before(() => {
    config.twilio.authToken = crypto.randomBytes(16).toString('hex');
  });
  after(() => {
    Object.assign(config.twilio, saved);
  });

  const post = (params: Record<string, string>, signature?: string) => {
    const req = supertest(testApp()).post('/webhooks/twilio/status').type('form');
    if (signature !== undefined) req.set('X-Twilio-Signature', signature);
    return req.send(params);
  };

  it('marks the delivery delivered on a validly signed callback', async () => {
    const d = await sentDelivery('+15555550201');
    const params = { MessageSid: d.sid, MessageStatus: 'delivered', AccountSid: 'AC123', To: '+15555550201' };
    const res = await post(params, signTwilio(params));
    expect(res.status).to.equal(200);
    const row = await delivery(d.orgId, d.id);
    expect(row.status).to.equal('delivered');
    expect(row.delivered_at).to.be.instanceOf(Date);
  });

  it('records a carrier failure with a readable reason', async () => {
    const d = await sentDelivery('+15555550202');
    const params = { MessageSid: d.sid, MessageStatus: 'undelivered', ErrorCode: '30003' };
    const res = await post(params, signTwilio(params));
    expect(res.status).to.equal(200);
    const row = await delivery(d.orgId, d.id);
    expect(row.status).to.equal('undeliverable');
    expect(row.last_error).to.match(/switched off.*30003/);
  });

  it('never moves a delivered message back to sent', async () => {
    const d = await sentDelivery('+15555550203');
    const delivered = { MessageSid: d.sid, MessageStatus: 'delivered' };
    await post(delivered, signTwilio(delivered));
    const late = { MessageSid: d.sid, MessageStatus: 'sent' };
    expect((await post(late, signTwilio(late))).status).to.equal(200);
    expect((await delivery(d.orgId, d.id)).status).to.equal('delivered');
  });

  it('rejects a callback without a signature (400) and changes nothing', async () => {
    const d = await sentDelivery('+15555550204');
    const res = await post({ MessageSid: d.sid, MessageStatus: 'delivered' });
    expect(res.status).to.equal(400);
    expect((await delivery(d.orgId, d.id)).status).to.equal('sent');
  });

  it('rejects a forged signature (403) and changes nothing', async () => {
    const d = await sentDelivery('+15555550205');
    const params = { MessageSid: d.sid, MessageStatus: 'failed' };
    const forged = signTwilio(params, 'not-the-auth-token');
    const res = await post(params, forged);
    expect(res.status).to.equal(403);
    // A signature for other parameters doesn't carry over either.
    const tampered = await post(
      { MessageSid: d.sid, MessageStatus: 'failed' },
      signTwilio({ MessageSid: d.sid, MessageStatus: 'delivered' }),
    );
    expect(tampered.status).to.equal(403);
    expect((await delivery(d.orgId, d.id)).status).to.equal('sent');
  });

  it('answers 200 for a message it does not know', async () => {
    const params = { MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`, MessageStatus: 'delivered' };
    const res = await post(params, signTwilio(params));
    expect(res.status).to.equal(200);
    expect(jsonBody<{ ok: boolean; unknown?: boolean }>(res).unknown).to.equal(true);
  });
});
