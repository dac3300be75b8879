// Issue 14, point 1, through the app: the Messages pages and the template editor
// read in the org's language, each language keeps its own wording, and the send
// page, lost-link recovery and the business's emails use the reader's language.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { changeRequestNotice, workRequestNotice } from '../../src/messaging/business-notices.js';
import { recoverLinks } from '../../src/portal/recovery.js';
import { csrfFrom, loginAgent } from '../support/http.js';
import { customerWithLink, storeTestDelivery, type Customer } from './helpers.js';

async function setLocale(customer: Customer, locale: string): Promise<void> {
  await withOrg(customer.org.orgId, (db) => db('organizations').update({ locale }));
}
async function setLanguage(customer: Customer, leadId: string, language: 'en' | 'es' | null): Promise<void> {
  await withOrg(customer.org.orgId, (db) => db('leads').where({ id: leadId }).update({ language }));
}

describe('messages in Spanish through the app', () => {
  it('the template editor reads in Spanish and keeps one wording per language; the send page picks the customer’s', async () => {
    const customer = await customerWithLink({ phone: '+15555550142', first_name: 'Sofía' });
    await setLocale(customer, 'es-MX');
    const agent = await loginAgent(customer.org.email, customer.org.password);

    const page = await agent.get('/settings/messages?channel=sms&context=general');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Plantillas de mensajes').and.contain('Vista previa').and.contain('Guardar').and.contain('Español');
    expect(page.text).to.contain('Hola {{firstName}}, {{businessName}}: su portal privado de cliente: {{link}}');
    expect(page.text).to.match(/id="tpl-preview-length">\d+ caracteres · 1 mensaje de texto/);
    for (const english of ['Message templates', '>Preview<', '>Save<', 'Placeholders:', 'Text message</label>']) {
      expect(page.text).to.not.contain(english);
    }

    const saved = await agent
      .post('/settings/messages')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        channel: 'sms',
        context: 'general',
        language: 'es',
        body: 'Buenas, {{firstName}}: {{link}}',
      });
    expect(saved.status).to.equal(303);
    const rows = await withOrg(customer.org.orgId, (db) => db('message_templates').select('language', 'body'));
    expect(rows).to.deep.equal([{ language: 'es', body: 'Buenas, {{firstName}}: {{link}}' }]);

    // The Spanish customer (no language of their own: the org's) gets the Spanish override…
    const es = await agent.get(`/customers/${customer.leadId}/send?channel=sms&context=general`);
    expect(es.text).to.contain('Buenas, Sofía: ').and.contain('Revise antes de enviar').and.contain('Mensaje de texto');
    expect(es.text).to.not.contain('Check before sending');
    // …an English-reading customer of the same org gets the English default, untouched.
    await setLanguage(customer, customer.leadId, 'en');
    const en = await agent.get(`/customers/${customer.leadId}/send?channel=sms&context=general`);
    expect(en.text).to.contain('Hi Sofía, ').and.contain('your private customer page: ');
    const english = await agent.get('/settings/messages?channel=sms&context=general&language=en');
    expect(english.text).to.contain('Hi {{firstName}}, {{businessName}}: your private customer page: {{link}}');
  });

  for (const context of ['general', 'proposal', 'service', 'invoice'] as const) {
    it(`the ${context} email for a Spanish customer is Spanish on the send page`, async () => {
      const customer = await customerWithLink({ email: `sofia-${crypto.randomUUID()}@example.com`, first_name: 'Sofía' });
      await setLanguage(customer, customer.leadId, 'es');
      const agent = await loginAgent(customer.org.email, customer.org.password);
      const res = await agent.get(`/customers/${customer.leadId}/send?channel=email&context=${context}`);
      expect(res.status).to.equal(200);
      expect(res.text).to.contain('Hola Sofía:').and.contain('Su enlace:').and.contain('Gracias,');
      expect(res.text).to.not.contain('Hi Sofía').and.not.contain('Your link:');
      // The contractor's own page stays in the org's language (English here).
      expect(res.text).to.contain('Check before sending');
      const html = await agent.get(`/customers/${customer.leadId}/send/email.html?context=${context}`);
      expect(html.text).to.contain('Abrir su página de cliente').and.contain('lang="es"');
    });
  }

  it('the message log and a message read in Spanish', async () => {
    const customer = await customerWithLink({ phone: '+15555550143' });
    await setLocale(customer, 'es-MX');
    const id = await storeTestDelivery(customer);
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const log = await agent.get('/messages');
    expect(log.text)
      .to.contain('<h1>Mensajes</h1>')
      .and.contain('En cola')
      .and.contain('Mensaje de texto')
      .and.contain('General: la página del cliente');
    for (const english of ['>Queued<', '>Customer<', 'Text message', '>Filter<']) expect(log.text).to.not.contain(english);
    const show = await agent.get(`/messages/${id}`);
    expect(show.text).to.contain('Intentos').and.contain('El enlace privado está oculto aquí');
    expect(show.text).to.not.contain('Attempts');
  });

  it('a lost link comes back in the customer’s language', async () => {
    const email = `perdido-${crypto.randomUUID()}@example.com`;
    const customer = await customerWithLink({ email, first_name: 'Lucía' });
    await setLanguage(customer, customer.leadId, 'es');
    const counts = await recoverLinks({ email, phone: null });
    expect(counts.sent + counts.fresh).to.equal(1);
    const row = await withOrg(customer.org.orgId, (db) =>
      db('message_deliveries')
        .where({ lead_id: customer.leadId })
        .first<{ subject: string; body_text: string; customer_request: boolean }>(),
    );
    expect(row?.customer_request).to.equal(true);
    expect(row?.subject).to.match(/: su página de cliente$/);
    expect(row?.body_text).to.match(/^Hola Lucía:/);
    expect(row?.body_text).to.not.contain('Your link');
  });

  it('change and work requests reach a Spanish business in Spanish, an English one in English', async () => {
    const customer = await customerWithLink();
    await setLocale(customer, 'es-MX');
    const changes = await withOrg(customer.org.orgId, (db) =>
      changeRequestNotice(db, {
        customer: 'Ana Ruiz',
        number: 12,
        title: 'Canaletas',
        message: 'Sin la parte <trasera>',
        url: 'https://x.test/proposals/1',
      }),
    );
    expect(changes.subject).to.equal('Ana Ruiz pidió cambios en la propuesta #12');
    expect(changes.text).to.contain('Revísela y vuelva a enviarla desde https://x.test/proposals/1');
    expect(changes.html).to.contain('Sin la parte &lt;trasera&gt;');
    const work = (photos: number) =>
      withOrg(customer.org.orgId, (db) =>
        workRequestNotice(db, {
          customer: 'Ana Ruiz',
          serviceType: null,
          description: 'Gotera en el techo',
          address: 'Calle 5',
          preferredTimes: 'mañanas',
          photos,
          url: 'https://x.test/requests/1',
        }),
      );
    const one = await work(1);
    expect(one.subject).to.equal('Ana Ruiz pidió un trabajo');
    expect(one.text).to.contain('Dónde: Calle 5').and.contain('Cuándo le conviene: mañanas').and.contain('1 foto\n').and.contain('Ábrala:');
    expect((await work(3)).text).to.contain('3 fotos');
    expect((await work(0)).text).to.not.contain('foto');
    await setLocale(customer, 'en-US');
    const english = await withOrg(customer.org.orgId, (db) =>
      changeRequestNotice(db, { customer: 'Ana Ruiz', number: 12, title: 'Gutters', message: 'x', url: 'https://x.test/p' }),
    );
    expect(english.subject).to.equal('Ana Ruiz asked for changes to proposal #12');
  });
});
