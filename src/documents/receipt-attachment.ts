// The receipt PDF attached to a receipt email. The send worker asks through
// messaging's setAttachmentSource() (documents sit above messaging), which the
// sending processes wire up at start.
import { withOrg } from '../db/tenancy.js';
import type { ReceiptRef } from '../messaging/deliver.js';
import { logger } from '../logger.js';
import { documentOrg, loadDocument } from './queries.js';
import { documentFilename, renderDocumentPdf } from './pdf.js';

export interface PdfAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

/** The receipt PDF for a receipt delivery (the payment it is for); none when the payment is gone. */
export async function receiptAttachments(orgId: string, { deliveryId, paymentId }: ReceiptRef): Promise<PdfAttachment[]> {
  const found = await withOrg(orgId, async (db) => {
    const doc = await loadDocument(db, 'receipt', paymentId);
    return doc ? { org: await documentOrg(db), doc } : null;
  });
  if (!found) return [];
  try {
    const content = await renderDocumentPdf(found.org, found.doc);
    return [{ filename: documentFilename(found.doc), content, contentType: 'application/pdf' }];
  } catch (err) {
    // The receipt text still says what was paid; a PDF problem must not hold it back.
    logger.warn({ deliveryId, err: (err as Error).message }, 'could not render the receipt PDF; sending the receipt without it');
    return [];
  }
}
