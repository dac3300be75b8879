// A proposal, invoice or payment receipt as a PDF in the business's brand: logo,
// brand colour and contact details on top, selectable text in an embedded Noto Sans
// (so accents, Greek and Cyrillic names render), Letter or A4 by the org's country.
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import { formatDate, formatDateTime } from '../lib/dates.js';
import { readableOn } from '../lib/contrast.js';
import { formatMoney } from '../lib/money.js';
import type { DocumentData, DocumentOrg } from './queries.js';
import { drawSignaturePage } from './signature-page.js';

const require = createRequire(import.meta.url);
const FONT_REGULAR = require.resolve('@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf');
const FONT_BOLD = require.resolve('@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf');

/** Countries that use US Letter paper; everyone else gets A4. */
const LETTER_REGIONS = new Set(['US', 'CA', 'MX', 'PR', 'CL', 'CO', 'VE', 'PH', 'GT', 'CR', 'PA', 'DO', 'SV', 'NI', 'HN', 'BZ']);

/** The org's country comes from its locale's region ('en-CA' → CA, 'pt-PT' → PT). */
function paperSizeFor(locale: string): 'LETTER' | 'A4' {
  let region: string | undefined;
  try {
    region = new Intl.Locale(locale).maximize().region;
  } catch {
    region = undefined;
  }
  return region && LETTER_REGIONS.has(region) ? 'LETTER' : 'A4';
}

const INK = '#1f2933';
const MUTED = '#52606d';
const KIND_LABEL = { proposal: 'Proposal', invoice: 'Invoice', receipt: 'Receipt' } as const;

export function documentFilename(doc: DocumentData): string {
  return `${doc.kind}-${doc.number}.pdf`;
}

