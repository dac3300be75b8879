// Optional lines and alternatives ("Good / Better / Best", issue 13 point 4): the
// contractor marks them in the editor, the customer picks in the portal (with or
// without script), and the approval records exactly the picks and their total.
import { expect } from 'chai';
import { PDFParse } from 'pdf-parse';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import type { ProposalItemRow, ProposalRow } from '../../src/db/rows.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createInvoiceFromJob, createInvoiceFromProposal } from '../../src/invoices/commands.js';
import { setJobStatus } from '../../src/jobs/commands.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { proposalContentSha256 } from '../../src/proposals/queries.js';
import type { AuditEventRecord } from '../support/rows.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { createOptionsProposal, DEFAULT_TOTAL_CENTS, OPTION_ROWS, type ItemsByService } from './options-fixtures.js';

/** The editor's rows as form fields: items[0][service]=… */
function editorBody(rows: Record<string, string>[], extra: Record<string, string> = {}): Record<string, string> {
  const body: Record<string, string> = { title: 'New gutters', tax_rate: '8.25', ...extra };
  rows.forEach((row, i) => Object.entries(row).forEach(([k, v]) => (body[`items[${i}][${k}]`] = v)));
  return body;
}

const proposalRow = (id: string) => getDb()('proposals').where({ id }).first<ProposalRow>();
const itemRows = (proposalId: string) =>
  getDb()('proposal_items').where({ proposal_id: proposalId }).orderBy('position').select<ProposalItemRow[]>();
const selectedServices = async (proposalId: string) => (await itemRows(proposalId)).filter((i) => i.selected).map((i) => i.service);

function formTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1].replace(/&#x3D;/g, '=');
}

const hashFrom = (html: string) => /name="contentSha256" value="([0-9a-f]{64})"/.exec(html)?.[1] ?? '';

