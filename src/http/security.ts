// Security middleware: headers, CSP nonces, CSRF tokens and rate limits.
import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
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

/** A fresh 128-bit nonce per response; style elements that need one use {{cspNonce}}. */
export function cspNonce(_req: Request, res: Response, next: NextFunction): void {
  if (noncePoolOffset + NONCE_BYTES > noncePool.length) {
    crypto.randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  res.locals.cspNonce = noncePool.toString('base64', noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  next();
}

export const securityHeaders: RequestHandler = helmet({
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
});

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
