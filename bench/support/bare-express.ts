// The ceiling for bench/portal.ts: bare Express in its own process, answering
// each portal path with the exact bytes and content type the app sent for it
// (read from BENCH_BARE_FILE), and nothing else — no logging, no database.
// Served by Node's plain server, as `app.listen` does; BENCH_BARE_SERVER=web
// serves it with the app's own web server instead (`createWebServer`, which
// spares Express's per-request prototype change), for comparison only.
import express from 'express';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createWebServer } from '../../src/http/listen.js';

interface BarePage {
  contentType: string;
  body: string;
}

const pages = JSON.parse(readFileSync(process.env.BENCH_BARE_FILE ?? '', 'utf8')) as Record<string, BarePage>;
const bodies = new Map(Object.entries(pages).map(([path, page]) => [path, { ...page, bytes: Buffer.from(page.body, 'utf8') }]));

const app = express();
app.disable('x-powered-by');
app.use((req, res) => {
  const page = bodies.get(req.path);
  if (!page) {
    res.sendStatus(404);
    return;
  }
  res.type(page.contentType).send(page.bytes);
});
const server = (process.env.BENCH_BARE_SERVER === 'web' ? createWebServer(app) : http.createServer(app)).listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
server.keepAliveTimeout = 65_000;
process.on('message', (msg: { type: string }) => {
  if (msg.type === 'count') {
    const { user, system } = process.cpuUsage();
    process.send?.({ type: 'count', queries: 0, cpuMicros: user + system });
  }
});
// Exit on the bench's SIGTERM (rather than be killed by it), so that --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
