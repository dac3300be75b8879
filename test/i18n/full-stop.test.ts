// One full stop where a value ending in one meets the wording's own ("at Acme Co." not
// "at Acme Co.."): in the catalogue's entries (t) and in the messages sent to customers.
import { expect } from 'chai';
import { t } from '../../src/i18n/index.js';
import { defaultTemplate, renderMessage } from '../../src/messaging/templates.js';

describe('a value that ends in a full stop', () => {
  it('is followed by one full stop, not two, in a catalogue entry', () => {
    expect(t('en', 'portal:proposal.approvedBy', { name: 'Luis M.', date: 'Dec 1, 2026' })).to.equal('Approved by Luis M. on Dec 1, 2026.');
    // A Spanish time ends in "p. m.", right before the entry's full stop.
    expect(t('es', 'portal:proposal.visitWasSet', { day: 'martes 1 dic', window: 'de 8:00 a. m. a 10:00 a. m.' })).to.match(
      /10:00 a\. m\.$/,
    );
    expect(t('en', 'portal:welcome.lead', { org: 'Acme Roofing Co.' })).to.contain('with Acme Roofing Co. Everything');
  });

  it('keeps what the value says: an ellipsis, two stops inside it, a stop before other punctuation', () => {
    expect(t('en', 'portal:proposal.approvedBy', { name: 'Wait...', date: 'today' })).to.equal('Approved by Wait... on today.');
    expect(t('en', 'portal:proposal.approvedBy', { name: 'Sam', date: 'A.. B.' })).to.equal('Approved by Sam on A.. B.');
    expect(t('en', 'portal:contact.hello', { org: 'Acme Co.', customer: 'Sam' })).to.equal('Hello Acme Co., this is Sam.');
  });

  it('leaves an entry with no such value exactly as written', () => {
    expect(t('en', 'portal:proposal.approvedBy', { name: 'Sam', date: 'Dec 1' })).to.equal('Approved by Sam on Dec 1.');
  });

  it('is followed by one full stop in a text and an email to the customer', () => {
    const vars = { firstName: 'Sam', businessName: 'Acme Roofing Co.', link: 'https://porchlight.example/p/abc' };
    const brand = { businessName: 'Acme Roofing Co.', brandColor: '#1d4ed8' };
    const email = renderMessage('email', defaultTemplate('email', 'general', 'en'), vars, brand, 'en');
    expect(email.text).to.contain('at Acme Roofing Co. It gathers').and.not.to.contain('Co..');
    expect(email.html).to.contain('at Acme Roofing Co. It gathers').and.not.to.contain('Co..');
    expect(email.subject).to.equal('Acme Roofing Co.: your customer page');
    const sms = renderMessage('sms', { subject: null, body: 'Thanks from {{businessName}}. See {{link}}' }, vars, brand, 'en');
    expect(sms.text).to.equal('Thanks from Acme Roofing Co. See https://porchlight.example/p/abc');
  });
});
