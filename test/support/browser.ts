// Browser tests: the app served on a free local port, and Debian's chromium
// (never a downloaded browser) with the flags this closed network needs.
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createWebServer } from '../../src/http/listen.js';
import { testApp } from './http.js';

const CHROMIUM = '/usr/bin/chromium';

/** Skips the suite (with a line saying why) when chromium is not installed. */
export function skipWithoutChromium(ctx: Mocha.Context): void {
  if (fs.existsSync(CHROMIUM)) return;
  console.log(`    skipped: ${CHROMIUM} is not installed`);
  ctx.skip();
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export interface ServedApp {
  server: Server;
  /** http://127.0.0.1:<port> */
  base: string;
}

/** The test app listening on a free port of 127.0.0.1, in the web server src/server.ts makes. */
export async function serveTestApp(): Promise<ServedApp> {
  const server = createWebServer(testApp()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function closeServer(server: Server | undefined): Promise<unknown> {
  return new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
}

/**
 * A new page of `context` logged in to the dashboard as `who`, on its home page.
 * The form is found by its field names, not its labels, so this works whatever
 * language the login page is in.
 */
export async function logInPage(context: BrowserContext, base: string, who: { email: string; password: string }): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  const form = page.locator('form[action="/login"]');
  await form.locator('input[name="email"]').fill(who.email);
  await form.locator('input[name="password"]').fill(who.password);
  await form.locator('button[type="submit"]').click();
  await page.waitForURL(`${base}/`);
  return page;
}
