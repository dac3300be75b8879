// The portal in Spanish (issue #14, point 1): every tab and document page in the
// customer's language — stored on them, else the browser's Accept-Language, else the
// business's — with Spanish dates, money and plurals; the language switch (form token,
// rate limit, stored, recorded); the not-found page and its recovery form in the
// browser's language; PDFs and calendar files in the customer's language wherever
// they are downloaded.
import type { Request } from 'express';
import { expect } from 'chai';
import ical, { type VEvent } from 'node-ical';
import { PDFParse } from 'pdf-parse';
import supertest from 'supertest';
import type { Store } from 'express-rate-limit';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { t } from '../../src/i18n/index.js';
import { portalClientKey, portalLanguageLimiter } from '../../src/portal/routes.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import { seedCustomerRecords } from './fixtures.js';
import { countRoundTrips, linkFor, resetPortalMisses } from './support.js';

const app = () => supertest(testApp());

/** English words of the portal that must not be left on a Spanish page. */
const ENGLISH = [
  'Proposals',
  'Invoices',
  'Service History',
  'Skip to content',
  'This page was made for you alone',
  'Balance due',
  'Download PDF',
  'Awaiting your approval',
  'Unpaid',
  'What’s included',
  'Subtotal</dt><dd>$0',
  'Request work',
  'All proposals',
  'Open balance',
  '<h2>Upcoming</h2>',
  '<h2>Completed</h2>',
  'Technician:',
  'Arriving',
  'Add to calendar',
  'Call (',
  'valid until',
  'Issued ',
];
const SPANISH_MONTH = /\b(ene|feb|mar|abr|may|jun|jul|ago|sept|oct|nov|dic)\b/;

async function resetLanguageSwitches(): Promise<void> {
  const limiter: { resetKey: Store['resetKey'] } = portalLanguageLimiter;
  for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) await limiter.resetKey(portalClientKey({ ip } as Request));
}

