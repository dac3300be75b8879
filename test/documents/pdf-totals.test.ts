// The PDF's totals (a large sum stays on one line, its cents beside it) and its lines' notes.
import { expect } from 'chai';
import { PDFParse } from 'pdf-parse';
import { renderDocumentPdf } from '../../src/documents/pdf.js';
import { msg } from '../../src/i18n/index.js';

const ORG = {
  name: 'Big Build Co',
  brand_color: '#1d4ed8',
  phone: null,
  email: null,
  address: null,
  locale: 'en-US',
  currency: 'USD',
  time_zone: 'America/Chicago',
  logo: null,
};

async function pdfLines(buf: Buffer): Promise<string[]> {
  const parser = new PDFParse({ data: new Uint8Array(buf) });
  const { text } = await parser.getText();
  await parser.destroy();
  return text.split('\n').map((l) => l.trim());
}

describe('document PDF totals', () => {
  it('writes a nine-figure total and balance each on one line', async () => {
    const cents = 12_192_592_334;
    const pdf = await renderDocumentPdf(ORG, {
      kind: 'invoice',
      number: 29,
      title: 'Invoice #29',
      date: '2026-12-01',
      dueDate: '2026-12-31',
      currency: 'USD',
      customer: { name: 'Ana Ruiz', company: null, address: null, email: null, language: null },
      message: '',
      lines: [{ service: 'Tower', description: '', quantity: 1, unit_price_cents: cents, amount_cents: cents }],
      subtotalCents: cents,
      taxCents: 0,
      taxRateBps: 0,
      totalCents: cents,
      paidCents: 0,
      receipt: null,
    });
    const lines = await pdfLines(pdf);
    expect(lines).to.include('Total $121,925,923.34');
    expect(lines).to.include('Balance due $121,925,923.34');
    expect(lines).to.not.include('34');
  });

  it('words an option’s note whole, even when the business’s group name holds " · "', async () => {
    const pdf = await renderDocumentPdf(ORG, {
      kind: 'proposal',
      number: 4,
      title: 'Roof',
      date: '2026-12-01',
      dueDate: null,
      currency: 'USD',
      customer: { name: 'Ana Ruiz', company: null, address: null, email: null, language: 'es' },
      message: '',
      lines: [
        {
          service: 'Slate',
          description: 'Grey',
          note: msg('dashboard:lines.note.groupOther', { group: 'Roof · Option A' }),
          quantity: 1,
          unit_price_cents: 1000,
          amount_cents: 1000,
        },
      ],
      subtotalCents: 1000,
      taxCents: 0,
      taxRateBps: 0,
      totalCents: 1000,
      paidCents: null,
      receipt: null,
    });
    const text = (await pdfLines(pdf)).join(' ');
    expect(text).to.contain('Grey · Roof · Option A: otra opción');
    expect(text).to.not.contain('dashboard:lines');
  });
});
