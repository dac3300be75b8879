// Admin page handlers: one withOrg transaction per request, committed before
// the response goes out, rolled back when the result is an error.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor } from '../db/audit.js';
import type { OrgRow, UserRole } from '../db/rows.js';
import { withOrg, type Db } from '../db/tenancy.js';
import { languageOf, t, type Language } from '../i18n/index.js';
import { forbidden, FormError } from '../lib/errors.js';
import { planFor, type Plan } from '../plans.js';

interface CurrentUser {
  id: string;
  name: string;
  email: string;
  role: UserRole;
}

export interface PageContext {
  req: Request;
  res: Response;
  db: Db;
  user: CurrentUser;
  org: OrgRow;
  plan: Plan;
  actor: Actor;
}

export type PageResult = (
  | { render: string; locals?: Record<string, unknown>; status?: number }
  | { redirect: string; flash?: string; flashType?: 'success' | 'error' | 'info' }
  | { json: unknown; status?: number }
  | {
      file: {
        body: Buffer | string;
        contentType: string;
        filename: string;
        /** Shown in the page (an image), not downloaded. */ inline?: boolean;
      };
    }
) & {
  /**
   * Runs after the transaction commits and before the response is sent, e.g.
   * enqueueing a job for a row the handler wrote (the worker must see it).
   */
  afterCommit?: () => Promise<void>;
};

type PageHandler = (ctx: PageContext) => PageResult | Promise<PageResult>;

/** Thrown inside the transaction to roll it back while keeping the page's answer. */
class Rollback extends Error {
  constructor(public readonly result: PageResult) {
    // i18n-exempt: a programmer's note, never shown
    super('rolled back: the page answered with an error status');
  }
}

export interface PageOptions {
  /** Only owners may use this route (billing, branding, team). */
  ownerOnly?: boolean;
}

/** Counts shown in the navigation (e.g. new requests), read in the page's transaction; set by app.ts. */
type NavCounter = (db: Db) => Promise<Record<string, number>>;
let navCounter: NavCounter | null = null;

/** Plugs in what the navigation counts (features sit above this layer, so they are handed in). */
export function setNavCounter(counter: NavCounter | null): void {
  navCounter = counter;
}

/**
 * A dashboard page's own path as its forms send it back (`_back`, see views/partials/csrf.hbs): a path on
 * this site only, never '//host' or '/\\host' (which a browser reads as another site); null otherwise.
 */
export function pagePath(value: unknown): string | null {
  return typeof value === 'string' && value.length <= 2000 && /^\/(?![/\\])[^\s\\]*$/.test(value) ? value : null;
}

/** Wraps an admin handler: requires a login, scopes every query to the user's org. */
export function orgPage(handler: PageHandler, options: PageOptions = {}): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    // The page its forms come back from: this one for a GET, and for a form shown again (a 422) the one it
    // was first on, which the form names.
    res.locals.pagePath = pagePath(req.method === 'GET' ? req.originalUrl : (req.body as { _back?: unknown } | undefined)?._back);
    const { userId, orgId } = req.session;
    if (!userId || !orgId) {
      // i18n-exempt: a path
      if (req.method === 'GET') return res.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
      return res.status(401).render('errors/401', { layout: 'admin', title: t(res.locals.lang as Language, 'http:title.pleaseLogIn') });
    }
    let result: PageResult | null;
    let ctxOrg: OrgRow | undefined;
    let ctxUser: CurrentUser | undefined;
    try {
      result = await withOrg(orgId, async (db) => {
        // i18n-exempt: SQL aliases
        const row = await db('users as u')
          .join('organizations as o', 'o.id', 'u.org_id') // i18n-exempt: SQL aliases
          .where('u.id', userId)
          .first<(OrgRow & { user_name: string; user_email: string; user_role: 'owner' | 'staff' }) | undefined>(
            'o.*',
            // i18n-exempt: SQL aliases
            'u.name as user_name',
            'u.email as user_email', // i18n-exempt: SQL aliases
            'u.role as user_role', // i18n-exempt: SQL aliases
          );
        if (!row) return null;
        const { user_name, user_email, user_role, ...org } = row;
        ctxOrg = org;
        ctxUser = { id: userId, name: user_name, email: user_email, role: user_role };
        // Handlers write titles and messages in the dashboard's language: the org's.
        res.locals.lang = languageOf(org.locale);
        if (options.ownerOnly && user_role !== 'owner') throw forbidden('http:error.ownerOnly');
        const outcome = await handler({
          req,
          res,
          db,
          user: ctxUser,
          org,
          plan: planFor(org.plan),
          actor: { type: 'user', userId, label: user_email, ip: req.ip },
        });
        if ('status' in outcome && outcome.status && outcome.status >= 400) throw new Rollback(outcome);
        // Only a rendered page shows the navigation.
        if ('render' in outcome && navCounter) res.locals.navCounts = await navCounter(db);
        return outcome;
      });
    } catch (err) {
      if (err instanceof Rollback) result = err.result;
      else {
        if (ctxOrg) rememberLanguage(req, res, languageOf(ctxOrg.locale));
        // Nothing this request wrote was kept: the error handler may send the user back to the form's page.
        res.locals.rolledBack = true;
        return next(err);
      }
    }
    if (result === null) {
      // The user was removed from the org since logging in.
      return req.session.destroy(() => res.redirect('/login'));
    }
    if (result.afterCommit) {
      try {
        await result.afterCommit();
      } catch (err) {
        return next(err);
      }
    }
    res.locals.user = ctxUser;
    res.locals.org = ctxOrg;
    // The dashboard reads in the language of the org's locale (es-MX → Spanish).
    rememberLanguage(req, res, languageOf(ctxOrg?.locale));
    send(req, res, next, result);
  };
}

/**
 * The dashboard's language for this page, kept in the session too, so that a
 * refusal before any page runs (an expired form, a rate limit) and the error
 * pages speak it as well. The session is written only when it changes.
 */
function rememberLanguage(req: Request, res: Response, lang: Language): void {
  res.locals.lang = lang;
  if (req.session.lang !== lang) req.session.lang = lang;
}

function send(req: Request, res: Response, next: NextFunction, result: PageResult): void {
  if ('redirect' in result) {
    // A flash is a message, worded when the next page shows it (the layout translates it): that page's
    // language may not be this one's, when what was saved is the language.
    if (result.flash) req.session.flash = { type: result.flashType ?? 'success', message: result.flash };
    saveSession(req).then(() => res.redirect(303, result.redirect), next);
  } else if ('file' in result) {
    // i18n-exempt: a header value
    if (result.file.inline) res.set('Content-Disposition', `inline; filename="${result.file.filename}"`);
    else res.attachment(result.file.filename);
    res.type(result.file.contentType).send(result.file.body);
  } else if ('json' in result) {
    res.status(result.status ?? 200).json(result.json);
  } else {
    res.status(result.status ?? 200).render(result.render, result.locals);
  }
}

/**
 * Writes the session to its store now. Left to itself, express-session saves a changed session as the
 * response ends, after it has sent the headers and all of the body but its last byte; a client that
 * follows a redirect on the headers alone (superagent does, and so may a browser) can then ask for the
 * next page before the new session is written, and lose its flash or its log-in. So a redirect that
 * changed the session waits for this first.
 */
export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.save((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())),
  );
}

/** The re-rendered form after a FormError: 422, the user's input kept, fields marked. */
export function formFailure(view: string, err: unknown, locals: Record<string, unknown> = {}): PageResult {
  if (!(err instanceof FormError)) throw err;
  return { render: view, status: 422, locals: { ...locals, errors: err.fields, formError: err.message } };
}