function binary(res: supertest.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

async function pdfText(buf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(buf) });
  try {
    const { text } = await parser.getText({ pageJoiner: '' });
    return text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

/** The page's visible text (tags out), for "no English label" checks that ignore attribute values. */
function words(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

function expectNoEnglish(html: string, where: string): void {
  const text = words(html);
  for (const english of ENGLISH) {
    if (english.includes('<')) expect(html, `${where}: ${english}`).not.to.contain(english);
    else expect(text, `${where}: ${english}`).not.to.contain(english);
  }
}

describe('the portal in Spanish', () => {
  let org: TestOrg;
  let leadId: string;
  let token: string;
  let records: Awaited<ReturnType<typeof seedCustomerRecords>>;
  let paymentId: string;

  beforeEach(async () => {
    await resetPortalMisses();
    await resetLanguageSwitches();
  });
  after(resetLanguageSwitches);

  before(async () => {
    org = await createTestOrg({ plan: 'starter', name: 'Canaletas Brillantes' });
    await getDb()('organizations')
      .where({ id: org.orgId })
      .update({ locale: 'en-US', currency: 'USD', time_zone: 'America/Chicago', phone: '+15555550199', email: 'ofi@canaletas.example' });
    leadId = (await createTestLead(org.orgId, { first_name: 'Lucía', last_name: 'Ortega' })).id;
    await getDb()('leads').where({ id: leadId }).update({ language: 'es' });
    records = await seedCustomerRecords(org.orgId, leadId, {
      proposals: 3,
      pendingProposals: 1,
      invoices: 3,
      openInvoices: 2,
      payments: 2,
      jobs: 2,
      upcomingJobs: 1,
    });
    paymentId = await withOrg(org.orgId, async (db) => (await db('payments').first<{ id: string }>('id')).id);
    token = (await linkFor(org.orgId, leadId)).token;
  });

  it('every tab and document page reads in Spanish for a customer whose language is es, with no English label left', async () => {
    const pages: [string, RegExp[]][] = [
      ['', [/Propuestas/, /Espera su aprobación/]],
      ['/proposals', [/Propuesta n\.º \d+ · /, /Enviada el /, /Espera su aprobación/, /Aprobada|Rechazada/]],
      ['/invoices', [/Factura n\.º \d+/, /Emitida el .* · vence el /, /Saldo pendiente/, /Sin pagar/, /Pagada/]],
      ['/payments', [/Saldo pendiente/, /Recibo \(PDF\)/, /Tarjeta en persona|Cheque/]],
      ['/history', [/Historial de servicio/, /Próximas/, /Visitas anteriores/, /Técnico: Terry Tech/, /Llegada: /, /Añadir al calendario/]],
      [`/proposals/${records.pendingProposalIds[0]}`, [/Aprobar \$/, /Su nombre completo/, /Qué incluye/, /Impuestos/, /Firme aquí/]],
      [`/invoices/${records.invoiceIds[0]}`, [/Saldo pendiente/, /Descargar PDF/, /Cómo pagar/, /Llamar al \(555\) 555-0199/]],
      ['/request', [/Solicitar un trabajo/, /¿Qué necesita que se haga\?/, /Hasta 5 fotos/]],
    ];
    for (const [path, expected] of pages) {
      const res = await app().get(`/p/${token}${path}`).set('Accept-Language', 'en-US,en;q=0.9');
      expect(res.status, path).to.equal(200);
      expect(res.text, path).to.contain('<html lang="es">');
      expect(res.text, path).to.contain('Esta página se creó solo para usted.');
      for (const re of expected) expect(words(res.text), `${path}: ${String(re)}`).to.match(re);
      expectNoEnglish(res.text, path || '/');
    }
  });

  it('writes dates with Spanish month names and money in the business’s country (es-US: $1,234.56)', async () => {
    const res = await app().get(`/p/${token}/invoices`);
    const text = words(res.text);
    expect(text).to.match(SPANISH_MONTH);
    expect(text).not.to.match(/\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d/);
    expect(text).to.match(/\$\d{3}\.\d{2}/);
    const history = words((await app().get(`/p/${token}/history`)).text);
    // The visit's day in words: "martes, 1 de diciembre".
    expect(history).to.match(/(lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d{1,2} de [a-z]+/);
  });

  it('counts in Spanish: one and several waiting on the tabs, and every plural form of the language', async () => {
    // 1 pending proposal and 2 open invoices.
    const res = await app().get(`/p/${token}/payments`);
    expect(res.text).to.match(/1<span class="visually-hidden"> pendiente<\/span>/);
    expect(res.text).to.match(/2<span class="visually-hidden"> pendientes<\/span>/);
    expect(t('es', 'portal:openInvoices', { count: 0 })).to.equal('0 facturas pendientes');
    expect(t('es', 'portal:openInvoices', { count: 1 })).to.equal('1 factura pendiente');
    expect(t('es', 'portal:openInvoices', { count: 3 })).to.equal('3 facturas pendientes');
    expect(t('es', 'portal:openInvoices', { count: 1_000_000 })).to.equal('1000000 facturas pendientes');
    expect(t('es', 'portal:request.photosHint', { count: 1, mb: 10 })).to.match(/^Hasta 1 foto \(/);
    expect(t('en', 'portal:openInvoices', { count: 1 })).to.equal('1 open invoice');
  });

  it('keeps the page to its one query in Spanish', async () => {
    const { result, roundTrips } = await countRoundTrips(() => app().get(`/p/${token}/invoices`));
    expect(result.text).to.contain('Facturas');
    expect(roundTrips).to.be.at.most(2);
  });

  describe('which language', () => {
    let plainLead: string;
    let plainToken: string;

    before(async () => {
      plainLead = (await createTestLead(org.orgId, { first_name: 'Sam', last_name: 'Browser' })).id;
      await seedCustomerRecords(org.orgId, plainLead, { invoices: 1, openInvoices: 1 });
      plainToken = (await linkFor(org.orgId, plainLead)).token;
    });

    it('follows Accept-Language while the customer has no stored language', async () => {
      const es = await app().get(`/p/${plainToken}/invoices`).set('Accept-Language', 'es-MX,es;q=0.9,en;q=0.5');
      expect(es.text).to.contain('<html lang="es">').and.to.contain('Saldo pendiente');
      expectNoEnglish(es.text, 'Accept-Language es');
      const en = await app().get(`/p/${plainToken}/invoices`).set('Accept-Language', 'en-GB');
      expect(en.text).to.contain('<html lang="en">').and.to.contain('Balance due');
    });

    it('a stored English beats a browser asking for Spanish, and a stored Spanish beats an English browser', async () => {
      await getDb()('leads').where({ id: plainLead }).update({ language: 'en' });
      try {
        const res = await app().get(`/p/${plainToken}/invoices`).set('Accept-Language', 'es');
        expect(res.text).to.contain('<html lang="en">').and.to.contain('Balance due').and.not.to.contain('Saldo pendiente');
      } finally {
        await getDb()('leads').where({ id: plainLead }).update({ language: null });
      }
    });

    it('falls back to the business’s language: es-ES writes Spanish with euros as Spain does', async () => {
      const spain = await createTestOrg({ plan: 'starter', name: 'Reformas Sol' });
      await getDb()('organizations').where({ id: spain.orgId }).update({ locale: 'es-ES', currency: 'EUR', time_zone: 'Europe/Madrid' });
      const lead = (await createTestLead(spain.orgId, { first_name: 'Ana' })).id;
      await seedCustomerRecords(spain.orgId, lead, { invoices: 1, openInvoices: 1 });
      await withOrg(spain.orgId, (db) => db('invoices').where({ lead_id: lead }).update({ currency: 'EUR' }));
      const link = await linkFor(spain.orgId, lead);
      // A browser asking for a language we don't have: the business's.
      const res = await app().get(`/p/${link.token}/invoices`).set('Accept-Language', 'fr-FR');
      expect(res.text).to.contain('<html lang="es">');
      expect(words(res.text)).to.match(/200,00\s€/);
      const english = await app().get(`/p/${plainToken}/invoices`).set('Accept-Language', 'fr-FR');
      expect(english.text).to.contain('<html lang="en">');
    });
  });

  describe('the language switch', () => {
    let switchLead: string;
    let switchToken: string;
    let linkId: string;

    before(async () => {
      switchLead = (await createTestLead(org.orgId, { first_name: 'Marta' })).id;
      await seedCustomerRecords(org.orgId, switchLead, { invoices: 1, openInvoices: 1 });
      ({ token: switchToken, id: linkId } = await linkFor(org.orgId, switchLead));
    });

    async function formToken(): Promise<string> {
      const res = await app().get(`/p/${switchToken}/invoices`);
      const form = /<form method="post" action="[^"]+\/language" class="language-switch"[\s\S]*?<\/form>/.exec(res.text)?.[0] ?? '';
      expect(form, 'the switch is on the page').to.contain('lang="es"');
      return /name="_csrf" value="([^"]+)"/.exec(form)![1];
    }

    it('is on every page with both languages, the current one pressed', async () => {
      const res = await app().get(`/p/${switchToken}/invoices`).set('Accept-Language', 'en');
      expect(res.text).to.match(/<button type="submit" name="language" value="en" lang="en" aria-pressed="true">English<\/button>/);
      expect(res.text).to.match(/<button type="submit" name="language" value="es" lang="es" aria-pressed="false">Español<\/button>/);
      expect(res.text).to.contain('name="back" value="/invoices"');
    });

    it('refuses a post without the form token, or with another link’s, and stores nothing', async () => {
      const none = await app().post(`/p/${switchToken}/language`).type('form').send({ language: 'es', back: '/invoices' });
      expect(none.status).to.equal(403);
      const other = await app()
        .post(`/p/${switchToken}/language`)
        .type('form')
        .send({ _csrf: 'x'.repeat(43), language: 'es' });
      expect(other.status).to.equal(403);
      const bad = await app()
        .post(`/p/${switchToken}/language`)
        .type('form')
        .send({ _csrf: await formToken(), language: 'fr' });
      expect(bad.status).to.equal(400);
      const lead = await getDb()('leads').where({ id: switchLead }).first<{ language: string | null }>('language');
      expect(lead.language).to.equal(null);
    });

    it('stores the choice on the customer, records it in their history and goes back to the page; no script needed', async () => {
      const res = await app()
        .post(`/p/${switchToken}/language`)
        .type('form')
        .send({ _csrf: await formToken(), language: 'es', back: '/invoices' });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal(`/p/${switchToken}/invoices`);
      const lead = await getDb()('leads').where({ id: switchLead }).first<{ language: string | null }>('language');
      expect(lead.language).to.equal('es');
      const audit = await getDb()('audit_events')
        .where({ org_id: org.orgId, action: 'lead.language_changed', subject_id: switchLead })
        .select<{ actor_type: string; data: { from: string | null; to: string } }[]>('actor_type', 'data');
      expect(audit).to.have.length(1);
      expect(audit[0]).to.deep.include({ actor_type: 'customer' });
      expect(audit[0].data).to.deep.include({ from: null, to: 'es' });
      // Remembered: an English browser now gets Spanish.
      const page = await app().get(`/p/${switchToken}/invoices`).set('Accept-Language', 'en');
      expect(page.text).to.contain('<html lang="es">').and.to.contain('Saldo pendiente');
      expect(linkId).to.be.a('string');
    });

    it('goes back only under the link: anything else leads to the link itself', async () => {
      for (const back of ['//evil.example/x', 'https://evil.example', '/..\\evil', '/x\r\nSet-Cookie: a=b']) {
        const res = await app()
          .post(`/p/${switchToken}/language`)
          .type('form')
          .send({ _csrf: await formToken(), language: 'en', back });
        expect(res.status, back).to.equal(303);
        expect(res.headers.location, back).to.equal(`/p/${switchToken}`);
      }
    });

    it('is rate limited per client (429 in the visitor’s language), and an unknown link is the plain 404', async () => {
      const csrf = await formToken();
      let last = 0;
      for (let i = 0; i < 31; i++) {
        const res = await app()
          .post(`/p/${switchToken}/language`)
          .type('form')
          .send({ _csrf: csrf, language: i % 2 ? 'es' : 'en' });
        last = res.status;
        if (res.status === 429) {
          expect(res.text).to.contain('Too many language changes');
          break;
        }
      }
      expect(last).to.equal(429);
      await resetLanguageSwitches();
      const unknown = await app()
        .post(`/p/${'A'.repeat(43)}/language`)
        .type('form')
        .send({ _csrf: csrf, language: 'es' });
      expect(unknown.status).to.equal(404);
    });
  });

  describe('the not-found page', () => {
    it('reads in the browser’s language, the same for unknown, revoked and expired links, with the recovery form', async () => {
      const res = await app()
        .get(`/p/${'B'.repeat(43)}`)
        .set('Accept-Language', 'es-419,es;q=0.9');
      expect(res.status).to.equal(404);
      expect(res.text).to.contain('<html lang="es">');
      expect(res.text).to.contain('Este enlace no está disponible').and.to.contain('Enviarme mi enlace de nuevo');
      expect(res.text).to.contain('Correo electrónico o número de celular');
      expect(words(res.text)).not.to.contain('Send me my link').and.not.to.contain('This link isn’t available');
      const english = await app()
        .get(`/p/${'B'.repeat(43)}`)
        .set('Accept-Language', 'en-US');
      expect(english.text).to.contain('This link isn’t available');
    });

    it('the recovery form answers in Spanish: a bad address, then “check your email”', async () => {
      const page = await app()
        .get(`/p/${'C'.repeat(43)}`)
        .set('Accept-Language', 'es');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
      const bad = await app().post('/p/recover').set('Accept-Language', 'es').type('form').send({ _csrf: csrf, address: 'en casa' });
      expect(bad.status).to.equal(422);
      expect(bad.text).to.contain('Escriba el correo electrónico o el número de celular');
      const sent = await app()
        .post('/p/recover')
        .set('Accept-Language', 'es')
        .type('form')
        .send({ _csrf: csrf, address: 'nadie-i18n@example.test' });
      expect(sent.status).to.equal(200);
      expect(sent.text).to.contain('Revise su correo electrónico');
    });
  });

  describe('PDFs and calendar files in the customer’s language', () => {
    it('a proposal, invoice and receipt PDF from the portal read in Spanish', async () => {
      const proposal = await pdfText(
        (await app().get(`/p/${token}/proposals/${records.pendingProposalIds[0]}/pdf`).buffer(true).parse(binary)).body as Buffer,
      );
      expect(proposal).to.match(/Propuesta n\.º \d+/);
      expect(proposal).to.contain('Preparada para').and.to.contain('Concepto').and.to.contain('Precio unitario');
      expect(proposal).to.contain('Fecha:').and.to.contain('Impuestos (5 %)');
      expect(proposal).to.match(SPANISH_MONTH);
      for (const english of ['Prepared for', 'Unit price', 'Valid until', 'Amount', 'Date:']) expect(proposal).not.to.contain(english);

      const invoice = await pdfText(
        (await app().get(`/p/${token}/invoices/${records.invoiceIds[0]}/pdf`).buffer(true).parse(binary)).body as Buffer,
      );
      expect(invoice).to.match(/Factura n\.º \d+/);
      expect(invoice)
        .to.contain('Vencimiento:')
        .and.to.contain('Saldo pendiente')
        .and.to.match(/\$\d{3}\.\d{2}/);
      expect(invoice).not.to.contain('Balance due');

      const receipt = await pdfText((await app().get(`/p/${token}/payments/${paymentId}/pdf`).buffer(true).parse(binary)).body as Buffer);
      expect(receipt).to.match(/Recibo n\.º \d+/);
      expect(receipt)
        .to.contain('Recibido de')
        .and.to.contain('Importe pagado')
        .and.to.match(/Pago de la factura n\.º \d+/);
      expect(receipt).to.match(/Tarjeta en persona|Cheque/);
      expect(receipt).not.to.contain('Amount paid');
    });

    it('the same PDF downloaded from the dashboard (English, org en-US) is still in the customer’s Spanish', async () => {
      const agent = await loginAgent(org.email, org.password);
      const res = await agent.get(`/invoices/${records.invoiceIds[0]}/pdf`).buffer(true).parse(binary);
      expect(res.status).to.equal(200);
      const text = await pdfText(res.body as Buffer);
      expect(text)
        .to.match(/Factura n\.º \d+/)
        .and.to.contain('Saldo pendiente');
    });

    it('an upcoming visit’s .ics is in Spanish', async () => {
      const jobId = records.jobIds[0];
      const res = await app().get(`/p/${token}/visits/${jobId}/ics`);
      expect(res.status).to.equal(200);
      const events = Object.values(ical.sync.parseICS(res.text)).filter((c): c is VEvent => c?.type === 'VEVENT');
      expect(events).to.have.length(1);
      const text = (value: unknown) => (typeof value === 'object' && value ? (value as { val: string }).val : String(value));
      expect(text(events[0].summary)).to.contain('(franja de llegada)');
      expect(text(events[0].description)).to.contain('Técnico: Terry Tech').and.to.contain('¿Preguntas? Contacte a Canaletas');
      expect(res.text).to.contain('//ES');
    });
  });
});
