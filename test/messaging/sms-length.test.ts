// Default texts fit in one SMS segment with a real-length link and a long
// business name; the editor and the send page warn when a text runs over.
import { expect } from 'chai';
import { smsSize } from '../../src/lib/sms.js';
import { CONTEXTS } from '../../src/messaging/schema.js';
import { defaultTemplate, renderMessage } from '../../src/messaging/templates.js';
import { createTestOrg } from '../support/factories.js';
import { loginAgent } from '../support/http.js';

const LINK = `https://app.porchlight.example/p/${'A'.repeat(43)}`;

describe('SMS length', () => {
  for (const context of CONTEXTS) {
    it(`the default ${context} text is one segment with a 43-character token and a 28-character business name`, () => {
      const message = renderMessage(
        'sms',
        defaultTemplate('sms', context),
        { firstName: 'Christopher', businessName: 'Northwind Gutters & Roofing', link: LINK, proposalNumber: 10421, invoiceNumber: 20871 },
        { businessName: 'Northwind Gutters & Roofing', brandColor: '#1d4ed8', businessEmail: null, businessPhone: null },
      );
      const size = smsSize(message.text);
      expect(size.unicode, message.text).to.equal(false);
      expect(size.segments, `${size.characters}: ${message.text}`).to.equal(1);
    });
  }

  it('counts a curly quote as UCS-2 and says what it costs', () => {
    expect(smsSize('a'.repeat(160)).segments).to.equal(1);
    expect(smsSize('a'.repeat(161)).note).to.match(/sent as 2 text messages/);
    const curly = smsSize(`It’s ${'a'.repeat(70)}`);
    expect(curly.unicode).to.equal(true);
    expect(curly.segments).to.equal(2);
  });

  it('the template editor warns when a text runs past one segment', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const agent = await loginAgent(org.email, org.password);
    const res = await agent
      .post('/settings/messages/preview')
      .set('Accept', 'application/json')
      .set('x-csrf-token', agent.csrf)
      .type('form')
      .send({ channel: 'sms', context: 'general', body: `${'Hello there, '.repeat(12)}{{link}}` });
    expect(res.status).to.equal(200);
    const body = res.body as { sizeNote: string; overOneText: boolean };
    expect(body.overOneText).to.equal(true);
    expect(body.sizeNote).to.match(/sent as 2 text messages/);
    const page = await agent.get('/settings/messages?channel=sms&context=general');
    expect(page.text).to.match(/id="tpl-preview-length">\d+ characters · 1 text message/);
  });
});
