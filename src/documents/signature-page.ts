// The last page of a signed proposal's PDF: the signature (drawn image or typed
// name) and the evidence kept with it — when, from which IP and browser, and the
// SHA-256 of the exact content approved, which anyone can recompute.
import { t, type Language } from '../i18n/index.js';
import { formatDateTime } from '../lib/dates.js';
import type { SignaturePage } from './signed.js';

const INK = '#1f2933';
const MUTED = '#52606d';

export function drawSignaturePage(
  pdf: PDFKit.PDFDocument,
  signature: SignaturePage,
  org: { time_zone: string; locale: string; lang: Language },
  doc: { number: number | string; totalText: string },
): void {
  pdf.addPage();
  const left = pdf.page.margins.left;
  const width = pdf.page.width - left - pdf.page.margins.right;
  const { lang } = org;
  pdf.font('bold').fontSize(18).fillColor(INK).text(t(lang, 'documents:signature.heading'), left, pdf.page.margins.top);
  pdf
    .moveDown(0.5)
    .font('body')
    .fontSize(10)
    .fillColor(MUTED)
    .text(t(lang, 'documents:signature.intro', { number: doc.number, version: signature.version, total: doc.totalText }), { width });
  pdf.moveDown();
  const boxTop = pdf.y;
  pdf.rect(left, boxTop, width, 110).lineWidth(0.5).strokeColor('#9aa5b1').stroke();
  if (signature.imagePng) {
    pdf.image(signature.imagePng, left + 10, boxTop + 5, { fit: [width - 20, 100], align: 'center', valign: 'center' });
  } else {
    pdf
      .font('bold')
      .fontSize(22)
      .fillColor(INK)
      .text(signature.signerName, left + 10, boxTop + 40, { width: width - 20, align: 'center' });
  }
  pdf.y = boxTop + 120;
  const notRecorded = t(lang, 'documents:signature.notRecorded');
  const rows: [string, string][] = [
    [t(lang, 'documents:signature.signedBy'), signature.signerName],
    [
      t(lang, 'documents:signature.signature'),
      t(lang, signature.method === 'drawn' ? 'documents:signature.drawn' : 'documents:signature.typed'),
    ],
    [
      t(lang, 'documents:signature.signedAt'),
      `${formatDateTime(signature.signedAt, org.time_zone, org.locale)} (${signature.signedAt.toISOString()})`,
    ],
    [t(lang, 'documents:signature.ip'), signature.ip ?? notRecorded],
    [t(lang, 'documents:signature.browser'), signature.userAgent ?? notRecorded],
    [t(lang, 'documents:signature.sha'), signature.contentSha256],
  ];
  for (const [label, value] of rows) {
    const y = pdf.y + 6;
    pdf.font('bold').fontSize(9).fillColor(MUTED).text(label, left, y, { width: 110 });
    pdf
      .font('body')
      .fontSize(9)
      .fillColor(INK)
      .text(value, left + 120, y, { width: width - 120 });
  }
  pdf.moveDown(1.5).font('body').fontSize(8).fillColor(MUTED).text(t(lang, 'documents:signature.explanation'), left, pdf.y, { width });
}
