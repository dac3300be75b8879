// A logged-in supertest agent that carries the session cookie and CSRF token.
import supertest from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../src/app.js';

let built: ReturnType<typeof createApp> | undefined;

/** One app for the whole run (its session store pool is shared). */
export function testApp(): Express {
  built ??= createApp();
  return built.app;
}

export type Agent = ReturnType<typeof supertest.agent>;

/** A JSON response's body as the shape the test expects (supertest types every body `any`). */
export function jsonBody<T>(res: { body: unknown }): T {
  return res.body as T;
}

/** The _csrf value from a rendered page. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1];
}

/** Fetches a page and returns its CSRF token (the session keeps it). */
export async function csrfToken(agent: Agent, path = '/login'): Promise<string> {
  const res = await agent.get(path);
  return csrfFrom(res.text);
}

export async function loginAgent(email: string, password: string): Promise<Agent & { csrf: string }> {
  const agent = supertest.agent(testApp());
  const token = await csrfToken(agent, '/login');
  const res = await agent.post('/login').type('form').send({ email, password, _csrf: token });
  if (res.status !== 303) throw new Error(`login failed with ${res.status}`);
  // The session was regenerated at login; fetch the new token.
  const csrf = await csrfToken(agent, '/');
  return Object.assign(agent, { csrf });
}
