// Downloads: a PDF of a proposal, invoice or payment receipt, and an upcoming
// visit's calendar file. From the portal under its token rules (the one plain 404
// for unknown or revoked tokens and for another customer's documents, misses
// counted, never stored by a browser); from the dashboard scoped to the org by RLS.
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { RateLimitRequestHandler } from 'express-rate-limit';
import { portalLinkByTokenHash } from '../db/lookups.js';
import { withOrg, type Db } from '../db/tenancy.js';
import { orgPage, type PageResult } from '../http/page.js';
import { acceptedLanguage, type Language } from '../i18n/index.js';
import { notFound } from '../lib/errors.js';
import { routeId, uuidOrNull } from '../lib/ids.js';
import { hashPortalToken, isWellFormedToken } from '../portal-links/token.js';
import { renderNotFound } from '../portal/responses.js';
import { visitCalendar, visitFilename } from './calendar.js';
import { documentFilename, renderDocumentPdf } from './pdf.js';
import { documentOrg, latestDepositPaymentId, loadDocument, loadUpcomingVisit, type DocumentKind } from './queries.js';

interface Download {
  body: Buffer | string;
  contentType: string;
  filename: string;
}

const PDF_ROUTES: { segment: string; kind: DocumentKind }[] = [
  { segment: 'proposals', kind: 'proposal' },
  { segment: 'invoices', kind: 'invoice' },
  { segment: 'payments', kind: 'receipt' },
];

async function documentPdf(
  db: Db,
  kind: DocumentKind,
  id: string,
  leadId?: string,
  browser: Language | null = null,
): Promise<Download | null> {
  const doc = await loadDocument(db, kind, id, leadId);
  if (!doc) return null;
  const body = await renderDocumentPdf(await documentOrg(db), doc, browser);
  return { body, contentType: 'application/pdf', filename: documentFilename(doc) };
}

/** The receipt of a proposal's deposit (its latest deposit payment), or null when none was paid. */
async function depositReceiptPdf(db: Db, proposalId: string, leadId?: string, browser: Language | null = null): Promise<Download | null> {
  const paymentId = await latestDepositPaymentId(db, proposalId, leadId);
  return paymentId ? documentPdf(db, 'receipt', paymentId, leadId, browser) : null;
}

async function visitIcs(db: Db, jobId: string, leadId?: string): Promise<Download | null> {
  const visit = await loadUpcomingVisit(db, jobId, leadId);
  if (!visit) return null;
  // i18n-exempt: HTTP header names and values
  return { body: visitCalendar(await documentOrg(db), visit), contentType: 'text/calendar; charset=utf-8', filename: visitFilename(visit) };
}

/** Pass the portal's own miss limiter, so misses here and on its pages share one count. */
export function createDocumentsPortalRouter(missLimiter: RateLimitRequestHandler): Router {
  // The portal's headers are set for all of /p in src/app.ts (CUSTOMER_PATHS).
  const router = Router();

  function serve(build: (db: Db, id: string, leadId: string, browser: Language | null) => Promise<Download | null>) {
    return async (req: Request, res: Response, next: NextFunction) => {
      const miss = () => missLimiter(req, res, (err?: unknown) => (err ? next(err) : renderNotFound(res)));
      const token = String(req.params.token);
      const id = uuidOrNull(req.params.id);
      if (!isWellFormedToken(token) || !id) return miss();
      const link = await portalLinkByTokenHash(hashPortalToken(token));
      if (!link) return miss();
      // A customer on "automatic" language gets the PDF in the language their page is in.
      const file = await withOrg(link.org_id, (db) => build(db, id, link.lead_id, acceptedLanguage(req)));
      if (!file) return miss();
      res.attachment(file.filename).type(file.contentType).send(file.body);
    };
  }

  for (const { segment, kind } of PDF_ROUTES) {
    router.get(
      `/:token/${segment}/:id/pdf`,
      serve((db, id, leadId, browser) => documentPdf(db, kind, id, leadId, browser)),
    );
  }
  // i18n-exempt: a route path
  router.get('/:token/proposals/:id/deposit-receipt/pdf', serve(depositReceiptPdf));
  router.get('/:token/visits/:id/ics', serve(visitIcs));
  return router;
}

export const adminRouter = Router();

function adminDownload(file: Download | null): PageResult {
  if (!file) throw notFound();
  return { file };
}

for (const { segment, kind } of PDF_ROUTES) {
  adminRouter.get(
    `/${segment}/:id/pdf`,
    orgPage(async ({ req, db }) => adminDownload(await documentPdf(db, kind, routeId(req.params)))),
  );
}
adminRouter.get(
  '/jobs/:id/ics',
  orgPage(async ({ req, db }) => adminDownload(await visitIcs(db, routeId(req.params)))),
);
