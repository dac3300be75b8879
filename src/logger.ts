import { pino, stdSerializers } from 'pino';
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
      'req.headers.cookie',
      'req.headers.authorization',
      'req.headers["stripe-signature"]',
      'req.headers["x-twilio-signature"]',
      'res.headers["set-cookie"]',
      '*.password',
      '*.token',
    ],
    censor: '[redacted]',
  },
});

type SerializedReq = ReturnType<typeof stdSerializers.req>;
type SerializedRes = ReturnType<typeof stdSerializers.res>;

function redactHeader(headers: Record<string, unknown> | undefined, name: string): void {
  const value = headers?.[name];
  if (typeof value === 'string') headers![name] = redactPortalTokens(value);
}

export const httpLogger = pinoHttp<IncomingMessage, ServerResponse>({
  logger,
  serializers: {
    req(req: SerializedReq) {
      req.url = redactPortalTokens(req.url);
      redactHeader(req.headers, 'referer');
      return req;
    },
    res(res: SerializedRes) {
      redactHeader(res.headers, 'location');
      return res;
    },
  },
  customLogLevel(_req, res, err) {
    if (err || res.statusCode >= 500) return 'error';
    if (res.statusCode >= 400) return 'warn';
    return 'info';
  },
  autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
});
