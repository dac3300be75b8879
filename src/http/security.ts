// Security middleware: headers, CSP nonces, CSRF tokens and rate limits.
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { csrfSync } from 'csrf-sync';
import { rateLimit, type Options as RateLimitOptions } from 'express-rate-limit';
import { config } from '../config.js';
import { getStoreRedis } from '../queue/redis.js';
import { HttpError } from '../lib/errors.js';
import { FailoverRateLimitStore } from './rate-limit-store.js';

// Nonces are cut from a pool of system randomness filled 4 KiB at a time (as
// Node's randomUUID() does), not asked for 16 bytes on every request.
const NONCE_BYTES = 16;
const noncePool = Buffer.alloc(4096);
let noncePoolOffset = noncePool.length;

/** A fresh 128-bit nonce (base64), never handed out twice. */
export function freshNonce(): string {
  if (noncePoolOffset + NONCE_BYTES > noncePool.length) {
    crypto.randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.toString('base64', noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}

/** Helmet's settings: the headers every response carries (exported for the test that replays them). */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"], // no inline script, ever
      styleSrc: ["'self'", (_req, res) => `'nonce-${(res as Response).locals.cspNonce as string}'`],
      imgSrc: ["'self'", 'data:'],
      // Forms that redirect on to Stripe (Checkout, Connect onboarding, billing portal) need these.
      // i18n-exempt: addresses, not words
      formAction: ["'self'", 'https://checkout.stripe.com', 'https://connect.stripe.com', 'https://billing.stripe.com'],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: config.isProduction ? [] : null,
    },
  },
  strictTransportSecurity: config.isProduction,
};
const helmetHeaders = helmet(HELMET_OPTIONS);

/** What helmet's headers are worked out with in place of a response's nonce: random per process, so no header can hold it by chance. */
const NONCE_PLACEHOLDER = crypto.randomBytes(16).toString('hex');
/** The style source the placeholder nonce makes in the policy. */
const NONCE_SOURCE_PLACEHOLDER = `'nonce-${NONCE_PLACEHOLDER}'`;

/**
 * Helmet's headers as it sets them, worked out once with a placeholder nonce:
 * each header's value cut where the nonce's style source goes, and the headers
 * it removes. They are the same for every response but the nonce, and running
 * helmet's thirteen middlewares (the policy checked and joined again) on each
 * portal view was a visible share of it (issue 16).
 */
function helmetOutput(): { set: { name: string; parts: string[] }[]; removed: string[] } {
  const set: { name: string; parts: string[] }[] = [];
  const removed: string[] = [];
  const recorder = {
    locals: { cspNonce: NONCE_PLACEHOLDER },
    setHeader: (name: string, value: unknown) => set.push({ name, parts: String(value).split(NONCE_SOURCE_PLACEHOLDER) }),
    removeHeader: (name: string) => removed.push(name),
  };
  const outcome: { failure?: Error } = {};
  helmetHeaders({} as Request, recorder as unknown as Response, (err?: unknown) => {
    // i18n-exempt: a startup error for developers
    if (err) outcome.failure = err instanceof Error ? err : new Error('helmet refused its settings');
  });
  if (outcome.failure) throw outcome.failure;
  return { set, removed };
}

const helmetSet = helmetOutput();
// A header names the nonce at most once (policyCut below): one without it is its one part, the same for every response.
const fixedHeaders = helmetSet.set.filter(({ parts }) => parts.length === 1).map(({ name, parts }) => [name, parts[0]] as const);
const noncedHeaders = helmetSet.set.filter(({ parts }) => parts.length > 1);

/**
 * Helmet's security headers, their CSP naming a fresh style nonce for this response
 * (`res.locals.cspNonce`: style elements that need one use {{cspNonce}}).
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  const nonce = freshNonce();
  res.locals.cspNonce = nonce;
  const source = `'nonce-${nonce}'`;
  for (const [name, value] of fixedHeaders) res.setHeader(name, value);
  for (const { name, parts } of noncedHeaders) res.setHeader(name, parts.join(source));
  for (const name of helmetSet.removed) res.removeHeader(name);
  next();
};

/** The policy cut where its one style nonce goes. */
function policyCut(): string[] {
  // i18n-exempt: an HTTP header name
  const parts = helmetSet.set.find(({ name }) => name.toLowerCase() === 'content-security-policy')?.parts;
  if (parts?.length !== 2) throw new Error('security: the CSP must name the style nonce exactly once'); // i18n-exempt: a startup error for developers
  return parts;
}
const policyParts = policyCut();

/**
 * The Content-Security-Policy that allows a page's inline styles by their hashes
 * (`'sha256-…'` sources) instead of a nonce: for a page whose bytes are sent
 * again as they are (the portal's kept pages).
 */
export function policyAllowingStyles(sources: readonly string[]): string {
  const source = sources.join(' ');
  // No source: the space that would have stood before it goes too, leaving the directive's others.
  return source ? policyParts.join(source) : policyParts[0].trimEnd() + policyParts[1];
}

const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = typeof body?._csrf === 'string' ? body._csrf : undefined;
    return fromBody ?? req.header('x-csrf-token'); // i18n-exempt: a header's name
  },
});

/** Rejects state-changing requests without the session's CSRF token (403). */
export const csrfProtection: RequestHandler = (req, res, next) => {
  csrf.csrfSynchronisedProtection(req, res, (err?: unknown) => {
    if (err) return next(new HttpError(403, 'csrf', 'http:error.csrfExpired'));
    next();
  });
};

/** How long a session started only to carry a form's CSRF token lasts; logging in starts a new one. */
const FORM_SESSION_MS = 2 * 60 * 60 * 1000;

/**
 * Lets a page ask for the session's CSRF token (the `csrfToken` view helper).
 * Only a page that renders a form asks, so only such a page stores a session:
 * a 404, a redirect or a health check from a stranger writes nothing.
 */
export const exposeCsrfToken: RequestHandler = (req, res, next) => {
  res.locals.issueCsrfToken = (): string => {
    if (!req.session.userId) req.session.cookie.maxAge = FORM_SESSION_MS;
    return csrf.generateToken(req);
  };
  next();
};

type LimiterOptions = Pick<RateLimitOptions, 'windowMs' | 'limit'> &
  Partial<Pick<RateLimitOptions, 'keyGenerator' | 'skipSuccessfulRequests' | 'requestWasSuccessful'>> & {
    /** Redis key prefix; distinct per limiter so counters don't mix. */
    name: string;
    /** What the 429 page says: a message (a catalogue key, or msg()). */
    message?: string;
  };

/**
 * A rate limiter whose counters live in Redis when it is configured, so the
 * limit holds across web processes, falling back to this process's memory
 * while Redis is away; in memory only otherwise (one process, dev).
 */
export function createRateLimiter(options: LimiterOptions): RequestHandler {
  const { name, message, ...rest } = options;
  return rateLimit({
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    ...rest,
    store: getStoreRedis() ? new FailoverRateLimitStore(`${config.queuePrefix}:rl:${name}:`) : undefined,
    handler: (_req, _res, next) => {
      next(new HttpError(429, 'rate_limited', message ?? 'http:error.rateLimited'));
    },
  });
}
