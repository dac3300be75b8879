// The last page of a signed proposal's PDF: the signature (drawn image or typed
// name) and the evidence kept with it — when, from which IP and browser, and the
// SHA-256 of the exact content approved, which anyone can recompute.
import { formatDateTime } from '../lib/dates.js';
import type { SignaturePage } from './signed.js';

const INK = '#1f2933';
const MUTED = '#52606d';

export function drawSignaturePage(
  pdf: PDFKit.PDFDocument,
  signature: SignaturePage,
  org: { time_zone: string; locale: string },
  doc: { number: number; totalText: string },
): void {
  pdf.addPage();
  const left = pdf.page.margins.left;
  const width = pdf.page.width - left - pdf.page.margins.right;
  pdf.font('bold').fontSize(18).fillColor(INK).text('Signature', left, pdf.page.margins.top);
  pdf
    .moveDown(0.5)
    .font('body')
    .fontSize(10)
    .fillColor(MUTED)
    .text(`Proposal #${doc.number}, version ${signature.version}, was approved and signed in the customer portal for ${doc.totalText}.`, {
      width,
    });
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
  const rows: [string, string][] = [
    ['Signed by', signature.signerName],
    ['Signature', signature.method === 'drawn' ? 'Drawn by hand, with the name typed' : 'Typed name'],
    ['Signed at', formatDateTime(signature.signedAt, org.time_zone, org.locale) + ` (${signature.signedAt.toISOString()})`],
    ['IP address', signature.ip ?? 'Not recorded'],
    ['Browser', signature.userAgent ?? 'Not recorded'],
    ['Content SHA-256', signature.contentSha256],
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
  pdf
    .moveDown(1.5)
    .font('body')
    .fontSize(8)
    .fillColor(MUTED)
    .text(
      'The SHA-256 is taken over the proposal exactly as it was approved (its number, wording, prices and every line). The pages before this one show that content; later changes to the proposal do not alter it.',
      left,
      pdf.y,
      { width },
    );
}
