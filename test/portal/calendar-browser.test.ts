// Issue #13, point 6 in a phone-sized browser (390 px): on Service History the
// customer taps "Add to calendar" under an upcoming visit; the browser saves an
// .ics that parses back (node-ical) with the arrival window in the org's time
// zone, the visit's address and the business's contact. A completed visit offers none.
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import ical, { type VEvent } from 'node-ical';
import type { Browser } from 'playwright-core';
import { withOrg } from '../../src/db/tenancy.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { linkFor, resetPortalMisses } from './support.js';

describe('Add to calendar in the browser (390 px)', function () {
  this.timeout(60_000);
  let server: Server | undefined;
  let base = '';
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await closeServer(server);
  });

  beforeEach(resetPortalMisses);

  it('saves the upcoming visit as an .ics holding its arrival window in the org’s zone, the address and the contact', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId, { first_name: 'Rosa' });
    await withOrg(org.orgId, async (db) => {
      await db('organizations').update({ time_zone: 'America/Chicago', phone: '+15550100123', email: 'office@gutters.example' });
      await db('jobs').insert([
        {
          org_id: org.orgId,
          lead_id: lead.id,
          service_type: 'Gutter repair',
          status: 'scheduled',
          // 15:00 UTC on a winter day is 09:00 in Chicago (CST, UTC−6); a two-hour window.
          scheduled_at: new Date('2031-01-14T15:00:00Z'),
          arrival_window_minutes: 120,
          address: '400 Lake Shore Dr, Chicago',
        },
        {
          org_id: org.orgId,
          lead_id: lead.id,
          service_type: 'Spring clean-out',
          status: 'completed',
          scheduled_at: new Date('2024-04-02T15:00:00Z'),
          completed_at: new Date('2024-04-02T17:00:00Z'),
        },
      ]);
    });
    const { url } = await linkFor(org.orgId, lead.id);

    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${base}${new URL(url).pathname}/history`);
    const links = page.getByRole('link', { name: 'Add to calendar' });
    expect(await links.count(), 'only the upcoming visit offers a calendar file').to.equal(1);
    const [download] = await Promise.all([page.waitForEvent('download'), links.first().click()]);
    expect(download.suggestedFilename()).to.equal('visit-2031-01-14.ics');
    const text = fs.readFileSync(await download.path(), 'utf8');
    await context.close();

    expect(text).to.contain('DTSTART;TZID=America/Chicago:20310114T090000');
    const events = Object.values(ical.sync.parseICS(text)).filter((c): c is VEvent => c?.type === 'VEVENT');
    expect(events).to.have.length(1);
    const [event] = events;
    expect(event.start.toISOString()).to.equal('2031-01-14T15:00:00.000Z');
    expect(event.end?.toISOString()).to.equal('2031-01-14T17:00:00.000Z');
    expect(event.location).to.equal('400 Lake Shore Dr, Chicago');
    const description = typeof event.description === 'string' ? event.description : (event.description?.val ?? '');
    expect(description).to.contain('(555) 010-0123').and.to.contain('office@gutters.example');
  });
});
