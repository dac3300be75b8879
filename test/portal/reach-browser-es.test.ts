// Issue #14's "done when", in Spanish, at 390 px: a customer opens their link,
// switches it to Español with the switch in the header, switches property, asks for
// work with a photo, then loses the link and gets it back by email (the not-found page
// and its form in the browser's Spanish); the contractor's side (English, org en-US)
// shows the visit log, the viewed marks and the request. Screenshots of the Spanish
// portal's tabs at 390 and 1280 px go to test-artifacts/reach-es (none may scroll sideways).
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { closeQueues } from '../../src/queue/queues.js';
import type { RunningWorker } from '../../src/queue/worker.js';
import { startPortalRecoveryWorker } from '../../workers/portal-recovery.js';
import { createSendWorker } from '../../workers/send-message.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg, uniqueEmail } from '../support/factories.js';
import { linkFrom, SmtpInbox } from '../support/smtp-inbox.js';
import { linkFor, resetPortalMisses } from './support.js';

const OUT = 'test-artifacts/reach-es';
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  const sideways = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(sideways, `${name} scrolls sideways`).to.be.at.most(0);
}

/** A customer with a home and a rental: a pending proposal on each, an open invoice, an upcoming and a past visit. */
async function seedCustomer(orgId: string, email: string) {
  const lead = await createTestLead(orgId, { first_name: 'Lucía', last_name: 'Ortega', email, address: '1 Calle Mayor' });
  const ids = await withOrg(orgId, async (db) => {
    // The contractor had set English; the customer prefers Spanish (and their browser asks for it).
    await db('leads').where({ id: lead.id }).update({ language: 'en' });
    const [home] = await db('properties')
      .insert({ org_id: orgId, lead_id: lead.id, label: 'Casa', address: '1 Calle Mayor', created_at: new Date(Date.now() - 60_000) })
      .returning<{ id: string }[]>('id');
    const [rental] = await db('properties')
      .insert({ org_id: orgId, lead_id: lead.id, label: 'Departamento de alquiler', address: '22 Avenida de los Insurgentes, Interior 4' })
      .returning<{ id: string }[]>('id');
    const proposal = (n: number, title: string, property: string) => ({
      org_id: orgId,
      lead_id: lead.id,
      property_id: property,
      number: n,
      title,
      status: 'pending',
      subtotal_cents: 125_000 * n,
      tax_cents: 0,
      total_cents: 125_000 * n,
      sent_at: new Date(),
      valid_until: new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10),
    });
    const proposals = await db('proposals')
      .insert([proposal(1, 'Impermeabilización de azotea', home.id), proposal(2, 'Reparación del techo del departamento', rental.id)])
      .returning<{ id: string }[]>('id');
    await db('proposal_items').insert(
      proposals.map((p, i) => ({
        org_id: orgId,
        proposal_id: p.id,
        position: 0,
        service: i ? 'Reparación del techo' : 'Impermeabilización',
        description: 'Materiales y mano de obra',
        quantity: 1,
        unit_price_cents: 125_000 * (i + 1),
        amount_cents: 125_000 * (i + 1),
      })),
    );
    const [invoice] = await db('invoices')
      .insert({
        org_id: orgId,
        lead_id: lead.id,
        property_id: home.id,
        number: 1,
        status: 'open',
        currency: 'USD',
        issue_date: new Date().toISOString().slice(0, 10),
        due_date: new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10),
        subtotal_cents: 48_000,
        tax_cents: 0,
        total_cents: 48_000,
        amount_paid_cents: 0,
        issued_at: new Date(),
      })
      .returning<{ id: string }[]>('id');
    await db('invoice_items').insert({
      org_id: orgId,
      invoice_id: invoice.id,
      position: 0,
      service: 'Limpieza de canaletas',
      description: '',
      quantity: 1,
      unit_price_cents: 48_000,
      amount_cents: 48_000,
    });
    await db('jobs').insert([
      {
        org_id: orgId,
        lead_id: lead.id,
        property_id: home.id,
        service_type: 'Mantenimiento preventivo',
        status: 'scheduled',
        scheduled_at: new Date(Date.now() + 3 * 86_400_000),
        technician: 'Rogelio Fernández',
      },
      {
        org_id: orgId,
        lead_id: lead.id,
        property_id: home.id,
        service_type: 'Inspección inicial',
        status: 'completed',
        scheduled_at: new Date(Date.now() - 9 * 86_400_000),
        completed_at: new Date(Date.now() - 9 * 86_400_000 + 7_200_000),
        technician: 'Rogelio Fernández',
      },
    ]);
    return { proposalIds: proposals.map((p) => p.id), invoiceId: invoice.id };
  });
  return { leadId: lead.id, ...ids };
}

