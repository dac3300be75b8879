// The README's "Webhooks to register" table names every event each Stripe
// endpoint acts on: an event left off there is never sent, and its handler never runs.
import { expect } from 'chai';
import fs from 'node:fs/promises';
import { PLATFORM_EVENT_TYPES } from '../../src/billing/webhooks.js';
import { HANDLED_EVENT_TYPES } from '../../src/payments/stripe/webhooks.js';

async function documentedEvents(endpoint: string): Promise<string[]> {
  const readme = await fs.readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const row = readme.split('\n').find((line) => line.startsWith(`| \`${endpoint}\` |`));
  if (!row) throw new Error(`README has no row for ${endpoint}`);
  const events = row.split('|').at(-2) ?? '';
  return [...events.matchAll(/`([a-z_.]+)`/g)].map((m) => m[1]).sort();
}

describe('Stripe events to register (README)', () => {
  it('lists every Connect event the /webhooks/stripe handler processes, and no other', async () => {
    expect(await documentedEvents('/webhooks/stripe')).to.deep.equal([...HANDLED_EVENT_TYPES].sort());
  });

  it('lists every platform event the /webhooks/stripe/platform handler processes, and no other', async () => {
    expect(await documentedEvents('/webhooks/stripe/platform')).to.deep.equal([...PLATFORM_EVENT_TYPES].sort());
  });
});
