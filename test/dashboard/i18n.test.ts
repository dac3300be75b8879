// Issue 14, point 1: the dashboard's record pages read in the organisation's
// language. An org in es-MX gets Spanish labels, Spanish dates ("30 nov 2026")
// and Mexican money; refused forms say why in Spanish and write nothing; the
// same pages for an English org keep their English words.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { localesDir } from '../../src/i18n/index.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import type { Actor } from '../../src/db/audit.js';
import type { LeadRow } from '../../src/db/rows.js';
import { createInvoice, issueInvoice } from '../../src/invoices/commands.js';
import { createJob } from '../../src/jobs/commands.js';
import { jobFormSchema } from '../../src/jobs/schema.js';
import { parseForm } from '../../src/lib/forms.js';
import { recordPayment } from '../../src/payments/manual.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { invoiceFormSchema } from '../../src/invoices/schema.js';
import { createWorkRequest, convertWorkRequest } from '../../src/requests/commands.js';
import { linkFor } from '../portal/support.js';
import { csrfFrom, loginAgent, type Agent } from '../support/http.js';
import { createTestLead, createTestOrg } from '../support/factories.js';

interface Records {
  agent: Agent;
  orgId: string;
  leadId: string;
  proposalId: string;
  jobId: string;
  invoiceId: string;
  paymentId: string;
  requestId: string;
}

const TIME_ZONE = 'America/Mexico_City';

/** An org in `locale` with one of each record: a customer, a sent proposal, a job, an issued and part-paid invoice, a request. */
async function orgWithRecords(locale: string, currency: string): Promise<Records> {
  const org = await createTestOrg({ plan: 'starter' });
  await getDb()('organizations').where({ id: org.orgId }).update({ locale, currency, time_zone: TIME_ZONE });
  const lead = await createTestLead(org.orgId, { first_name: 'Lupe', last_name: 'Ortiz' });
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  const records = await withOrg(org.orgId, async (db) => {
    const proposal = await createProposal(
      db,
      parseForm(proposalFormSchema(currency), {
        lead_id: lead.id,
        title: 'Cambio de canaletas',
        tax_rate: '0',
        items: [{ service: 'Canaletas', quantity: '1', unit_price: '12500.00' }],
      }),
      actor,
      currency,
    );
    await markProposalSent(db, proposal.id, actor);
    const job = await createJob(
      db,
      parseForm(jobFormSchema, { lead_id: lead.id, service_type: 'Poda', scheduled_date: '2026-12-15', scheduled_time: '09:00' }),
      TIME_ZONE,
      actor,
    );
    const invoice = await createInvoice(
      db,
      parseForm(invoiceFormSchema(currency), {
        lead_id: lead.id,
        issue_date: '2026-11-30',
        due_date: '2026-12-14',
        tax_rate: '',
        items: [{ service: 'Reparación', quantity: '2', unit_price: '625.00' }],
      }),
      currency,
      actor,
    );
    await issueInvoice(db, invoice.id, actor);
    const { payment } = await recordPayment(db, { invoiceId: invoice.id, amountCents: 50_000, method: 'cash' }, actor);
    const [request] = await db('work_requests')
      .insert({ org_id: org.orgId, lead_id: lead.id, kind: 'work', description: 'Revisar la fuga del techo', preferred_times: 'Mañanas' })
      .returning<{ id: string }[]>('id');
    return { proposalId: proposal.id, jobId: job.id, invoiceId: invoice.id, paymentId: payment.id, requestId: request.id };
  });
  const agent = await loginAgent(org.email, org.password);
  return { agent, orgId: org.orgId, leadId: lead.id, ...records };
}

