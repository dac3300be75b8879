// Loaded with `node --import` into the web process that bench/portal.ts starts
// as deployed (`node dist/src/server.js`). It counts database round trips
// (every pg.Client#query) for the bench to read over IPC, and with
// BENCH_PAGES_FILE set answers the portal's one database call, the prepared
// statement calling portal_page(), from pages read beforehand: that process is "the same app fed from memory".
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PORTAL_PAGE_STATEMENT, SAME_PAGE } from '../../src/db/portal-page.js';
import { pageKey } from './portal-page-key.js';

const pagesFile = process.env.BENCH_PAGES_FILE;
// As Postgres answers the app's `portal_page(...)::text`: each page's JSON text and its version
// (the answer is SAME_PAGE when the caller names that version: nothing changes in memory).
const pages: Record<string, { text: string; version: string } | null> | null = pagesFile
  ? Object.fromEntries(
      Object.entries(JSON.parse(readFileSync(pagesFile, 'utf8')) as Record<string, { version: string } | null>).map(([key, page]) => [
        key,
        page === null ? null : { text: JSON.stringify(page), version: page.version },
      ]),
    )
  : null;

let queries = 0;
const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
const query = proto.query;
proto.query = function (this: unknown, ...args: unknown[]) {
  const statement = args[0] as { name?: string; values?: unknown[] } | string;
  if (pages && typeof statement === 'object' && statement.name === PORTAL_PAGE_STATEMENT) {
    const page = pages[pageKey(statement.values)] ?? null;
    const known = statement.values?.[9];
    return Promise.resolve({ rows: [{ page: page && (known === page.version ? SAME_PAGE : page.text) }] });
  }
  queries += 1;
  return query.apply(this, args);
};

/** CPU time this process has used (user + system), in microseconds. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'count') process.send?.({ type: 'count', queries, cpuMicros: cpuMicros() });
});
