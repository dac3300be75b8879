// The invoice email states the balance due and the due date, and shows the link once.
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { defaultTemplate, renderMessage } from '../../src/messaging/templates.js';
import { createTestOrg } from '../support/factories.js';
import { loginAgent } from '../support/http.js';
import { seedRouteFixtures } from '../support/route-walk.js';

const LINK = `https://app.example.test/p/${'B'.repeat(43)}`;
const count = (text: string, part: string) => text.split(part).length - 1;

describe('invoice email', () => {
  it('states the amount and due date and shows the link once', () => {
    const message = renderMessage(
      'email',
      defaultTemplate('email', 'invoice'),
      { firstName: 'Ana', businessName: 'Maple Gutters', link: LINK, invoiceNumber: 17, amountDue: '$90.00', dueDate: 'Dec 14, 2026' },
      { businessName: 'Maple Gutters', brandColor: '#1d4ed8', businessEmail: null, businessPhone: null },
    );
    expect(message.text).to.contain('Your invoice #17 from Maple Gutters has a balance of $90.00, due Dec 14, 2026.');
    expect(count(message.text, LINK)).to.equal(1);
    // HTML: the button and the copyable address under it; no paragraph repeats it.
    expect(count(message.html!, `>${LINK}<`)).to.equal(1);
    expect(count(message.html!, `href="${LINK}"`)).to.equal(2);
  });

  it('the send page fills in the invoice’s balance and due date', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const fx = await seedRouteFixtures(org); // invoice of $100.00 with $10.00 paid
    await withOrg(org.orgId, (db) => db('leads').where({ id: fx.lead }).update({ email: 'ana@example.test' }));
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/customers/${fx.lead}/send?channel=email&context=invoice&invoiceId=${fx.invoice}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.match(/has a balance of \$90\.00, due [A-Z][a-z]{2} \d{1,2}, \d{4}\./);
  });
});
