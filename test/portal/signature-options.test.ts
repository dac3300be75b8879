// Where signatures, change requests and optional lines meet: the customer picks
// a non-default alternative and drops an optional line, then signs; the snapshot,
// its hash, the proposal's totals and the signed PDF all hold exactly the choice.
// A proposal with options that the customer asks to change keeps its options as
// shown in the frozen version, and its revision can be approved with a choice.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { PDFParse } from 'pdf-parse';
import sharp from 'sharp';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import type { ProposalItemRow, ProposalRow, ProposalSignatureRow, ProposalVersionRow } from '../../src/db/rows.js';
import type { ProposalContent } from '../../src/proposals/queries.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { createOptionsProposal, DEFAULT_TOTAL_CENTS, OPTION_ROWS, type ItemsByService } from '../proposals/options-fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const app = () => supertest(testApp());
const EMAIL = 'pat.gutters@example.test';

async function drawnSignatureDataUrl(): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="200">
    <path d="M20 150 C 80 20, 160 20, 220 120 S 380 190, 580 60" stroke="#111827" stroke-width="5" fill="none"/></svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

function formFields(html: string): { _csrf: string; contentSha256: string } {
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html);
  const sha = /name="contentSha256" value="([0-9a-f]{64})"/.exec(html);
  if (!csrf || !sha) throw new Error('no approval form on the page');
  return { _csrf: csrf[1].replace(/&#x3D;/g, '='), contentSha256: sha[1] };
}

function binary(res: supertest.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

async function pdfPages(buf: Buffer): Promise<string[]> {
  const parser = new PDFParse({ data: new Uint8Array(buf) });
  try {
    const { pages } = await parser.getText();
    return pages.map((p) => p.text.replace(/\s+/g, ' '));
  } finally {
    await parser.destroy();
  }
}

const proposalRow = (id: string) => getDb()('proposals').where({ id }).first<ProposalRow>();
const selectedServices = async (proposalId: string) =>
  (await getDb()('proposal_items').where({ proposal_id: proposalId }).orderBy('position').select<ProposalItemRow[]>())
    .filter((i) => i.selected)
    .map((i) => i.service);

async function setup() {
  const org = await createTestOrg({ plan: 'starter', name: 'Clear Gutters' });
  const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Gutterowner', email: EMAIL });
  const { proposal, items } = await createOptionsProposal(org.orgId, org.userId, lead.id);
  const { token } = await linkFor(org.orgId, lead.id);
  return { org, lead, proposal, items, token, page: `/p/${token}/proposals/${proposal.id}` };
}

/** Steel (not the preselected Aluminium), downspouts un-ticked, no guards: 200 + 1,500 = 1,700.00 + 140.25 tax = 1,840.25. */
const steelOnly = (items: ItemsByService) => ({ 'alt[0]': items['Steel gutters'].id });
const STEEL_TOTAL_CENTS = 184025;

describe('signatures with optional lines and alternatives', () => {
  beforeEach(resetPortalMisses);

  it('signs exactly the choice: snapshot with selected flags and its hash, the chosen totals, and a PDF of only the chosen lines', async () => {
    const { org, proposal, items, page } = await setup();
    const fields = formFields((await app().get(page)).text);
    const res = await app()
      .post(`${page}/approve`)
      .set('User-Agent', 'SignOptions/1.0')
      .type('form')
      .send({
        ...fields,
        approverName: 'Pat Gutterowner',
        agree: 'yes',
        expectedTotalCents: String(STEEL_TOTAL_CENTS),
        signature: await drawnSignatureDataUrl(),
        ...steelOnly(items),
      });
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    expect(res.headers.location).to.equal(`${page}?result=approved`);

    const row = await proposalRow(proposal.id);
    expect(row.status).to.equal('approved');
    expect([row.subtotal_cents, row.tax_cents, row.total_cents].map(Number)).to.deep.equal([170000, 14025, STEEL_TOTAL_CENTS]);
    expect(await selectedServices(proposal.id)).to.deep.equal(['Gutter cleaning', 'Steel gutters']);

    const sig = await getDb()('proposal_signatures').where({ proposal_id: proposal.id }).first<ProposalSignatureRow | undefined>();
    if (!sig) throw new Error('no signature stored');
    expect(sig.method).to.equal('drawn');
    expect(crypto.createHash('sha256').update(sig.content_json).digest('hex')).to.equal(sig.content_sha256);
    const content = JSON.parse(sig.content_json) as ProposalContent;
    expect([content.subtotal_cents, content.tax_cents, content.total_cents]).to.deep.equal([170000, 14025, STEEL_TOTAL_CENTS]);
    expect(content.items.map((i) => [i.service, i.selected ?? 'required'])).to.deep.equal([
      ['Gutter cleaning', 'required'],
      ['Aluminium gutters', false],
      ['Steel gutters', true],
      ['Copper gutters', false],
      ['Gutter guards', false],
      ['Downspout extensions', false],
    ]);
    expect(content.items.filter((i) => i.group_label).map((i) => i.group_label)).to.deep.equal([
      'Gutter material',
      'Gutter material',
      'Gutter material',
    ]);
    expect(content.items.filter((i) => i.optional).map((i) => i.service)).to.deep.equal(['Gutter guards', 'Downspout extensions']);

    const agent = await loginAgent(org.email, org.password);
    for (const [who, request] of [
      ['portal', app().get(`${page}/pdf`)],
      ['dashboard', agent.get(`/proposals/${proposal.id}/pdf`)],
    ] as const) {
      const pdf = await request.buffer(true).parse(binary);
      expect(pdf.status, who).to.equal(200);
      const pages = await pdfPages(pdf.body as Buffer);
      const all = pages.join(' ');
      expect(all, who).to.contain('Gutter cleaning').and.to.contain('Steel gutters').and.to.contain('1,840.25');
      for (const dropped of ['Aluminium gutters', 'Copper gutters', 'Gutter guards', 'Downspout extensions', '1,353.13']) {
        expect(all, `${who}: ${dropped}`).not.to.contain(dropped);
      }
      expect(pages.length, who).to.be.greaterThan(1);
      const last = pages[pages.length - 1];
      expect(last, who).to.contain('Signed by Pat Gutterowner').and.to.contain('Drawn by hand').and.to.contain('SignOptions/1.0');
      expect(last.replace(/\s/g, ''), who).to.contain(sig.content_sha256);
    }
  });
});

describe('change requests on a proposal with optional lines and alternatives', () => {
  beforeEach(resetPortalMisses);

  it('the frozen version keeps the options as shown; the revision, sent again, is approved with a choice', async () => {
    const { org, lead, proposal, page } = await setup();
    const shownFields = formFields((await app().get(page)).text);
    const asked = await app()
      .post(`${page}/request-changes`)
      .type('form')
      .send({ _csrf: shownFields._csrf, changes: 'Can you quote copper with guards too?' });
    expect(asked.status, asked.text.slice(0, 300)).to.equal(303);
    expect((await proposalRow(proposal.id)).status).to.equal('changes_requested');

    const [version] = await getDb()('proposal_versions').where({ proposal_id: proposal.id }).select<ProposalVersionRow[]>();
    expect(version.content_sha256).to.equal(shownFields.contentSha256);
    const frozen = JSON.parse(version.content_json) as ProposalContent;
    expect(frozen.total_cents).to.equal(DEFAULT_TOTAL_CENTS);
    expect(frozen.items.map((i) => [i.service, i.optional ?? null, i.group_label ?? null, i.selected ?? null])).to.deep.equal([
      ['Gutter cleaning', null, null, null],
      ['Aluminium gutters', false, 'Gutter material', true],
      ['Steel gutters', false, 'Gutter material', false],
      ['Copper gutters', false, 'Gutter material', false],
      ['Gutter guards', true, null, false],
      ['Downspout extensions', true, null, true],
    ]);

    // While the business revises, the customer's page and PDF show that version with its options as they were shown.
    const waiting = await app().get(page);
    expect(waiting.status).to.equal(200);
    expect(waiting.text).to.contain('Copper gutters').and.to.contain('Gutter guards').and.to.contain('$1,353.13');
    const notes = (html: string) =>
      [
        ...html.matchAll(
          /<span class="item-name">([^<]+)<\/span>(?:\s*<span class="item-desc">[^<]*<\/span>)?\s*(?:<span class="item-note">([^<]*)<\/span>)?/g,
        ),
      ].map((m) => [m[1], m[2] ?? null]);
    const asShown = [
      ['Gutter cleaning', null],
      ['Aluminium gutters', 'Gutter material: preselected option'],
      ['Steel gutters', 'Gutter material: other option'],
      ['Copper gutters', 'Gutter material: other option'],
      ['Gutter guards', 'Optional, not included'],
      ['Downspout extensions', 'Optional, included'],
    ];
    expect(notes(waiting.text)).to.deep.equal(asShown);
    expect(waiting.text).not.to.contain('type="radio"');
    const versionPage = await app().get(`${page}/versions/1`);
    expect(versionPage.status).to.equal(200);
    expect(notes(versionPage.text)).to.deep.equal(asShown);
    const waitingPdf = (await pdfPages((await app().get(`${page}/pdf`).buffer(true).parse(binary)).body as Buffer)).join(' ');
    expect(waitingPdf).to.contain('Aluminium gutters').and.to.contain('Downspout extensions').and.to.contain('1,353.13');
    expect(waitingPdf).to.contain('Copper gutters').and.to.contain('Gutter guards').and.to.contain('Optional, not included');
    // A Spanish reader gets the notes in Spanish, on the page and in the PDF.
    await getDb()('leads').where({ id: lead.id }).update({ language: 'es' });
    expect(notes((await app().get(page)).text)).to.deep.include.members([
      ['Steel gutters', 'Gutter material: otra opción'],
      ['Gutter guards', 'Opcional, no incluido'],
    ]);
    const spanishPdf = (await pdfPages((await app().get(`${page}/pdf`).buffer(true).parse(binary)).body as Buffer)).join(' ');
    expect(spanishPdf).to.contain('Opcional, no incluido').and.to.contain('Gutter material: opción preseleccionada');
    expect(spanishPdf).not.to.contain('Optional, not included');
    await getDb()('leads').where({ id: lead.id }).update({ language: null });

    // The business revises: copper gets cheaper; then sends the new version.
    const agent = await loginAgent(org.email, org.password);
    const editor = await agent.get(`/proposals/${proposal.id}/edit`);
    expect(editor.status).to.equal(200);
    const rows: Record<string, string>[] = OPTION_ROWS.map((r) => (r.service === 'Copper gutters' ? { ...r, unit_price: '2500' } : r));
    const body: Record<string, string> = { _csrf: csrfFrom(editor.text), lead_id: lead.id, title: 'New gutters', tax_rate: '8.25' };
    rows.forEach((row, i) => Object.entries(row).forEach(([k, v]) => (body[`items[${i}][${k}]`] = v)));
    const saved = await agent.post(`/proposals/${proposal.id}`).type('form').send(body);
    expect(saved.status, saved.text.slice(0, 400)).to.equal(303);
    // Sent again with the one "Send to customer" path.
    const sendPage = `/customers/${lead.id}/send?channel=email&context=proposal&proposalId=${proposal.id}`;
    const ready = await agent.get(sendPage);
    const sentAgain = await agent
      .post(`/customers/${lead.id}/send`)
      .type('form')
      .send({ _csrf: csrfFrom(ready.text), channel: 'email', context: 'proposal', proposalId: proposal.id, confirmTo: EMAIL });
    expect(sentAgain.status, sentAgain.text.slice(0, 400)).to.equal(303);
    // Settle the queued customer message so no later test's worker sends it.
    await getDb()('message_deliveries')
      .where({ org_id: org.orgId })
      .whereIn('status', ['queued', 'pending'])
      .update({ status: 'failed', last_error: 'test cleanup' });
    const revised = await proposalRow(proposal.id);
    expect(revised.status).to.equal('pending');
    expect(revised.version).to.equal(2);

    // The frozen version is unchanged by the revision.
    const [still] = await getDb()('proposal_versions').where({ proposal_id: proposal.id, version: 1 }).select<ProposalVersionRow[]>();
    expect(still.content_json).to.equal(version.content_json);

    // The customer approves the new version with copper and guards: 200 + 2,500 + 400 = 3,100.00 + 255.75 tax = 3,355.75.
    const current = await app().get(page);
    const fields = formFields(current.text);
    const newItems = Object.fromEntries(
      (await getDb()('proposal_items').where({ proposal_id: proposal.id }).select<ProposalItemRow[]>()).map((i) => [i.service, i]),
    );
    const approved = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({
        ...fields,
        approverName: 'Pat Gutterowner',
        agree: 'yes',
        expectedTotalCents: '335575',
        'alt[0]': newItems['Copper gutters'].id,
        option: newItems['Gutter guards'].id,
      });
    expect(approved.status, approved.text.slice(0, 400)).to.equal(303);
    const row = await proposalRow(proposal.id);
    expect(row.status).to.equal('approved');
    expect(Number(row.total_cents)).to.equal(335575);
    expect(await selectedServices(proposal.id)).to.deep.equal(['Gutter cleaning', 'Copper gutters', 'Gutter guards']);
    const sig = await getDb()('proposal_signatures').where({ proposal_id: proposal.id }).first<ProposalSignatureRow>();
    expect(sig.version).to.equal(2);
    expect((JSON.parse(sig.content_json) as ProposalContent).total_cents).to.equal(335575);
  });
});
