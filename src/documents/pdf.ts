// A proposal, invoice or payment receipt as a PDF in the business's brand: logo,
// brand colour and contact details on top, selectable text in an embedded Noto Sans
// (so accents, Greek and Cyrillic names render), Letter or A4 by the org's country.
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import { customerLanguage, formatLocale, t, translate, type Language } from '../i18n/index.js';
import { formatDate, formatDateTime } from '../lib/dates.js';
import { formatQuantity, formatTaxRate } from '../lib/intl.js';
import { phoneText } from '../lib/phone.js';
import { readableOn } from '../lib/contrast.js';
import { formatMoney } from '../lib/money.js';
import type { DocumentData, DocumentOrg } from './queries.js';
import { drawSignaturePage } from './signature-page.js';

const require = createRequire(import.meta.url);
// i18n-exempt: a package file path
const FONT_REGULAR = require.resolve('@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf');
// i18n-exempt: a package file path
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

/**
 * A line's description: the words the business wrote (a receipt's is a message: how it was
 * paid), then how an optional line or alternative counts (lib/line-options.ts's note) after " · ".
 */
function describe(lang: Language, line: { description: string; note?: string | null }): string {
  return [line.description, line.note]
    .filter(Boolean)
    .map((part) => translate(lang, part))
    .join(' · ');
}

const INK = '#1f2933';
const MUTED = '#52606d';

export function documentFilename(doc: DocumentData): string {
  return `${doc.kind}-${doc.number}.pdf`;
}

/**
 * The language a document is written in: the customer's stored one, else, downloaded from the
 * portal, the language its page is in (the browser's), else the business's.
 */
function documentLanguage(org: Pick<DocumentOrg, 'locale'>, customer: { language: string | null }, browser: Language | null): Language {
  return customerLanguage(customer.language, browser, org.locale);
}

