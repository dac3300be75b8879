// Builds the Express app from its parts; src/server.ts listens.
import express, { type Express, type RequestHandler } from 'express';
import { config } from './config.js';
import { publicDir } from './paths.js';
import { httpLogger } from './logger.js';
import { createSessionMiddleware } from './auth/session.js';
import { authRouter } from './auth/routes.js';
import { localCheckoutRouter } from './dev/local-stripe.js';
import { teamRouter } from './auth/team-routes.js';
import { csrfProtection, exposeCsrfToken, securityHeaders } from './http/security.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { healthRouter } from './http/health.js';
import { rejectUnsafeInput } from './http/validate.js';
import { setupViews } from './http/views.js';
import { setNavCounter } from './http/page.js';
import { adminRouter as dashboardAdmin } from './dashboard/routes.js';
import { adminRouter as leadsAdmin } from './leads/routes.js';
import { adminRouter as proposalsAdmin } from './proposals/routes.js';
import { adminRouter as jobsAdmin } from './jobs/routes.js';
import { adminRouter as invoicesAdmin } from './invoices/routes.js';
import { adminRouter as paymentsAdmin } from './payments/routes.js';
import { connectAdminRouter } from './payments/stripe/connect-routes.js';
import { webhookRouter as stripeConnectWebhooks } from './payments/stripe/webhooks.js';
import { adminRouter as portalLinksAdmin } from './portal-links/routes.js';
import { portalAssets } from './portal/assets.js';
import { mountPortalViews, portalMissLimiter, portalRouter } from './portal/routes.js';
import { adminRouter as documentsAdmin, createDocumentsPortalRouter } from './documents/routes.js';
import { checkoutReturnRouter } from './portal/return-routes.js';
import { portalHeaders } from './portal/responses.js';
import { adminRouter as messagingAdmin } from './messaging/routes.js';
import { adminRouter as followupsAdmin } from './messaging/followup-routes.js';
import { webhookRouter as twilioWebhooks } from './messaging/webhooks.js';
import { setAttachmentSource } from './messaging/deliver.js';
import { receiptAttachments } from './documents/receipt-attachment.js';
import { adminRouter as billingAdmin } from './billing/routes.js';
import { webhookRouter as stripePlatformWebhooks } from './billing/webhooks.js';
import { browserLanguage } from './i18n/index.js';
import { adminRouter as orgsAdmin, publicRouter as orgsPublic } from './orgs/routes.js';
import { adminRouter as requestsAdmin } from './requests/routes.js';
import { countNewWorkRequests } from './requests/queries.js';

/** Every router that serves logged-in contractors, in mount order. */
/** PDFs and calendar files under /p: misses share the portal's own failed-lookup count. */
export const documentsPortalRouter = createDocumentsPortalRouter(portalMissLimiter);

export const ADMIN_ROUTERS = [
  leadsAdmin,
  dashboardAdmin,
  proposalsAdmin,
  jobsAdmin,
  invoicesAdmin,
  paymentsAdmin,
  documentsAdmin,
  connectAdminRouter,
  portalLinksAdmin,
  messagingAdmin,
  followupsAdmin,
  requestsAdmin,
  billingAdmin,
  orgsAdmin,
  teamRouter,
];

/** Where customers, who have no account, are answered: the portal and the way back from Checkout. */
// i18n-exempt: paths
const CUSTOMER_PATHS = ['/p', '/return'];

/** Multipart routes that run csrfProtection themselves, after multer. */
const SELF_CHECKED_UPLOADS = new Set(['POST /settings/branding/logo']);

/** Dashboard and account pages show customers' data and portal links (credentials): never kept by a browser or proxy. */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store'); // i18n-exempt: a header value
  next();
};

/**
 * The path being shown, so the navigation can mark its section as current, and
 * the language of pages nobody has chosen one for yet (sign-in, errors): the
 * browser's. The dashboard and the portal replace it with their own.
 */
const exposeRequestPath: RequestHandler = (req, res, next) => {
  res.locals.requestPath = req.path;
  res.locals.lang = browserLanguage(req);
  next();
};