export function renderDocumentPdf(org: DocumentOrg, doc: DocumentData): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: paperSizeFor(org.locale),
    margin: 50,
    info: { Title: `${KIND_LABEL[doc.kind]} #${doc.number} · ${org.name}`, Author: org.name },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (c: Buffer) => chunks.push(c));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  pdf.registerFont('body', FONT_REGULAR);
  pdf.registerFont('bold', FONT_BOLD);
  const money = (cents: number) => formatMoney(cents, doc.currency, org.locale);
  const brand = readableOn(/^#[0-9a-f]{6}$/i.test(org.brand_color) ? org.brand_color : INK, '#ffffff');
  const left = pdf.page.margins.left;
  const width = pdf.page.width - left - pdf.page.margins.right;

  // Brand band, logo and contact details.
  pdf.rect(0, 0, pdf.page.width, 8).fill(brand);
  let top = 40;
  if (org.logo) {
    pdf.image(org.logo, left, top, { fit: [120, 60] });
  }
  const contact = [org.address, org.phone, org.email].filter((v): v is string => Boolean(v));
  pdf
    .font('bold')
    .fontSize(14)
    .fillColor(brand)
    .text(org.name, left + width / 2, top, { width: width / 2, align: 'right' });
  pdf.font('body').fontSize(9).fillColor(MUTED);
  for (const line of contact) pdf.text(line, { width: width / 2, align: 'right' });
  top = Math.max(pdf.y, org.logo ? top + 64 : top) + 20;

  // Title block.
  pdf.font('bold').fontSize(20).fillColor(INK).text(`${KIND_LABEL[doc.kind]} #${doc.number}`, left, top);
  if (doc.kind !== 'invoice') pdf.font('body').fontSize(11).fillColor(MUTED).text(doc.title);
  const dateText =
    doc.date instanceof Date ? formatDateTime(doc.date, org.time_zone, org.locale) : formatDate(doc.date, org.time_zone, org.locale);
  pdf.moveDown(0.5).font('body').fontSize(10).fillColor(INK);
  pdf.text(`${doc.kind === 'receipt' ? 'Paid' : 'Date'}: ${dateText}`);
  if (doc.dueDate) pdf.text(`${doc.kind === 'invoice' ? 'Due' : 'Valid until'}: ${formatDate(doc.dueDate, org.time_zone, org.locale)}`);

  pdf.moveDown();
  pdf
    .font('bold')
    .fontSize(10)
    .text(doc.kind === 'receipt' ? 'Received from' : 'Prepared for');
  pdf.font('body');
  for (const line of [doc.customer.name, doc.customer.company, doc.customer.address, doc.customer.email]) {
    if (line) pdf.text(line);
  }
  if (doc.message) pdf.moveDown().fillColor(MUTED).text(doc.message, { width });

  // Lines.
  const cols = { service: left, qty: left + width * 0.55, unit: left + width * 0.68, amount: left + width * 0.84 };
  const colWidth = { service: width * 0.53, qty: width * 0.12, unit: width * 0.15, amount: width * 0.16 };
  pdf.moveDown(1.5);
  let y = pdf.y;
  pdf.rect(left, y - 4, width, 20).fill(brand);
  pdf
    .font('bold')
    .fontSize(9)
    .fillColor(readableOn('#ffffff', brand) === '#ffffff' ? '#ffffff' : '#000000');
  pdf.text('Item', cols.service + 4, y, { width: colWidth.service });
  pdf.text('Qty', cols.qty, y, { width: colWidth.qty, align: 'right' });
  pdf.text('Unit price', cols.unit, y, { width: colWidth.unit, align: 'right' });
  pdf.text('Amount', cols.amount, y, { width: colWidth.amount - 4, align: 'right' });
  y += 24;
  for (const line of doc.lines) {
    if (y > pdf.page.height - pdf.page.margins.bottom - 60) {
      pdf.addPage();
      y = pdf.page.margins.top;
    }
    pdf.font('body').fontSize(10).fillColor(INK);
    pdf.text(line.service, cols.service + 4, y, { width: colWidth.service });
    let rowEnd = pdf.y;
    if (line.description) {
      pdf
        .fontSize(8)
        .fillColor(MUTED)
        .text(line.description, cols.service + 4, rowEnd, { width: colWidth.service });
      rowEnd = pdf.y;
    }
    pdf.fontSize(10).fillColor(INK);
    pdf.text(String(line.quantity), cols.qty, y, { width: colWidth.qty, align: 'right' });
    pdf.text(money(line.unit_price_cents), cols.unit, y, { width: colWidth.unit, align: 'right' });
    pdf.text(money(line.amount_cents), cols.amount, y, { width: colWidth.amount - 4, align: 'right' });
    y = Math.max(rowEnd, pdf.y) + 6;
    pdf
      .moveTo(left, y - 3)
      .lineTo(left + width, y - 3)
      .lineWidth(0.5)
      .strokeColor('#d9e2ec')
      .stroke();
  }

  // Totals.
  const totals: [string, string, boolean][] = [];
  if (doc.kind !== 'receipt') {
    totals.push(['Subtotal', money(doc.subtotalCents), false]);
    totals.push([`Tax (${(doc.taxRateBps / 100).toString()}%)`, money(doc.taxCents), false]);
  }
  totals.push([doc.receipt?.refund ? 'Refunded' : doc.kind === 'receipt' ? 'Amount paid' : 'Total', money(doc.totalCents), true]);
  if (doc.paidCents !== null) {
    totals.push(['Paid', money(doc.paidCents), false]);
    totals.push(['Balance due', money(doc.totalCents - doc.paidCents), true]);
  }
  y += 6;
  for (const [label, value, strong] of totals) {
    pdf
      .font(strong ? 'bold' : 'body')
      .fontSize(strong ? 11 : 10)
      .fillColor(INK);
    pdf.text(label, cols.unit - width * 0.15, y, { width: width * 0.3 - 4, align: 'right' });
    pdf.text(value, cols.amount, y, { width: colWidth.amount - 4, align: 'right' });
    y = pdf.y + 4;
  }

  if (doc.signature) drawSignaturePage(pdf, doc.signature, org, { number: doc.number, totalText: money(doc.totalCents) });
  pdf.end();
  return done;
}