/** What a page shows a person: its text without tags (attributes such as data-label kept apart). */
const visibleText = (html: string) =>
  html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<\/?(strong|em|code|a)\b[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ');

async function page(agent: Agent, path: string): Promise<string> {
  const res = await agent.get(path);
  expect(res.status, path).to.equal(200);
  return res.text;
}

/** Every label in `spanish` is on the page, none in `english` is left. */
function expectWords(html: string, path: string, spanish: string[], english: string[]): void {
  const text = visibleText(html);
  for (const word of spanish) expect(text, `${path}: "${word}"`).to.contain(word);
  for (const word of english) expect(text, `${path}: English "${word}" left`).to.not.contain(word);
}

const esDate = (day: string) =>
  new Intl.DateTimeFormat('es-MX', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${day}T12:00:00Z`));

describe('the dashboard in Spanish (org locale es-MX)', function () {
  let es: Records;
  before(async function () {
    es = await orgWithRecords('es-MX', 'MXN');
  });

  it('writes dates and money as Mexican Spanish does', () => {
    // Guards for the literals below: Intl's own answer for es-MX.
    expect(esDate('2026-11-30')).to.equal('30 nov 2026');
    expect(new Intl.NumberFormat('es-MX', { style: 'currency', currency: 'MXN' }).format(12500)).to.equal('$12,500.00');
  });

  it('home: Spanish labels, counted words and navigation', async () => {
    const html = await page(es.agent, '/');
    expect(html).to.contain('<html lang="es">');
    expectWords(
      html,
      '/',
      ['Inicio', 'Clientes', 'Propuestas', 'Trabajos', 'Facturas', 'Pagos', 'Cerrar sesión', 'Saldo pendiente', '1 factura abierta'],
      ['Unpaid balance', 'Pending proposals', 'Upcoming jobs', 'Recent payments', 'Log out', 'open invoice', 'awaiting a decision'],
    );
    expect(visibleText(html)).to.contain('$12,500.00 en espera de respuesta').and.contain('$750.00');
  });

  it('customers: list, page and form', async () => {
    const list = await page(es.agent, '/customers');
    expectWords(
      list,
      '/customers',
      ['Agregar cliente', 'Buscar por nombre, correo, teléfono o dirección', 'Etapa', 'Alta', 'Todas las etapas', 'Nuevo'],
      ['Add customer', 'Search by name', 'All stages', 'Added'],
    );
    expect(list).to.contain(`data-label="Contacto"`);

    const show = await page(es.agent, `/customers/${es.leadId}`);
    expectWords(
      show,
      '/customers/:id',
      [
        'Contacto',
        'Etapa de venta',
        'Saldo pendiente',
        '1 factura sin pagar',
        'Propiedades',
        'Nueva propuesta',
        'Nuevo trabajo',
        'Nueva factura',
        'Idioma: Automático',
      ],
      ['Open balance', 'unpaid invoice', 'Properties', 'New proposal', 'No payments yet', 'Update stage', 'Internal notes'],
    );
    // The invoice's due date and the payment's method, in Spanish.
    expect(visibleText(show)).to.contain(esDate('2026-12-14')).and.contain('Efectivo').and.contain('$750.00');

    const form = await page(es.agent, '/customers/new');
    expectWords(
      form,
      '/customers/new',
      ['Nuevo cliente', 'Nombre', 'Apellidos', 'Empresa (opcional)', 'Idioma', 'Guardar cliente', 'Cancelar'],
      ['First name', 'Save customer', 'Pipeline stage', 'Automatic'],
    );
    expect(form).to.contain('<option value="">Automático (idioma del navegador)</option>');
    expect(form).to.contain('<option value="en">Inglés</option>').and.contain('<option value="es">Español</option>');
  });

  it('proposals: list, page and form', async () => {
    const list = await page(es.agent, '/proposals');
    expectWords(list, '/proposals', ['Nueva propuesta', 'Filtrar', 'Título', 'Creada', 'Pendiente'], ['New proposal', 'Filter', 'Created']);
    const show = await page(es.agent, `/proposals/${es.proposalId}`);
    expectWords(
      show,
      '/proposals/:id',
      [
        'Propuesta n.º 1',
        'Detalles',
        'Siguiente paso',
        'Registrar aprobación',
        'Marcar como rechazada',
        'Servicio',
        'Precio',
        'Subtotal',
        'Enviada el',
      ],
      ['Next step', 'Details', 'Record approval', 'Unit price', 'Mark as rejected', 'Sent '],
    );
    expect(visibleText(show)).to.contain('$12,500.00');
    expect(show).to.contain('<title>Propuesta n.º 1 · Porchlight</title>');
    const form = await page(es.agent, '/proposals/new');
    expectWords(
      form,
      '/proposals/new',
      ['Nueva propuesta', 'Cliente', 'Conceptos', 'Cantidad', 'Anticipo al aprobar', 'Sin anticipo', 'Guardar propuesta'],
      ['Line items', 'Quantity', 'Deposit on approval', 'No deposit', 'Save proposal'],
    );
    // The line editor's script gets its words from the page.
    expect(form).to.contain('data-t-add="Agregar un concepto"');
  });

  it('jobs: list and page', async () => {
    const list = await page(es.agent, '/jobs');
    expectWords(
      list,
      '/jobs',
      ['Nuevo trabajo', 'Próximos', 'Técnico', 'Programado'],
      ['New job', 'Upcoming', 'Technician', 'No jobs yet'],
    );
    expect(visibleText(list)).to.contain('15 dic 2026');
    const show = await page(es.agent, `/jobs/${es.jobId}`);
    expectWords(
      show,
      '/jobs/:id',
      ['Editar / programar', 'Cuándo:', 'Dónde:', 'Cambiar estado a', 'en curso', 'sin asignar'],
      ['Edit / schedule', 'When:', 'Change status to', 'in progress', 'unassigned'],
    );
    const form = await page(es.agent, `/jobs/${es.jobId}/edit`);
    expectWords(
      form,
      '/jobs/:id/edit',
      ['Editar trabajo', 'Hora de inicio', 'Margen de llegada', '2 horas', 'En la zona horaria de su negocio'],
      ['Start time', 'Arrival window', '2 hours', 'time zone'],
    );
  });

  it('requests: list and page', async () => {
    const list = await page(es.agent, '/requests');
    expectWords(list, '/requests', ['Solicitudes', 'Solicitud', 'Recibida', 'Fotos', 'Nuevo'], ['Asked for', 'Received', 'Photos']);
    const show = await page(es.agent, `/requests/${es.requestId}`);
    expectWords(
      show,
      '/requests/:id',
      ['Lo que pidió', 'Cuándo le conviene', 'Crear una propuesta', 'Crear un trabajo', 'Cerrar solicitud'],
      ['What they asked for', 'When suits them', 'Make a proposal', 'Close request'],
    );
  });

  it('invoices: list and page', async () => {
    const list = await page(es.agent, '/invoices');
    expectWords(list, '/invoices', ['Nueva factura', 'Emitida', 'Vence', 'Pagada en parte'], ['New invoice', 'Issued', 'Partially paid']);
    expect(visibleText(list)).to.contain('30 nov 2026').and.contain('$1,250.00');
    const show = await page(es.agent, `/invoices/${es.invoiceId}`);
    expectWords(
      show,
      '/invoices/:id',
      [
        'Factura n.º 1',
        'Saldo pendiente:',
        'Pagado',
        'Registrar un pago',
        'Descargar PDF',
        'Efectivo',
        'Tarjeta en persona',
        'Transferencia bancaria',
      ],
      ['Balance due', 'Record a payment', 'Download PDF', 'No payments recorded', 'Card in person', 'Bank transfer'],
    );
    expect(visibleText(show)).to.contain('emitida el 30 nov 2026');
    // The totals end with what was paid and what is still due.
    expect(visibleText(show)).to.match(/Pagado\s+−\$500\.00\s+Saldo pendiente\s+\$750\.00/);
  });

  it('payments: list and page', async () => {
    const list = await page(es.agent, '/payments');
    expectWords(
      list,
      '/payments',
      ['Fecha', 'Factura', 'Tipo', 'Método', 'Monto', 'Efectivo', 'registrado a mano'],
      ['Amount', 'Method', 'Kind', 'Cash'],
    );
    const show = await page(es.agent, `/payments/${es.paymentId}`);
    expectWords(
      show,
      '/payments/:id',
      ['Registrado a mano en Porchlight', 'Factura n.º 1', 'Descargar recibo (PDF)', 'Registrar un reembolso', 'Monto a reembolsar'],
      ['Source:', 'Download receipt', 'Record a refund'],
    );
    expect(visibleText(show)).to.contain('$500.00');
  });

  it('leaves no English entry of the dashboard catalogue on any record page', async () => {
    const catalogue = (lang: string) =>
      JSON.parse(fs.readFileSync(path.join(localesDir, lang, 'dashboard.json'), 'utf8')) as Record<string, unknown>;
    const flat = (node: unknown, prefix = ''): [string, string][] =>
      typeof node === 'string'
        ? [[prefix, node]]
        : Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => flat(v, prefix ? `${prefix}.${k}` : k));
    const spanish = new Map(flat(catalogue('es')));
    // Whole English phrases (no placeholders or markup) that Spanish words differently; short single words could match by chance.
    const english = flat(catalogue('en'))
      .filter(([key, text]) => spanish.get(key) !== text && !/[{<$]/.test(text) && (/\s/.test(text) || text.length >= 7))
      .map(([, text]) => text);
    const paths = [
      '/',
      '/customers',
      `/customers/${es.leadId}`,
      '/customers/new',
      `/customers/${es.leadId}/edit`,
      '/proposals',
      `/proposals/${es.proposalId}`,
      '/proposals/new',
      `/proposals/${es.proposalId}/edit`,
      '/jobs',
      `/jobs/${es.jobId}`,
      '/jobs/new',
      `/jobs/${es.jobId}/edit`,
      '/requests',
      `/requests/${es.requestId}`,
      '/invoices',
      `/invoices/${es.invoiceId}`,
      '/invoices/new',
      '/payments',
      `/payments/${es.paymentId}`,
    ];
    const wholePhrase = (phrase: string) => new RegExp(`(^|[^\\p{L}])${phrase.replace(/[.*+?^()|[\]\\]/g, '\\$&')}($|[^\\p{L}])`, 'u');
    const left: string[] = [];
    for (const path of paths) {
      // Not checked here: the head (some pages' titles come from the payments code) and the
      // customer page's portal and messaging panels (their own catalogues).
      const html = (await page(es.agent, path))
        .replace(/<head>[\s\S]*?<\/head>/, '')
        .replace(/<section class="card customer-portal">[\s\S]*?<\/section>/, '');
      const text = visibleText(html);
      for (const phrase of english) if (wholePhrase(phrase).test(text)) left.push(`${path}: ${phrase}`);
    }
    expect(left).to.deep.equal([]);
  });

  it('refuses bad forms in Spanish with a 4xx, writing nothing', async () => {
    const before = await getDb()('leads').where({ org_id: es.orgId }).count<{ count: string }[]>('* as count');
    let csrf = csrfFrom(await page(es.agent, '/customers/new'));
    const badEmail = await es.agent
      .post('/customers')
      .type('form')
      .send({ _csrf: csrf, first_name: 'Rosa', email: 'nope', language: 'fr' });
    expect(badEmail.status).to.equal(422);
    expectWords(
      badEmail.text,
      'POST /customers',
      ['Corrija los campos marcados.', 'Escriba un correo como nombre@ejemplo.com', 'Elija un idioma'],
      ['Enter an email', 'Please fix', 'Choose a language'],
    );
    const after = await getDb()('leads').where({ org_id: es.orgId }).count<{ count: string }[]>('* as count');
    expect(after[0].count).to.equal(before[0].count);

    csrf = csrfFrom(await page(es.agent, '/proposals/new'));
    const noTitle = await es.agent.post('/proposals').type('form').send({
      _csrf: csrf,
      lead_id: es.leadId,
      title: '',
      'items[0][service]': 'X',
      'items[0][quantity]': '0',
      'items[0][unit_price]': '10',
    });
    expect(noTitle.status).to.equal(422);
    expectWords(
      noTitle.text,
      'POST /proposals',
      ['Ponga un título a la propuesta', 'La cantidad debe ser mayor que 0'],
      ['Give the proposal a title', 'Quantity must be'],
    );
    expect(await getDb()('proposals').where({ org_id: es.orgId })).to.have.length(1);

    csrf = csrfFrom(await page(es.agent, '/jobs/new'));
    const timeNoDate = await es.agent
      .post('/jobs')
      .type('form')
      .send({ _csrf: csrf, lead_id: es.leadId, service_type: 'Poda', scheduled_time: '10:00' });
    expect(timeNoDate.status).to.equal(422);
    expectWords(timeNoDate.text, 'POST /jobs', ['Elija una fecha para esta hora'], ['Choose a date']);
    expect(await getDb()('jobs').where({ org_id: es.orgId })).to.have.length(1);

    // A refused state change: the error page says why in Spanish, nothing changes.
    csrf = csrfFrom(await page(es.agent, `/invoices/${es.invoiceId}`));
    const voidPaid = await es.agent.post(`/invoices/${es.invoiceId}/void`).type('form').send({ _csrf: csrf });
    expect(voidPaid.status).to.equal(409);
    expect((await getDb()('invoices').where({ id: es.invoiceId }).first<{ status: string }>()).status).to.equal('partially_paid');
  });

  it('flashes after a save read in Spanish', async () => {
    const csrf = csrfFrom(await page(es.agent, `/jobs/${es.jobId}`));
    const res = await es.agent.post(`/jobs/${es.jobId}/status`).type('form').send({ _csrf: csrf, status: 'in_progress' });
    expect(res.status).to.equal(303);
    const shown = await page(es.agent, `/jobs/${es.jobId}`);
    expect(visibleText(shown)).to.contain('Trabajo marcado como «en curso».');
  });
});

describe('what the business reads about a request, in its language', () => {
  it('emails a Spanish business in Spanish and writes Spanish notes on the proposal made from it', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    await getDb()('organizations').where({ id: org.orgId }).update({ locale: 'es-MX', currency: 'MXN', time_zone: TIME_ZONE });
    const lead = await createTestLead(org.orgId, { first_name: 'Lupe', last_name: 'Ortiz' });
    const link = await linkFor(org.orgId, lead.id);
    const actor: Actor = { type: 'system', label: 'test' };
    const { request } = await withOrg(org.orgId, (db) =>
      createWorkRequest(
        db,
        {
          leadId: lead.id,
          portalLinkId: link.id,
          description: 'Revisar la fuga',
          address: 'Calle 5',
          preferredTimes: 'Mañanas',
          photos: [],
        },
        actor,
      ),
    );
    const notice = await getDb()('message_deliveries')
      .where({ org_id: org.orgId })
      .whereNull('portal_link_id')
      .first<{ subject: string; body_text: string; body_html: string }>();
    expect(notice.subject).to.equal('Lupe Ortiz pidió un trabajo');
    expect(notice.body_text).to.contain('Lupe Ortiz pidió un trabajo desde su portal:').and.contain('Cuándo le conviene: Mañanas');
    expect(notice.body_html).to.contain('Abrir la solicitud').and.not.contain('Open the request');
    const made = await withOrg(org.orgId, (db) =>
      convertWorkRequest(db, request.id, 'proposal', { currency: 'MXN', time_zone: TIME_ZONE, locale: 'es-MX' }, actor),
    );
    const proposal = await getDb()('proposals').where({ id: made.proposalId }).first<{ internal_notes: string }>();
    expect(proposal.internal_notes)
      .to.match(/^De la solicitud del cliente del \d{1,2} \p{L}+\.? \d{4}:/u)
      .and.contain('Cuándo le conviene: Mañanas');
  });
});

describe('the customer’s language, set by the contractor', () => {
  it('is stored from the customer form (blank: automatic), shown on their page, and refused when unknown', async () => {
    const org = await createTestOrg();
    const agent = await loginAgent(org.email, org.password);
    const form = await page(agent, '/customers/new');
    expect(form).to.contain('<label for="f-language">Language</label>');
    expect(form).to.contain('<option value="">Automatic (the customer’s browser)</option>');
    expect(form).to.contain('<option value="en">English</option>').and.contain('<option value="es">Español</option>');

    const created = await agent
      .post('/customers')
      .type('form')
      .send({ _csrf: csrfFrom(form), first_name: 'Marta', language: 'es' });
    expect(created.status).to.equal(303);
    const lead = await getDb()('leads').where({ org_id: org.orgId, first_name: 'Marta' }).first<LeadRow & { language: string | null }>();
    expect(lead.language).to.equal('es');
    expect(visibleText(await page(agent, `/customers/${lead.id}`))).to.contain('Language: Español');

    const edit = await page(agent, `/customers/${lead.id}/edit`);
    expect(edit).to.contain('<option value="es" selected>Español</option>');
    const refused = await agent
      .post(`/customers/${lead.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(edit), first_name: 'Marta', language: 'de' });
    expect(refused.status).to.equal(422);
    expect(refused.text).to.contain('Choose a language');
    expect((await getDb()('leads').where({ id: lead.id }).first<{ language: string }>()).language).to.equal('es');

    const automatic = await agent
      .post(`/customers/${lead.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(edit), first_name: 'Marta', language: '' });
    expect(automatic.status).to.equal(303);
    expect((await getDb()('leads').where({ id: lead.id }).first<{ language: string | null }>()).language).to.equal(null);
    expect(visibleText(await page(agent, `/customers/${lead.id}`))).to.contain('Language: Automatic (the customer’s browser)');
  });
});

describe('the dashboard in English stays as it was', () => {
  it('reads the same labels, counts and formats', async () => {
    const en = await orgWithRecords('en-US', 'USD');
    const home = await page(en.agent, '/');
    expect(home).to.contain('<html lang="en">');
    expectWords(
      home,
      '/',
      ['Unpaid balance', '1 open invoice', '$12,500.00 awaiting a decision', 'Upcoming jobs', 'Log out'],
      ['Saldo', 'Cerrar sesión'],
    );
    const customer = await page(en.agent, `/customers/${en.leadId}`);
    expectWords(customer, '/customers/:id', ['Open balance', '1 unpaid invoice', 'Language: Automatic', 'Cash'], ['Idioma', 'factura']);
    const invoice = await page(en.agent, `/invoices/${en.invoiceId}`);
    expectWords(invoice, '/invoices/:id', ['Invoice #1', 'Balance due: $750.00', 'issued Nov 30, 2026'], ['Factura']);
    // The totals end with what was paid and what is still due.
    expect(visibleText(invoice)).to.match(/Paid\s+−\$500\.00\s+Balance due\s+\$750\.00/);
    const job = await page(en.agent, `/jobs/${en.jobId}`);
    expectWords(job, '/jobs/:id', ['Edit / schedule', 'Change status to', 'in progress'], ['Técnico']);
  });

  it('messages written by the code read the same in English as before, and in Spanish with their values', async () => {
    const { msg, translate } = await import('../../src/i18n/index.js');
    const transition = msg('dashboard:job.errors.transition', { from: 'completed', to: 'in_progress' });
    expect(translate('en', transition)).to.equal('A completed job cannot become in progress.');
    expect(translate('es', transition)).to.equal('Un trabajo «completado» no puede pasar a «en curso».');
    const already = msg('dashboard:proposal.errors.already', { number: 7, status: 'approved' });
    expect(translate('en', already)).to.equal('Proposal #7 is already approved.');
    expect(translate('es', already)).to.equal('La propuesta n.º 7 ya está en estado «Aprobada».');
    expect(translate('en', msg('dashboard:customer.stageSet', { stage: 'proposal_sent' }))).to.equal('Stage set to proposal sent.');
    expect(translate('en', msg('dashboard:image.tooLarge', { noun: 'photo', mb: 10 }))).to.equal('The photo must be 10 MB or smaller.');
    expect(translate('es', msg('dashboard:image.tooLarge', { noun: 'photo', mb: 10 }))).to.equal('La foto debe pesar 10 MB o menos.');
  });

  it('counts in both languages with their plural rules (0, 1, many)', async () => {
    const { t } = await import('../../src/i18n/index.js');
    expect([0, 1, 2].map((count) => t('en', 'dashboard:home.openInvoices', { count }))).to.deep.equal([
      '0 open invoices',
      '1 open invoice',
      '2 open invoices',
    ]);
    expect([0, 1, 2, 1_000_000].map((count) => t('es', 'dashboard:home.openInvoices', { count }))).to.deep.equal([
      '0 facturas abiertas',
      '1 factura abierta',
      '2 facturas abiertas',
      '1000000 facturas abiertas',
    ]);
    expect(t('es', 'dashboard:customer.unpaidInvoices', { count: 3 })).to.equal('3 facturas sin pagar');
  });
});