const moveFlashToLocals: RequestHandler = (req, res, next) => {
  if (req.session.flash) {
    res.locals.flash = req.session.flash;
    delete req.session.flash;
  }
  next();
};

export interface BuiltApp {
  app: Express;
  /** Closes what the app opened (the session store's pool). */
  close: () => Promise<void>;
}

export function createApp(): BuiltApp {
  // Receipt emails carry their PDF (this process sends in development without Redis).
  setAttachmentSource(receiptAttachments);
  // The navigation's count of new requests from the portal.
  setNavCounter(async (db) => ({ requests: await countNewWorkRequests(db) }));
  const app = express();
  app.disable('x-powered-by'); // i18n-exempt: an Express setting
  // Every page is no-store (the portal, the dashboard): an ETag would only cost a
  // hash of each page and never be used. Static files keep theirs (express.static).
  app.set('etag', false);
  if (config.trustProxy) {
    const hops = Number(config.trustProxy);
    app.set('trust proxy', Number.isInteger(hops) ? hops : config.trustProxy === 'true' ? true : config.trustProxy); // i18n-exempt: an Express setting
  }
  setupViews(app);

  // What every request starts with, as one router step (issue 16: each step is a pass of
  // its own): its log line, then its security headers and their style nonce.
  app.use((req, res, next) => httpLogger(req, res, (err?: unknown) => (err ? next(err) : securityHeaders(req, res, next))));
  // The portal's pages first: what a customer opens passes nothing else on its way (issue 16).
  // Anything under /p they don't show goes on to the portal's forms, after the body parsers.
  mountPortalViews(app);
  app.use('/static', express.static(publicDir, { maxAge: config.isProduction ? '1d' : 0, index: false }));
  // Inter, self-hosted from its npm package, for the dashboard and the portal.
  app.use(portalAssets);
  // i18n-exempt: a path, and a robots.txt for crawlers
  app.get('/robots.txt', (_req, res) => {
    res.type('text/plain').send('User-agent: *\nDisallow: /p/\n'); // i18n-exempt: a path and a robots.txt for crawlers
  });
  app.use(healthRouter);

  // Webhooks come first, before any body parser: their signatures cover the
  // exact bytes sent, so each router parses its own raw body.
  app.use('/webhooks/stripe/platform', stripePlatformWebhooks);
  app.use('/webhooks/stripe', stripeConnectWebhooks);
  app.use('/webhooks/twilio', twilioWebhooks);

  // Every customer-facing answer carries the portal's headers, a refused one too: the body
  // parsers and the input check below answer a bad form or query before the portal's
  // routers run (the views set them in their own first step).
  app.use(CUSTOMER_PATHS, portalHeaders);
  app.use(express.urlencoded({ extended: true, limit: '200kb', parameterLimit: 2000 }));
  app.use(express.json({ limit: '200kb' }));
  app.use(rejectUnsafeInput);

  // The customer portal has no session: its token is its credential (and a
  // one-time code on the way back from Stripe Checkout).
  // Document downloads first: the portal router ends with its catch-all 404.
  app.use('/p', documentsPortalRouter, portalRouter);
  app.use('/return', checkoutReturnRouter);
  app.use(orgsPublic);

  const sessions = createSessionMiddleware();
  app.use(noStore, exposeRequestPath, sessions.middleware, moveFlashToLocals, exposeCsrfToken, (req, res, next) => {
    // An upload route parses its multipart body first and then checks the token
    // inside it itself; every other request, multipart or not, is checked here.
    if (req.is('multipart/form-data') && SELF_CHECKED_UPLOADS.has(`${req.method} ${req.path}`)) return next(); // i18n-exempt: a content type
    csrfProtection(req, res, next);
  });
  // Development's local test checkout (Pay without Stripe keys); not even mounted in production.
  if (!config.isProduction) app.use(localCheckoutRouter);
  app.use(authRouter);
  for (const router of ADMIN_ROUTERS) app.use(router);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return { app, close: sessions.close };
}
