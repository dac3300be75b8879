import { pino, type Logger } from 'pino';
import type { Request, RequestHandler } from 'express';
import { config } from './config.js';

// Portal tokens are bearer credentials: no log line may hold one.
const PORTAL_PATH = /\/p\/[A-Za-z0-9_-]+/g;
// Invitation, password-reset, sign-up and Checkout return links carry one-time tokens the same way.
const ACCOUNT_LINK_PATH = /\/(invite|reset-password|signup|return)\/[A-Za-z0-9_-]+/g;

function redactPortalTokens(text: string): string {
  return text.replace(PORTAL_PATH, '/p/[token]').replace(ACCOUNT_LINK_PATH, '/$1/[token]');
}

export const logger = pino({
  level: config.logLevel,
  base: { service: 'porchlight' },
  redact: {
    paths: [
      'req.headers.cookie', // i18n-exempt: log settings
      'req.headers.authorization', // i18n-exempt: log settings
      'req.headers["stripe-signature"]', // i18n-exempt: log settings
      'req.headers["x-twilio-signature"]', // i18n-exempt: log settings
      'res.headers["set-cookie"]', // i18n-exempt: log settings
      '*.password',
      '*.token',
    ],
    censor: '[redacted]',
  },
  // Development: one short readable line per entry (the request line below), not kilobytes of JSON.
  ...(config.isDevelopment
    ? {
        transport: {
          target: 'pino-pretty', // i18n-exempt: log settings
          options: { singleLine: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service,req,res,responseTime', hideObject: false }, // i18n-exempt: log settings
        },
      }
    : {}),
});

/** What a request's log line says about it: method and path (tokens redacted), never headers or cookies. */
function requestFields(req: Request) {
  // originalUrl: inside a mounted router (/p, /return) req.url has lost the prefix the redaction looks for.
  return { method: req.method, url: redactPortalTokens(req.originalUrl) };
}

/** Requests the log leaves out: health checks (a platform polls them) and, while developing, static files. */
function isQuiet(url: string): boolean {
  return url === '/healthz' || url === '/readyz' || (config.isDevelopment && /^\/(static|vendor)\//.test(url));
}

/**
 * The request lines' logger: the same output without the redaction pass. A line
 * holds only the fields httpLogger builds (numbers, the method, the path with its
 * tokens already taken out), none of which a redaction path names, and walking
 * each line for them was a measurable share of a portal view (issue 16).
 */
const requestLineLogger = logger.child({}, { redact: [] });

const requestIds = new WeakMap<Request, number>();
let lastRequestId = 0;

/** The request's own logger (its id bound), for what goes wrong while it is served. */
export function requestLogger(req: Request): Logger {
  return logger.child({ reqId: requestIds.get(req) });
}

/**
 * One line per request when its response ends: the request id, method, path
 * (tokens redacted), status and time, worded "GET /customers 200 12ms"
 * (development shows that line; production keeps the fields beside it); info,
 * warn from 400, error from 500. Built once per request, with no logger of its
 * own unless something goes wrong: a portal page view is a few hundred
 * microseconds of work, and pino-http's two child loggers per request and its
 * three passes over the request were a visible share of it (issue 16).
 */
export const httpLogger: RequestHandler = (req, res, next) => {
  if (isQuiet(req.url)) return next();
  const reqId = ++lastRequestId;
  requestIds.set(req, reqId);
  const started = performance.now();
  // 'close' ends every response, sent in full or cut off; the status is what was sent (or about to be).
  res.once('close', () => {
    const responseTime = Math.round(performance.now() - started);
    const fields = requestFields(req);
    const status = res.statusCode;
    const line = { reqId, req: fields, res: { statusCode: status }, responseTime, ...(res.writableFinished ? {} : { aborted: true }) };
    const message = `${fields.method} ${fields.url} ${status} ${responseTime}ms`;
    if (status >= 500) requestLineLogger.error(line, message);
    else if (status >= 400) requestLineLogger.warn(line, message);
    else requestLineLogger.info(line, message);
  });
  next();
};
