// Issue #13 point 2: a portal approval is signed — a drawn PNG (checked by its
// bytes and re-encoded) or the typed name — and stored with the time, IP, user
// agent and the exact JSON approved with its SHA-256. The PDF is drawn from that
// snapshot and ends with a signature page, whatever happens to the proposal later.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { PDFParse } from 'pdf-parse';
import sharp from 'sharp';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import type { ProposalRow, ProposalSignatureRow } from '../../src/db/rows.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const app = () => supertest(testApp());

/** A hand-drawn-looking stroke on a transparent canvas, as signature_pad's toDataURL gives. */
export async function drawnSignatureDataUrl(): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="200">
    <path d="M20 150 C 80 20, 160 20, 220 120 S 380 190, 580 60" stroke="#111827" stroke-width="5" fill="none"/></svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

function fieldsFrom(html: string): { _csrf: string; contentSha256: string } {
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

async function setup(plan: 'starter' | 'free' = 'starter') {
  const org = await createTestOrg({ plan, name: 'Clear Pools' });
  const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Poolowner' });
  const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1 });
  const { token } = await linkFor(org.orgId, lead.id);
  const proposalId = records.pendingProposalIds[0];
  return { org, lead, token, proposalId, page: `/p/${token}/proposals/${proposalId}` };
}

const signatureOf = (proposalId: string) =>
  getDb()('proposal_signatures').where({ proposal_id: proposalId }).first<ProposalSignatureRow | undefined>();
const proposalRow = (id: string) => getDb()('proposals').where({ id }).first<ProposalRow>();