async function pdfText(buf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(buf) });
  try {
    return (await parser.getText({ pageJoiner: '' })).text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

function binary(res: supertest.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

describe('proposal options: the editor', () => {
  it('saves optional lines and a group of alternatives; the totals count the preselected lines', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const agent = await loginAgent(org.email, org.password);
    const res = await agent
      .post('/proposals')
      .type('form')
      .send(editorBody(OPTION_ROWS, { lead_id: lead.id, _csrf: agent.csrf }));
    expect(res.status, res.text.slice(0, 400)).to.equal(303);
    const id = /\/proposals\/([0-9a-f-]{36})/.exec(res.headers.location)![1];
    const items = await itemRows(id);
    expect(items.map((i) => [i.service, i.optional, i.group_label, i.selected])).to.deep.equal([
      ['Gutter cleaning', false, null, true],
      ['Aluminium gutters', false, 'Gutter material', true],
      ['Steel gutters', false, 'Gutter material', false],
      ['Copper gutters', false, 'Gutter material', false],
      ['Gutter guards', true, null, false],
      ['Downspout extensions', true, null, true],
    ]);
    const p = await proposalRow(id);
    // 200 + 1,000 (Good) + 50 (ticked downspouts) = 1,250.00; 8.25 % tax = 103.13.
    expect([p.subtotal_cents, p.tax_cents, p.total_cents]).to.deep.equal([125000, 10313, DEFAULT_TOTAL_CENTS]);

    const show = await agent.get(`/proposals/${id}`);
    expect(show.text).to.contain('Optional, not included').and.to.contain('Gutter material: preselected option');
    const edit = await agent.get(`/proposals/${id}/edit`);
    expect(edit.text).to.match(/name="items\[1\]\[choice\]"[\s\S]*?<option value="alternative_default" selected>/);
    expect(edit.text).to.match(/name="items\[4\]\[choice\]"[\s\S]*?<option value="optional" selected>/);
    expect(edit.text).to.contain('name="items[2][group]" value="Gutter material"');
  });

  it('preselects the first alternative of a group when none is marked', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const agent = await loginAgent(org.email, org.password);
    const rows = OPTION_ROWS.map((r) => (r.choice === 'alternative_default' ? { ...r, choice: 'alternative' } : r));
    const res = await agent
      .post('/proposals')
      .type('form')
      .send(editorBody(rows, { lead_id: lead.id, _csrf: agent.csrf }));
    expect(res.status).to.equal(303);
    const id = /\/proposals\/([0-9a-f-]{36})/.exec(res.headers.location)![1];
    expect(await selectedServices(id)).to.deep.equal(['Gutter cleaning', 'Aluminium gutters', 'Downspout extensions']);
  });

  for (const [what, rows, field, message] of [
    [
      'an alternative without a group',
      [OPTION_ROWS[0], { ...OPTION_ROWS[1], group: '' }, OPTION_ROWS[2], OPTION_ROWS[3]],
      'items[1][group]',
      'Name the group this alternative belongs to',
    ],
    ['a group with one alternative', [OPTION_ROWS[0], OPTION_ROWS[1]], 'items[1][group]', 'needs at least two alternatives'],
    [
      'two preselected alternatives in a group',
      [OPTION_ROWS[0], OPTION_ROWS[1], { ...OPTION_ROWS[2], choice: 'alternative_default' }],
      'items[2][choice]',
      'Only one alternative of “Gutter material” can be preselected',
    ],
    ['a group on an ordinary line', [{ ...OPTION_ROWS[0], group: 'Extras' }], 'items[0][group]', 'Only alternatives have a group'],
    ['an unknown choice', [{ ...OPTION_ROWS[0], choice: 'maybe' }], 'items[0][choice]', 'Choose how the customer gets this line'],
  ] as const) {
    it(`refuses ${what} (422, the message at the field, nothing written)`, async () => {
      const org = await createTestOrg({ plan: 'starter' });
      const lead = await createTestLead(org.orgId);
      const agent = await loginAgent(org.email, org.password);
      const res = await agent
        .post('/proposals')
        .type('form')
        .send(editorBody(rows as unknown as Record<string, string>[], { lead_id: lead.id, _csrf: agent.csrf }));
      expect(res.status).to.equal(422);
      const html = res.text.replace(/&#x27;|&#39;/g, "'");
      expect(html).to.contain(message);
      // The message sits in the field it is about.
      const fieldAt = html.indexOf(`name="${field}"`);
      expect(fieldAt).to.be.greaterThan(0);
      expect(html.indexOf(message, fieldAt) - fieldAt).to.be.lessThan(600);
      expect(await getDb()('proposals').where({ org_id: org.orgId })).to.have.length(0);
    });
  }
});

describe('proposal options: the customer chooses in the portal', () => {
  const app = () => supertest(testApp());
  beforeEach(resetPortalMisses);

  async function setup() {
    const org = await createTestOrg({ plan: 'starter', name: 'Clear Gutters' });
    const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Gutterowner' });
    const { proposal, items } = await createOptionsProposal(org.orgId, org.userId, lead.id);
    const { token } = await linkFor(org.orgId, lead.id);
    const page = `/p/${token}/proposals/${proposal.id}`;
    const view = await app().get(page);
    expect(view.status).to.equal(200);
    return { org, lead, proposal, items, token, page, view, csrf: formTokenFrom(view.text), sha: hashFrom(view.text) };
  }

  /** Best + gutter guards, no downspouts: 200 + 3,000 + 400 = 3,600.00 + 297.00 tax = 3,897.00. */
  const bestWithGuards = (items: ItemsByService) => ({ 'alt[0]': items['Copper gutters'].id, option: items['Gutter guards'].id });

  it('shows the preselected choice and its total, with one radio group per group and a box per optional line', async () => {
    const { view, items } = await setup();
    expect(view.text).to.contain('Approve $1,353.13');
    expect(view.text).to.match(/<legend>Gutter material <span class="choice-hint">Choose one<\/span><\/legend>/);
    expect(view.text).to.contain(
      `type="radio" name="alt[0]" value="${items['Aluminium gutters'].id}" form="approve-form" data-amount-cents="100000" checked`,
    );
    expect(view.text).to.contain(
      `type="radio" name="alt[0]" value="${items['Copper gutters'].id}" form="approve-form" data-amount-cents="300000">`,
    );
    expect(view.text).to.contain(
      `type="checkbox" name="option" value="${items['Gutter guards'].id}" form="approve-form" data-amount-cents="40000">`,
    );
    expect(view.text).to.contain(`value="${items['Downspout extensions'].id}" form="approve-form" data-amount-cents="5000" checked`);
    expect(view.text).to.contain('name="expectedTotalCents" value="135313"');
    expect(view.text).to.contain('<script src="/static/portal-choices.js" defer></script>');
    expect(view.text).to.contain('formaction="/p/').and.to.contain('/choose" formnovalidate');
  });

  it('"Update total" without script shows the totals of the picks and writes nothing', async () => {
    const { page, items, csrf, sha, proposal } = await setup();
    const res = await app()
      .post(`${page}/choose`)
      .type('form')
      .send({ _csrf: csrf, contentSha256: sha, approverName: 'Pat', ...bestWithGuards(items) });
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('Approve $3,897.00').and.to.contain('name="expectedTotalCents" value="389700"');
    expect(res.text).to.contain(`value="${items['Copper gutters'].id}" form="approve-form" data-amount-cents="300000" checked`);
    expect(res.text).to.contain(`value="${items['Gutter guards'].id}" form="approve-form" data-amount-cents="40000" checked`);
    expect(res.text).to.contain(`value="${items['Downspout extensions'].id}" form="approve-form" data-amount-cents="5000">`);
    expect(res.text).to.contain('value="Pat"');
    const row = await proposalRow(proposal.id);
    expect(row.status).to.equal('pending');
    expect(row.total_cents).to.equal(DEFAULT_TOTAL_CENTS);
    expect(await selectedServices(proposal.id)).to.deep.equal(['Gutter cleaning', 'Aluminium gutters', 'Downspout extensions']);
  });

  it('"Update total" refuses a pick that is not in the proposal (422) and needs the form token (403)', async () => {
    const { page, items, csrf } = await setup();
    const bad = await app().post(`${page}/choose`).type('form').send({ _csrf: csrf, 'alt[0]': items['Gutter cleaning'].id });
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('not an option of this proposal');
    const forged = await app().post(`${page}/choose`).type('form').send(bestWithGuards(items));
    expect(forged.status).to.equal(403);
  });

  it('approves exactly the chosen lines: totals recomputed on the server, lines marked, audit names them, the invoice bills only them', async () => {
    const { org, page, items, csrf, sha, proposal } = await setup();
    const res = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({
        _csrf: csrf,
        contentSha256: sha,
        approverName: 'Pat Gutterowner',
        agree: 'yes',
        expectedTotalCents: '389700',
        ...bestWithGuards(items),
      });
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    expect(res.headers.location).to.equal(`${page}?result=approved`);
    const row = await proposalRow(proposal.id);
    expect(row.status).to.equal('approved');
    expect([row.subtotal_cents, row.tax_cents, row.total_cents]).to.deep.equal([360000, 29700, 389700]);
    expect(await selectedServices(proposal.id)).to.deep.equal(['Gutter cleaning', 'Copper gutters', 'Gutter guards']);
    const [audit] = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'proposal.approved', subject_id: proposal.id })
      .select<AuditEventRecord[]>();
    const data = audit.data as { chosen_item_ids: string[]; total_cents: number };
    expect(data.total_cents).to.equal(389700);
    expect([...data.chosen_item_ids].sort()).to.deep.equal(
      [items['Gutter cleaning'].id, items['Copper gutters'].id, items['Gutter guards'].id].sort(),
    );
    expect(await getDb()('jobs').where({ proposal_id: proposal.id })).to.have.length(1);

    // After approval the page lists only what was chosen, at the approved total.
    const shown = await app().get(`${page}?result=approved`);
    expect(shown.text).to.contain('$3,897.00').and.to.contain('Copper gutters').and.not.to.contain('Aluminium gutters');
    expect(shown.text).not.to.contain('type="radio"');

    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, { type: 'user', userId: org.userId, label: 'o' }),
    );
    expect(invoice.total_cents).to.equal(389700);
    const lines = await getDb()('invoice_items').where({ invoice_id: invoice.id }).orderBy('position').pluck('service');
    expect(lines).to.deep.equal(['Gutter cleaning', 'Copper gutters', 'Gutter guards']);
  });

  const refusals: [string, (items: ItemsByService) => Record<string, string | string[]>, RegExp][] = [
    [
      'a line of another proposal',
      () => ({ 'alt[0]': '00000000-0000-4000-8000-000000000000', expectedTotalCents: '135313' }),
      /not an option of this proposal/,
    ],
    [
      'a required line sent as optional (it cannot be dropped or re-added)',
      (i) => ({ 'alt[0]': i['Aluminium gutters'].id, option: i['Gutter cleaning'].id, expectedTotalCents: '125000' }),
      /not an optional part/,
    ],
    [
      'two alternatives of one group',
      (i) => ({ 'alt[0]': i['Aluminium gutters'].id, 'alt[1]': i['Steel gutters'].id, expectedTotalCents: '135313' }),
      /Choose only one option for “Gutter material”/,
    ],
    ['no alternative of a group', () => ({ expectedTotalCents: '21650' }), /Choose one option for “Gutter material”/],
    [
      'a total other than the choice’s',
      (i) => ({ 'alt[0]': i['Copper gutters'].id, option: i['Gutter guards'].id, expectedTotalCents: '135313' }),
      /total for your choices is not the one the page showed/,
    ],
    ['no total at all', (i) => ({ 'alt[0]': i['Copper gutters'].id, option: i['Gutter guards'].id }), /total for your choices/],
  ];
  for (const [what, picks, message] of refusals) {
    it(`refuses an approval with ${what} (422, message, nothing written)`, async () => {
      const { page, items, csrf, sha, proposal } = await setup();
      const res = await app()
        .post(`${page}/approve`)
        .type('form')
        .send({ _csrf: csrf, contentSha256: sha, approverName: 'Pat Gutterowner', agree: 'yes', ...picks(items) });
      expect(res.status).to.equal(422);
      expect(res.text.replace(/&#x27;|&#39;/g, "'")).to.match(message);
      const row = await proposalRow(proposal.id);
      expect(row.status).to.equal('pending');
      expect(row.total_cents).to.equal(DEFAULT_TOTAL_CENTS);
      expect(await selectedServices(proposal.id)).to.deep.equal(['Gutter cleaning', 'Aluminium gutters', 'Downspout extensions']);
      expect(await getDb()('jobs').where({ proposal_id: proposal.id })).to.have.length(0);
    });
  }

  it('on a plan without online approval lists every line with how it counts, at the preselected total', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const lead = await createTestLead(org.orgId);
    const { proposal } = await createOptionsProposal(org.orgId, org.userId, lead.id);
    const { token } = await linkFor(org.orgId, lead.id);
    const res = await app().get(`/p/${token}/proposals/${proposal.id}`);
    expect(res.status).to.equal(200);
    expect(res.text).not.to.contain('type="radio"').and.not.to.contain('portal-choices.js');
    expect(res.text).to.contain('Optional, not included').and.to.contain('Gutter material: other option');
    expect(res.text).to.contain('$1,353.13');
  });

  it('a staff approval (by phone) takes the preselected lines, as the dashboard says', async () => {
    const { org, proposal } = await setup();
    const agent = await loginAgent(org.email, org.password);
    expect((await agent.get(`/proposals/${proposal.id}`)).text).to.contain('This records the preselected options.');
    await withOrg(org.orgId, (db) =>
      approveProposal(db, proposal.id, { source: 'staff', approverName: 'Pat' }, { type: 'user', userId: org.userId, label: 'o' }),
    );
    const row = await proposalRow(proposal.id);
    expect(row.total_cents).to.equal(DEFAULT_TOTAL_CENTS);
    expect(await selectedServices(proposal.id)).to.deep.equal(['Gutter cleaning', 'Aluminium gutters', 'Downspout extensions']);

    // The finished job's invoice bills the same lines.
    const actor = { type: 'user' as const, userId: org.userId, label: 'o' };
    const invoice = await withOrg(org.orgId, async (db) => {
      const job = await db('jobs').where({ proposal_id: proposal.id }).first<{ id: string }>('id');
      await setJobStatus(db, job.id, 'completed', actor);
      return createInvoiceFromJob(db, job.id, { currency: 'USD', time_zone: 'UTC' }, actor);
    });
    expect(invoice.total_cents).to.equal(DEFAULT_TOTAL_CENTS);
    const lines = await getDb()('invoice_items').where({ invoice_id: invoice.id }).orderBy('position').pluck('service');
    expect(lines).to.deep.equal(['Gutter cleaning', 'Aluminium gutters', 'Downspout extensions']);
  });

  it('the PDF marks options while pending, and lists only the chosen lines once approved', async () => {
    const { page, items, csrf, sha } = await setup();
    const pending = await pdfText((await app().get(`${page}/pdf`).buffer(true).parse(binary)).body as Buffer);
    expect(pending).to.contain('Optional, not included').and.to.contain('Copper gutters').and.to.contain('1,353.13');
    await app()
      .post(`${page}/approve`)
      .type('form')
      .send({
        _csrf: csrf,
        contentSha256: sha,
        approverName: 'Pat Gutterowner',
        agree: 'yes',
        expectedTotalCents: '389700',
        ...bestWithGuards(items),
      })
      .expect(303);
    const approved = await pdfText((await app().get(`${page}/pdf`).buffer(true).parse(binary)).body as Buffer);
    expect(approved).to.contain('Copper gutters').and.to.contain('Gutter guards').and.to.contain('3,897.00');
    expect(approved).not.to.contain('Aluminium gutters');
    expect(approved).not.to.contain('Downspout extensions');
  });
});

