import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

interface LoggedRequest extends IncomingMessage {
  originalUrl?: string;
}

/** What a request's log line says about it: method and path (tokens redacted), never headers or cookies. */
function requestFields(req: LoggedRequest) {
  return { method: req.method, url: redactPortalTokens(req.originalUrl ?? req.url ?? '') };
}

/**
 * One line per request, built cheaply: a portal page view is a few hundred
 * microseconds of work, and pino-http's default serializers (every header,
 * each copied and redacted, and a child logger per request holding them) were
 * a visible share of it (issue 16). The line holds the request id, method,
 * path, status and time; `req.log` (the request id only) is for errors.
 */
export const httpLogger = pinoHttp<IncomingMessage, ServerResponse>({
  logger,
  quietReqLogger: true,
  quietResLogger: true,
  // pino-http still makes a child logger bound to each request: this keeps that binding two fields long.
  wrapSerializers: false,
  serializers: { req: requestFields },
  customSuccessObject: (req, res, fields: { responseTime?: number }) => ({
    req,
    res: { statusCode: res.statusCode },
    responseTime: fields.responseTime,
  }),
  customErrorObject: (req, res, err, fields: { responseTime?: number }) => ({
    req,
    res: { statusCode: res.statusCode },
    err,
    responseTime: fields.responseTime,
  }),
  customLogLevel(_req, res, err) {
    if (err || res.statusCode >= 500) return 'error';
    if (res.statusCode >= 400) return 'warn';
    return 'info';
  },
  // "GET /customers 200 12ms": the line development shows (production keeps the fields beside it).
  // originalUrl: inside a mounted router (/p, /return) req.url has lost the prefix the redaction looks for.
  customSuccessMessage: (req, res, responseTime) =>
    `${req.method} ${requestFields(req).url} ${res.statusCode} ${Math.round(responseTime)}ms`,
  autoLogging: {
    ignore: (req) =>
      req.url === '/healthz' ||
      req.url === '/readyz' ||
      // Static files are noise while developing.
      (config.isDevelopment && /^\/(static|vendor)\//.test(req.url ?? '')),
  },
});
