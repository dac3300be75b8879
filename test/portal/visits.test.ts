// Visits show the day, an arrival window and the technician, never an exact
// minute; phone numbers read the way people in the business's country write them.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { translate } from '../../src/i18n/index.js';
import { FormError } from '../../src/lib/errors.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createJob } from '../../src/jobs/commands.js';
import { jobFormSchema } from '../../src/jobs/schema.js';
import { parseForm } from '../../src/lib/forms.js';
import { portalContact } from '../../src/portal/contact.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { linkFor, resetPortalMisses } from './support.js';

/** Intl puts thin and narrow no-break spaces in times and ranges; tests read plain spaces. */
const plain = (s: string) => s.replace(/[\u2009\u202f\u00a0]/g, ' ');

describe('portal visits and phone numbers', () => {
  beforeEach(resetPortalMisses);

  it('shows an upcoming visit as its day, an arrival window and the technician, not an exact minute', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    await getDb()('organizations').where({ id: org.orgId }).update({ time_zone: 'America/Chicago' });
    const lead = await createTestLead(org.orgId);
    const actor = { type: 'system' as const, label: 'test' };
    const input = parseForm(jobFormSchema, {
      lead_id: lead.id,
      service_type: 'Furnace check',
      scheduled_date: '2030-12-03',
      scheduled_time: '09:00',
      technician: 'Tom Reyes',
      arrival_window_minutes: '180',
    });
    const job = await withOrg(org.orgId, (db) => createJob(db, input, 'America/Chicago', actor));
    expect(job.arrival_window_minutes).to.equal(180);

    const { token } = await linkFor(org.orgId, lead.id);
    const page = plain((await supertest(testApp()).get(`/p/${token}/history`)).text);
    expect(page).to.contain('Tuesday, December 3').and.to.contain('Arriving 9:00 AM – 12:00 PM');
    expect(page).to.contain('Technician: Tom Reyes');
    // The exact start as a date-time (what the page used to show) is gone.
    expect(page).not.to.contain('Dec 3, 2030, 9:00 AM');
  });

  it('offers arrival windows from a fixed list, two hours when none is chosen', () => {
    const base = { lead_id: '00000000-0000-4000-8000-000000000001', service_type: 'Visit' };
    expect(parseForm(jobFormSchema, base).arrival_window_minutes).to.equal(120);
    expect(parseForm(jobFormSchema, { ...base, arrival_window_minutes: '240' }).arrival_window_minutes).to.equal(240);
    for (const bad of ['7', 'abc', '100000']) {
      expect(() => parseForm(jobFormSchema, { ...base, arrival_window_minutes: bad }), bad).to.throw(FormError);
      try {
        parseForm(jobFormSchema, { ...base, arrival_window_minutes: bad });
      } catch (err) {
        expect(translate('en', (err as FormError).fields.arrival_window_minutes)).to.equal('Choose an arrival window');
      }
    }
  });

  it('writes phone numbers in the national format at home and internationally otherwise, with tel: and sms: links', () => {
    const org = { name: 'Acme', email: null, whatsapp_number: null, address: null };
    const us = portalContact({ ...org, phone: '+15125550199', locale: 'en-US' }, 'Sam');
    expect(us.phone).to.deep.equal({ display: '(512) 555-0199', tel: 'tel:+15125550199', sms: 'sms:+15125550199' });
    const pt = portalContact({ ...org, phone: '+351912345678', locale: 'pt-PT' }, 'Sam');
    expect(pt.phone?.display).to.equal('912 345 678');
    const abroad = portalContact({ ...org, phone: '+442079460958', locale: 'en-US' }, 'Sam');
    expect(abroad.phone?.display).to.equal('+44 20 7946 0958');
    expect(portalContact({ ...org, phone: null, locale: 'en-US' }, 'Sam')).to.include({ phone: null, any: false });
  });
});