describe('proposal options: the content hash an approval checks', () => {
  const proposal = {
    number: 7,
    title: 'T',
    tax_rate_bps: 0,
    customer_message: '',
    valid_until: null,
    subtotal_cents: 100,
    tax_cents: 0,
    total_cents: 100,
  };
  const line = { position: 0, service: 'S', description: '', quantity: '1.00', unit_price_cents: 100, amount_cents: 100 };

  it('hashes a proposal without options exactly as before options existed', () => {
    expect(proposalContentSha256(proposal, [{ ...line, optional: false, group_label: null, selected: true }])).to.equal(
      proposalContentSha256(proposal, [line]),
    );
  });

  it('changes when a line becomes optional, changes group, or changes what is preselected', () => {
    const optional = { ...line, optional: true, group_label: null, selected: true };
    const hashes = new Set([
      proposalContentSha256(proposal, [line]),
      proposalContentSha256(proposal, [optional]),
      proposalContentSha256(proposal, [{ ...optional, selected: false }]),
      proposalContentSha256(proposal, [{ ...line, optional: false, group_label: 'A', selected: true }]),
      proposalContentSha256(proposal, [{ ...line, optional: false, group_label: 'B', selected: true }]),
    ]);
    expect(hashes.size).to.equal(5);
  });
});