describe('portal approval: the signature', () => {
  beforeEach(resetPortalMisses);

  it('offers a drawing box (revealed by script, served self-hosted) with the typed name as the fallback', async () => {
    const { page } = await setup();
    const view = await app().get(page);
    expect(view.text).to.contain('data-signature hidden').and.to.contain('<canvas class="signature-pad"');
    expect(view.text).to.contain('<input type="hidden" name="signature" value="">');
    expect(view.text).to.contain('<script src="/vendor/signature_pad/signature_pad.umd.min.js" defer></script>');
    expect(view.text).to.contain('<script src="/static/portal-sign.js" defer></script>');
    const lib = await app().get('/vendor/signature_pad/signature_pad.umd.min.js');
    expect(lib.status).to.equal(200);
    expect(lib.text).to.contain('SignaturePad');
    expect(lib.headers['cache-control']).to.contain('immutable');
    const script = await app().get('/static/portal-sign.js');
    expect(script.status).to.equal(200);
  });

  it('stores a drawn signature as a re-encoded PNG with name, time, IP, user agent and the SHA-256 of the exact JSON approved', async () => {
    const { page, proposalId } = await setup();
    const fields = fieldsFrom((await app().get(page)).text);
    const before = Date.now();
    const res = await app()
      .post(`${page}/approve`)
      .set('User-Agent', 'SignTest/2.0 (iPhone)')
      .type('form')
      .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes', signature: await drawnSignatureDataUrl() });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`${page}?result=approved`);
    const sig = await signatureOf(proposalId);
    if (!sig) throw new Error('no signature stored');
    expect(sig.method).to.equal('drawn');
    expect(sig.signer_name).to.equal('Pat Poolowner');
    expect(sig.ip).to.match(/127\.0\.0\.1|::1/);
    expect(sig.user_agent).to.equal('SignTest/2.0 (iPhone)');
    expect(sig.signed_at.getTime()).to.be.within(before - 5000, Date.now() + 5000);
    expect(sig.version).to.equal(1);
    const meta = await sharp(sig.image_png ?? Buffer.alloc(0)).metadata();
    expect(meta.format).to.equal('png');
    expect(meta.width).to.equal(600);
    // The hash the customer's form carried, the one on the proposal, and the hash of the stored JSON all agree.
    expect(sig.content_sha256).to.equal(fields.contentSha256);
    expect(crypto.createHash('sha256').update(sig.content_json).digest('hex')).to.equal(sig.content_sha256);
    expect((await proposalRow(proposalId)).approved_content_sha256).to.equal(sig.content_sha256);
    const content = JSON.parse(sig.content_json) as { title: string; total_cents: number; items: unknown[] };
    expect(content.total_cents).to.equal(34650);
    expect(content.items).to.have.length(2);

    const shown = await app().get(page);
    expect(shown.text).to.contain('Signed by Pat Poolowner (drawn signature)');
  });

  it('signs with the typed name when nothing is drawn (no script needed)', async () => {
    const { page, proposalId } = await setup();
    const fields = fieldsFrom((await app().get(page)).text);
    const res = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes', signature: '' });
    expect(res.status).to.equal(303);
    const sig = await signatureOf(proposalId);
    expect(sig?.method).to.equal('typed');
    expect(sig?.image_png).to.equal(null);
    expect(sig?.content_sha256).to.equal(fields.contentSha256);
  });

  const badSignatures: [string, () => Promise<string>, RegExp][] = [
    ['not a data URL', () => Promise.resolve('https://evil.example/sig.png'), /could not be read/],
    [
      'a JPEG labelled as PNG',
      async () =>
        `data:image/png;base64,${(
          await sharp({ create: { width: 40, height: 20, channels: 3, background: '#000' } })
            .jpeg()
            .toBuffer()
        ).toString('base64')}`,
      /could not be read/,
    ],
    [
      'PNG magic followed by garbage',
      () =>
        Promise.resolve(
          `data:image/png;base64,${Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crypto.randomBytes(200)]).toString('base64')}`,
        ),
      /could not be read/,
    ],
    [
      'a blank canvas',
      async () =>
        `data:image/png;base64,${(
          await sharp({ create: { width: 300, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
            .png()
            .toBuffer()
        ).toString('base64')}`,
      /signature box is empty/,
    ],
    ['over the size cap', () => Promise.resolve(`data:image/png;base64,${'A'.repeat(180_000)}`), /too large/],
  ];
  for (const [what, make, message] of badSignatures) {
    it(`refuses ${what} (422, nothing approved or stored)`, async () => {
      const { page, proposalId } = await setup();
      const fields = fieldsFrom((await app().get(page)).text);
      const res = await app()
        .post(`${page}/approve`)
        .type('form')
        .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes', signature: await make() });
      expect(res.status).to.equal(422);
      expect(res.text).to.match(message);
      expect((await proposalRow(proposalId)).status).to.equal('pending');
      expect(await signatureOf(proposalId)).to.equal(undefined);
      expect(await getDb()('jobs').where({ proposal_id: proposalId })).to.have.length(0);
    });
  }

  it('ends the PDF with a signature page and keeps the signed version when the proposal changes later', async () => {
    const { org, page, proposalId } = await setup();
    const fields = fieldsFrom((await app().get(page)).text);
    await app()
      .post(`${page}/approve`)
      .set('User-Agent', 'SignTest/3.0')
      .type('form')
      .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes', signature: await drawnSignatureDataUrl() });
    const sig = await signatureOf(proposalId);
    if (!sig) throw new Error('no signature stored');
    // A later change to the live proposal (any writer, any future feature) must not reach the signed PDF.
    await getDb()('proposals')
      .where({ id: proposalId })
      .update({ title: 'Changed afterwards', subtotal_cents: 99000, tax_cents: 0, total_cents: 99000 });
    await getDb()('proposal_items')
      .where({ proposal_id: proposalId })
      .update({ service: 'Swapped line', unit_price_cents: 49500, amount_cents: 49500, quantity: 1 });

    const agent = await loginAgent(org.email, org.password);
    for (const [who, request] of [
      ['portal', app().get(`${page}/pdf`)],
      ['dashboard', agent.get(`/proposals/${proposalId}/pdf`)],
    ] as const) {
      const res = await request.buffer(true).parse(binary);
      expect(res.status, who).to.equal(200);
      const body = res.body as Buffer;
      const pages = await pdfPages(body);
      const all = pages.join(' ');
      expect(all, who).to.contain('Gutter work option').and.to.contain('$346.50');
      expect(all, who).not.to.contain('Changed afterwards');
      expect(all, who).not.to.contain('Swapped line');
      const last = pages[pages.length - 1];
      expect(pages.length, who).to.be.greaterThan(1);
      expect(last, who).to.contain('Signature').and.to.contain('Signed by Pat Poolowner');
      expect(last, who).to.contain('SignTest/3.0');
      expect(last, who).to.match(/127\.0\.0\.1|::1/);
      expect(last.replace(/\s/g, ''), who).to.contain(sig.content_sha256);
      expect(last, who).to.contain('Drawn by hand');
      expect(body.toString('latin1'), who).to.contain('/Subtype /Image');
    }
  });

  it('puts the typed name on the signature page when nothing was drawn', async () => {
    const { page } = await setup();
    const fields = fieldsFrom((await app().get(page)).text);
    await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes' });
    const res = await app().get(`${page}/pdf`).buffer(true).parse(binary);
    const pages = await pdfPages(res.body as Buffer);
    const last = pages[pages.length - 1];
    expect(last).to.contain('Typed name').and.to.contain('Signed by Pat Poolowner');
    expect((res.body as Buffer).toString('latin1')).not.to.contain('/Subtype /Image');
  });

  it('leaves an unsigned proposal’s PDF without a signature page', async () => {
    const { page } = await setup();
    const res = await app().get(`${page}/pdf`).buffer(true).parse(binary);
    const pages = await pdfPages(res.body as Buffer);
    expect(pages.join(' ')).not.to.contain('Content SHA-256');
  });
});
