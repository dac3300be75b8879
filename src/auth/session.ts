// Sessions live in Postgres so any web process can serve any request.
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type { RequestHandler } from 'express';
import { config } from '../config.js';
import { databaseUrl } from '../db/knex.js';

// i18n-exempt: a package's name
declare module 'express-session' {
  interface SessionData {
    userId: string;
    orgId: string;
    flash: { type: 'success' | 'error' | 'info'; message: string };
    /** The dashboard's language (the org's), remembered by orgPage for pages outside it (errors). */
    lang: 'en' | 'es';
  }
}

const SESSION_COOKIE = 'porchlight.sid'; // i18n-exempt: a cookie's name
const FOURTEEN_DAYS_MS = 14 * 24 * 60 * 60 * 1000;

export function createSessionMiddleware(): { middleware: RequestHandler; close: () => Promise<void> } {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    conString: databaseUrl(),
    tableName: 'sessions',
    createTableIfMissing: false,
    // Expired rows go every 15 minutes (±50 %); the timer starts with the first session query, is unref'd and
    // stops at close(), so a test run needs no setting of its own.
    pruneSessionInterval: 15 * 60,
  });
  const middleware = session({
    name: SESSION_COOKIE,
    store,
    secret: config.appSecret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: config.trustProxy ? true : undefined,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      maxAge: FOURTEEN_DAYS_MS,
    },
  });
  // close() ends the store's own pool; its typings say void, the implementation returns pg's end() promise.
  return { middleware, close: () => Promise.resolve(store.close() as unknown as Promise<void> | undefined).then(() => undefined) };
}