describe('reach in Spanish in a browser: switch, property, request with a photo, lost link by email', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  const inbox = new SmtpInbox();
  const saved = { publicUrl: config.publicUrl, smtp: config.smtp.url, from: config.smtp.from };
  const running: RunningWorker[] = [];

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    config.publicUrl = base;
    config.smtp.url = await inbox.start();
    config.smtp.from = 'Porchlight <no-reply@porchlight.test>';
    closeTransports();
    const send = createSendWorker({ backoffBaseMs: 20, concurrency: 2, shutdownTimeoutMs: 2_000 });
    await send.worker.waitUntilReady();
    running.push(send.running, await startPortalRecoveryWorker());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    for (const r of running) await r.close();
    await closeQueues();
    config.publicUrl = saved.publicUrl;
    config.smtp.url = saved.smtp;
    config.smtp.from = saved.from;
    closeTransports();
    await inbox.stop();
    await closeServer(server);
  });

  beforeEach(resetPortalMisses);

  it('at 390 px in Spanish; then the contractor, in English, sees the visits, the viewed marks and the request', async () => {
    const email = uniqueEmail('lucia');
    const org = await createTestOrg({ plan: 'starter', name: 'Techos y Canaletas del Norte' });
    await getDb()('organizations')
      .where({ id: org.orgId })
      .update({ locale: 'en-US', currency: 'USD', time_zone: 'America/Chicago', phone: '+15125550199' });
    const customer = await seedCustomer(org.orgId, email);
    const link = await linkFor(org.orgId, customer.leadId);

    // A phone whose browser asks for Spanish (Accept-Language: es-MX).
    const phone = await browser!.newContext({ viewport: { width: 390, height: 844 }, userAgent: IPHONE_UA, locale: 'es-MX' });
    try {
      const page = await phone.newPage();
      await page.goto(`${link.url}/proposals`);
      // The stored English wins over the browser until the customer chooses.
      expect(await page.locator('html').getAttribute('lang')).to.equal('en');
      await page.getByRole('heading', { name: 'Proposals', exact: true }).waitFor();
      await shot(page, 'portal-english-before-switch-390');
      await Promise.all([page.waitForURL(`${link.url}/proposals`), page.getByRole('button', { name: 'Español' }).click()]);
      await page.getByRole('heading', { name: 'Propuestas', exact: true }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).to.equal('es');
      expect(await page.getByRole('button', { name: 'Español' }).getAttribute('aria-pressed')).to.equal('true');
      const stored = await getDb()('leads').where({ id: customer.leadId }).first<{ language: string }>('language');
      expect(stored.language).to.equal('es');
      await page.getByText('Espera su aprobación').first().waitFor();
      await shot(page, 'proposals-390');

      // Switch property: the plain GET filter, in Spanish.
      await page.getByLabel('Propiedad').selectOption({ label: 'Departamento de alquiler' });
      await page.getByRole('button', { name: 'Mostrar' }).click();
      await page.getByText('22 Avenida de los Insurgentes, Interior 4').waitFor();
      expect(await page.getByText('Reparación del techo del departamento').count()).to.equal(1);
      expect(await page.getByText('Impermeabilización de azotea').count()).to.equal(0);
      await shot(page, 'proposals-rental-390');

      // Every tab in Spanish (the filter back to all properties).
      for (const [tab, heading] of [
        ['invoices', 'Facturas'],
        ['payments', 'Pagos'],
        ['history', 'Historial de servicio'],
      ] as const) {
        await page.goto(`${link.url}/${tab}`);
        await page.getByRole('heading', { name: heading, exact: true }).waitFor();
        await shot(page, `${tab}-390`);
      }
      await page.goto(`${link.url}/invoices/${customer.invoiceId}`);
      await page.getByText('Saldo pendiente').first().waitFor();
      await page.getByRole('link', { name: 'Llamar al (512) 555-0199' }).first().waitFor();
      await shot(page, 'invoice-390');
      await page.goto(`${link.url}/proposals/${customer.proposalIds[0]}`);
      await page.getByText('Aprobar $1,250.00').first().waitFor();
      await shot(page, 'proposal-390');

      // Ask for work with a photo.
      await page.goto(`${link.url}/history`);
      await Promise.all([page.waitForURL(/\/request$/), page.getByRole('link', { name: 'Solicitar un trabajo' }).click()]);
      const photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#3a7' } })
        .jpeg()
        .toBuffer();
      await page.getByLabel('¿Qué necesita que se haga?').fill('Hay una gotera en el baño del departamento.');
      await page.getByLabel(/¿Qué días u horas le convienen\?/).fill('Entre semana por la mañana');
      await page.getByLabel(/Fotos/).setInputFiles({ name: 'gotera.jpg', mimeType: 'image/jpeg', buffer: photo });
      await shot(page, 'request-form-390');
      await Promise.all([page.waitForURL(/sent=work/), page.getByRole('button', { name: 'Enviar solicitud' }).click()]);
      await page.getByText('Su solicitud se envió a Techos y Canaletas del Norte').waitFor();
      await shot(page, 'request-sent-390');

      // The link is lost (it expired): the not-found page in the browser's Spanish, and the link by email.
      await getDb()('portal_links')
        .where({ id: link.id })
        .update({ expires_at: new Date(Date.now() - 60_000) });
      const gone = await page.goto(link.url);
      expect(gone?.status()).to.equal(404);
      await page.getByRole('heading', { name: 'Enviarme mi enlace de nuevo' }).waitFor();
      await shot(page, 'not-found-390');
      await page.getByLabel('Correo electrónico o número de celular').fill(email);
      await page.getByRole('button', { name: 'Enviarme mi enlace' }).click();
      await page.getByRole('heading', { name: 'Revise su correo electrónico' }).waitFor();
      await shot(page, 'recover-sent-390');
      const mail = await inbox.waitFor(email, 1, 15_000);
      const fresh = linkFrom(mail, `${base}/p/`);
      expect(fresh).not.to.equal(link.url);
      const opened = await page.goto(fresh);
      expect(opened?.status()).to.equal(200);
      expect(await page.locator('html').getAttribute('lang')).to.equal('es');
      await page.getByText('Para Lucía Ortega').waitFor();
      await shot(page, 'fresh-link-390');
    } finally {
      await phone.close();
    }

    // The contractor, in English (org en-US): the visit log, the viewed marks, the request.
    const office = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await logInPage(office, base, org);
      expect(await page.locator('html').getAttribute('lang')).to.equal('en');
      await page.goto(`${base}/customers/${customer.leadId}`);
      await page.getByRole('heading', { name: 'Portal visits' }).waitFor();
      expect(await page.getByText(/Viewed invoice #1 on an iPhone/).count()).to.be.at.least(1);
      await shot(page, 'contractor-visit-log-390');
      await page.goto(`${base}/invoices/${customer.invoiceId}`);
      await page.locator('.badge.viewed').first().waitFor();
      await page.goto(`${base}/proposals/${customer.proposalIds[0]}`);
      await page.locator('.badge.viewed').first().waitFor();
      await shot(page, 'contractor-proposal-viewed-390');
      await page.goto(`${base}/requests`);
      await Promise.all([
        page.waitForURL(/\/requests\/[0-9a-f-]{36}$/),
        page.getByRole('link', { name: 'Hay una gotera en el baño del departamento' }).click(),
      ]);
      await page.getByRole('img', { name: 'Photo 1 from Lucía Ortega' }).waitFor();
      expect(await page.getByText('Entre semana por la mañana').isVisible()).to.equal(true);
      await shot(page, 'contractor-request-390');
    } finally {
      await office.close();
    }
    // The same Spanish portal at 1280 px (the fresh link), every tab.
    const fresh = await getDb()('portal_links').where({ lead_id: customer.leadId }).whereNull('revoked_at').first<{ id: string }>('id');
    expect(fresh, 'a live link after recovery').to.not.equal(undefined);
    const wide = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const desktopLink = await linkFor(org.orgId, customer.leadId);
      const page = await wide.newPage();
      for (const [path, heading] of [
        ['/proposals', 'Propuestas'],
        ['/invoices', 'Facturas'],
        ['/payments', 'Pagos'],
        ['/history', 'Historial de servicio'],
        [`/invoices/${customer.invoiceId}`, 'Factura n.º 1'],
        [`/proposals/${customer.proposalIds[1]}`, 'Propuesta n.º 2'],
        ['/request', 'Solicitar un trabajo'],
      ] as const) {
        await page.goto(`${desktopLink.url}${path}`);
        await page.getByRole('heading', { name: heading, exact: true }).waitFor();
        await shot(page, `${path.split('/')[1]}${path.split('/').length > 2 ? '-detail' : ''}-1280`);
      }
    } finally {
      await wide.close();
    }
  });
});