/** `browser`: the portal reader's browser language, when the customer downloads it (null: the business, an email). */
export function renderDocumentPdf(org: DocumentOrg, doc: DocumentData, browser: Language | null = null): Promise<Buffer> {
  const lang = documentLanguage(org, doc.customer, browser);
  // The customer's language in the business's country: Spanish words, the country's currency and paper.
  const locale = formatLocale(lang, org.locale);
  const kind = t(lang, `documents:kind.${doc.kind}`);
  const pdf = new PDFDocument({
    size: paperSizeFor(org.locale),
    margin: 50,
    lang,
    info: { Title: t(lang, 'documents:info', { kind, number: doc.number, org: org.name }), Author: org.name },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (c: Buffer) => chunks.push(c));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  pdf.registerFont('body', FONT_REGULAR);
  pdf.registerFont('bold', FONT_BOLD);
  const money = (cents: number) => formatMoney(cents, doc.currency, locale);
  const brand = readableOn(/^#[0-9a-f]{6}$/i.test(org.brand_color) ? org.brand_color : INK, '#ffffff');
  const left = pdf.page.margins.left;
  const width = pdf.page.width - left - pdf.page.margins.right;

  // Brand band, logo and contact details.
  pdf.rect(0, 0, pdf.page.width, 8).fill(brand);
  let top = 40;
  if (org.logo) {
    pdf.image(org.logo, left, top, { fit: [120, 60] });
  }
  const contact = [org.address, phoneText(org.phone, org.locale), org.email].filter((v): v is string => Boolean(v));
  pdf
    .font('bold')
    .fontSize(14)
    .fillColor(brand)
    .text(org.name, left + width / 2, top, { width: width / 2, align: 'right' });
  pdf.font('body').fontSize(9).fillColor(MUTED);
  for (const line of contact) pdf.text(line, { width: width / 2, align: 'right' });
  top = Math.max(pdf.y, org.logo ? top + 64 : top) + 20;

  // Title block.
  pdf
    .font('bold')
    .fontSize(20)
    .fillColor(INK)
    .text(t(lang, 'documents:heading', { kind, number: doc.number }), left, top);
  if (doc.kind !== 'invoice') pdf.font('body').fontSize(11).fillColor(MUTED).text(translate(lang, doc.title));
  const dateText = doc.date instanceof Date ? formatDateTime(doc.date, org.time_zone, locale) : formatDate(doc.date, org.time_zone, locale);
  pdf.moveDown(0.5).font('body').fontSize(10).fillColor(INK);
  pdf.text(t(lang, doc.kind === 'receipt' ? 'documents:paid' : 'documents:date', { date: dateText }));
  if (doc.dueDate) {
    const due = formatDate(doc.dueDate, org.time_zone, locale);
    pdf.text(t(lang, doc.kind === 'invoice' ? 'documents:due' : 'documents:validUntil', { date: due }));
  }

  pdf.moveDown();
  pdf
    .font('bold')
    .fontSize(10)
    .text(t(lang, doc.kind === 'receipt' ? 'documents:receivedFrom' : 'documents:preparedFor'));
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
  pdf.text(t(lang, 'documents:item'), cols.service + 4, y, { width: colWidth.service });
  pdf.text(t(lang, 'documents:qty'), cols.qty, y, { width: colWidth.qty, align: 'right' });
  pdf.text(t(lang, 'documents:unitPrice'), cols.unit, y, { width: colWidth.unit, align: 'right' });
  pdf.text(t(lang, 'documents:amount'), cols.amount, y, { width: colWidth.amount - 4, align: 'right' });
  y += 24;
  for (const line of doc.lines) {
    if (y > pdf.page.height - pdf.page.margins.bottom - 60) {
      pdf.addPage();
      y = pdf.page.margins.top;
    }
    pdf.font('body').fontSize(10).fillColor(INK);
    pdf.text(translate(lang, line.service), cols.service + 4, y, { width: colWidth.service });
    let rowEnd = pdf.y;
    if (line.description || line.note) {
      pdf
        .fontSize(8)
        .fillColor(MUTED)
        .text(describe(lang, line), cols.service + 4, rowEnd, { width: colWidth.service });
      rowEnd = pdf.y;
    }
    pdf.fontSize(10).fillColor(INK);
    pdf.text(formatQuantity(line.quantity, locale), cols.qty, y, { width: colWidth.qty, align: 'right' });
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
    totals.push([t(lang, 'documents:subtotal'), money(doc.subtotalCents), false]);
    totals.push([t(lang, 'documents:tax', { rate: formatTaxRate(doc.taxRateBps, locale) }), money(doc.taxCents), false]);
  }
  const totalKey = doc.receipt?.refund ? 'documents:refunded' : doc.kind === 'receipt' ? 'documents:amountPaid' : 'documents:total';
  totals.push([t(lang, totalKey), money(doc.totalCents), true]);
  if (doc.paidCents !== null) {
    totals.push([t(lang, 'documents:paidLabel'), money(doc.paidCents), false]);
    totals.push([t(lang, 'documents:balanceDue'), money(doc.totalCents - doc.paidCents), true]);
  }
  y += 6;
  for (const [label, value, strong] of totals) {
    pdf
      .font(strong ? 'bold' : 'body')
      .fontSize(strong ? 11 : 10)
      .fillColor(INK);
    // A large sum ("$121,925,923.34") takes the room it needs, leftward, rather than wrapping its cents.
    const valueWidth = Math.max(colWidth.amount - 4, pdf.widthOfString(value) + 1);
    const valueX = left + width - 4 - valueWidth;
    pdf.text(label, valueX - width * 0.31, y, { width: width * 0.3 - 4, align: 'right' });
    pdf.text(value, valueX, y, { width: valueWidth, align: 'right' });
    y = pdf.y + 4;
  }

  if (doc.signature)
    drawSignaturePage(pdf, doc.signature, { ...org, locale, lang }, { number: doc.number, totalText: money(doc.totalCents) });
  pdf.end();
  return done;
}
