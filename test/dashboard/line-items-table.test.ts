// The read-only line items on the dashboard's proposal and invoice pages: a line
// the totals leave out (an alternative not chosen, an optional line left out) is
// marked as not counted with its amount struck through, and every figure carries
// its label so the table can be read as a list on a phone.
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { createInvoiceFromProposal } from '../../src/invoices/commands.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { loginAgent } from '../support/http.js';
import { createOptionsProposal } from '../proposals/options-fixtures.js';

interface ShownLine {
  service: string;
  counted: boolean;
  struck: boolean;
}

/** The page's table.lines. */
function linesTable(html: string): string {
  const table = /<table class="lines responsive">[\s\S]*?<\/table>/.exec(html);
  if (!table) throw new Error('no line-item table on the page');
  return table[0];
}

/** The lines of the page's table.lines, with how each is shown. */
function shownLines(html: string): ShownLine[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(linesTable(html))![1];
  return [...body.matchAll(/<tr( class="not-counted")?><td class="line-service">([^<]+)[\s\S]*?<\/tr>/g)].map((m) => ({
    service: m[2],
    counted: !m[1],
    struck: m[0].includes('<s>'),
  }));
}

const notCounted = (lines: ShownLine[]) => lines.filter((l) => !l.counted).map((l) => l.service);

/** A pending proposal with alternatives and an optional line, as its dashboard page shows it. */
async function pendingOptionsPage() {
  const org = await createTestOrg({ plan: 'starter' });
  const lead = await createTestLead(org.orgId);
  const { proposal } = await createOptionsProposal(org.orgId, org.userId, lead.id);
  const agent = await loginAgent(org.email, org.password);
  return agent.get(`/proposals/${proposal.id}`);
}

describe('dashboard line-item table', () => {
  it('marks the other alternatives and the unticked optional line of a pending proposal as not counted, amounts struck through', async () => {
    const res = await pendingOptionsPage();
    expect(res.status).to.equal(200);
    const lines = shownLines(res.text);
    expect(lines.map((l) => l.service)).to.deep.equal([
      'Gutter cleaning',
      'Aluminium gutters',
      'Steel gutters',
      'Copper gutters',
      'Gutter guards',
      'Downspout extensions',
    ]);
    expect(notCounted(lines)).to.deep.equal(['Steel gutters', 'Copper gutters', 'Gutter guards']);
    expect(lines.every((l) => l.struck === !l.counted)).to.equal(true);
    // The wording beside them stays: it says why they are left out.
    expect(res.text).to.contain('Gutter material: other option').and.to.contain('Optional, not included');
    // The totals are those of the counted lines: 200 + 1,000 + 50 = 1,250.00.
    expect(res.text).to.contain('$1,250.00').and.to.contain('$1,353.13');
  });

  it('once approved, marks the alternatives not chosen and the optional line left out, and an invoice from it marks nothing', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const { proposal } = await createOptionsProposal(org.orgId, org.userId, lead.id);
    const actor = { type: 'user' as const, userId: org.userId, label: 'o' };
    await withOrg(org.orgId, (db) => approveProposal(db, proposal.id, { source: 'staff', approverName: 'Pat' }, actor));
    const agent = await loginAgent(org.email, org.password);

    const shown = await agent.get(`/proposals/${proposal.id}`);
    const lines = shownLines(shown.text);
    expect(notCounted(lines)).to.deep.equal(['Steel gutters', 'Copper gutters', 'Gutter guards']);
    expect(lines.every((l) => l.struck === !l.counted)).to.equal(true);
    expect(shown.text).to.contain('Gutter material: not chosen').and.to.contain('Optional: not chosen');

    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor),
    );
    const invoicePage = await agent.get(`/invoices/${invoice.id}`);
    expect(invoicePage.status).to.equal(200);
    const billed = shownLines(invoicePage.text);
    expect(billed.map((l) => l.service)).to.deep.equal(['Gutter cleaning', 'Aluminium gutters', 'Downspout extensions']);
    expect(billed.every((l) => l.counted && !l.struck)).to.equal(true);
  });

  it('labels every figure of a line, so the table reads as a list on a phone', async () => {
    const res = await pendingOptionsPage();
    const cells = [...linesTable(res.text).matchAll(/<td class="num"( data-label="([^"]*)")?>/g)];
    const labels = cells.filter((c) => c[1]).map((c) => c[2]);
    // Six lines, three figures each; the three totals rows are labelled by their <th>.
    expect(labels).to.have.length(18);
    expect([...new Set(labels)]).to.deep.equal(['Qty', 'Unit price', 'Amount']);
    expect(cells.filter((c) => !c[1])).to.have.length(3);
  });

  it('writes a quantity as the portal and the PDF do: "2", not "2.00"', async () => {
    const res = await pendingOptionsPage();
    const quantities = [...linesTable(res.text).matchAll(/<td class="num" data-label="Qty">([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(quantities).to.deep.equal(['1', '1', '1', '1', '1', '2']);
  });
});
