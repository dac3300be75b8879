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
import { seedCustomerRecords } from './fixtures.js';
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

  describe('the visit of an approved proposal', () => {
    const hour = 3_600_000;
    /** The line under an approved proposal (who approved it, then its visit), its job's columns as given. */
    async function approvedPage(job: Record<string, unknown>, language: 'en' | 'es' = 'en'): Promise<string> {
      const org = await createTestOrg({ plan: 'starter', name: 'Lone Star Gutters' });
      const lead = await createTestLead(org.orgId);
      await getDb()('leads').where({ id: lead.id }).update({ language });
      const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1 });
      const proposalId = records.proposalIds[0];
      await withOrg(org.orgId, async (db) => {
        await db('proposals').where({ id: proposalId }).update({ status: 'approved', approved_at: new Date(), approved_by_name: 'Sam' });
        await db('jobs').insert({
          org_id: org.orgId,
          lead_id: lead.id,
          proposal_id: proposalId,
          service_type: 'Spring AC service',
          ...job,
        });
      });
      const { token } = await linkFor(org.orgId, lead.id);
      const res = await supertest(testApp()).get(`/p/${token}/proposals/${proposalId}`);
      expect(res.status).to.equal(200);
      return plain(/<p class="notice notice-success">([\s\S]*?)<\/p>/.exec(res.text)![1]);
    }

    it('is "planned" while still to come, ending on one full stop after a technician named "Luis M."', async () => {
      const line = await approvedPage({ scheduled_at: new Date(Date.now() + 48 * hour), technician: 'Luis M.' });
      expect(line)
        .to.contain('The visit is planned for')
        .and.to.match(/, with Luis M\.$/);
      expect(line).not.to.contain('M..');
    });

    it('once completed says it was done, never "planned", though its day has passed', async () => {
      const past = new Date(Date.now() - 24 * hour);
      const done = { scheduled_at: past, status: 'completed', completed_at: past, technician: 'Luis M.' };
      const line = await approvedPage(done);
      expect(line).to.contain('The visit has been completed.').and.not.to.contain('planned');
      expect(await approvedPage(done, 'es'))
        .to.contain('La visita ya se realizó.')
        .and.not.to.contain('prevista');
    });

    it('past its day and not marked done, says when it was set rather than "planned"', async () => {
      const line = await approvedPage({ scheduled_at: new Date(Date.now() - 24 * hour), technician: 'Luis M.' });
      expect(line).to.contain('The visit was set for').and.not.to.contain('planned');
    });

    it('with no day yet says the business will set it, in both languages', async () => {
      expect(await approvedPage({ scheduled_at: null }))
        .to.contain('Lone Star Gutters will set the day of the visit')
        .and.not.to.contain('planned');
      expect(await approvedPage({ scheduled_at: null }, 'es')).to.contain('Lone Star Gutters fijará el día de la visita');
    });

    it('writes one full stop after a value that ends in one (a name, "p.m."; see test/i18n/full-stop.test.ts)', async () => {
      // In Spanish a time ends in "a.m." / "p.m.": the approval line, and a visit's arrival window.
      expect(await approvedPage({ scheduled_at: new Date(Date.now() + 48 * hour) }, 'es'))
        .to.contain('La visita está prevista para el')
        .and.not.to.contain('m..');
      const line = await approvedPage({ scheduled_at: null }, 'es');
      expect(line)
        .to.match(/Aprobada por Sam el .+ [ap]\. ?m\. Lone Star/)
        .and.not.to.contain('m..');
    });
  });

  it('shows a visit with no day yet as to be scheduled, with no link to reschedule it', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const [undated, dated] = await withOrg(org.orgId, (db) =>
      db('jobs')
        .insert([
          { org_id: org.orgId, lead_id: lead.id, service_type: 'Gutter replacement', scheduled_at: null },
          { org_id: org.orgId, lead_id: lead.id, service_type: 'Gutter cleaning', scheduled_at: new Date(Date.now() + 86_400_000) },
        ])
        .returning<{ id: string }[]>('id'),
    );
    const { token } = await linkFor(org.orgId, lead.id);
    const page = (await supertest(testApp()).get(`/p/${token}/history`)).text;
    const cards = page.split('<li class="doc visit">').slice(1);
    const undatedCard = cards.find((c) => c.includes('Gutter replacement'))!;
    const datedCard = cards.find((c) => c.includes('Gutter cleaning'))!;
    expect(undatedCard).to.contain('To be scheduled').and.not.to.contain('>Scheduled<');
    expect(undatedCard).not.to.contain('/reschedule').and.not.to.contain('Ask to reschedule');
    expect(page).not.to.contain(`/visits/${undated.id}/reschedule`);
    expect(datedCard).to.contain('>Scheduled<').and.to.contain(`/visits/${dated.id}/reschedule`);
    await getDb()('leads').where({ id: lead.id }).update({ language: 'es' });
    const es = (await supertest(testApp()).get(`/p/${token}/history`)).text;
    expect(es).to.contain('Por programar').and.not.to.contain(`/visits/${undated.id}/reschedule`);
    // Nor by its address: the form is the plain 404 for a visit with nothing to move; the dated one opens.
    expect((await supertest(testApp()).get(`/p/${token}/visits/${undated.id}/reschedule`)).status).to.equal(404);
    expect((await supertest(testApp()).get(`/p/${token}/visits/${dated.id}/reschedule`)).status).to.equal(200);
  });

  it('says in words that both fields of the reschedule form are required, in both languages', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const [job] = await withOrg(org.orgId, (db) =>
      db('jobs')
        .insert({ org_id: org.orgId, lead_id: lead.id, service_type: 'Gutter cleaning', scheduled_at: new Date(Date.now() + 86_400_000) })
        .returning<{ id: string }[]>('id'),
    );
    const { token } = await linkFor(org.orgId, lead.id);
    const labels = async () => {
      const page = (await supertest(testApp()).get(`/p/${token}/visits/${job.id}/reschedule`)).text;
      return [...page.matchAll(/<label for="(description|preferred_times)">([\s\S]*?)<\/label>/g)].map((m) => m[2].replace(/<[^>]+>/g, ''));
    };
    expect(await labels()).to.deep.equal(['Message (required)', 'Which days or times suit you? (required)']);
    await getDb()('leads').where({ id: lead.id }).update({ language: 'es' });
    expect(await labels()).to.deep.equal(['Mensaje (obligatorio)', '¿Qué días u horas le convienen? (obligatorio)']);
    // Its arrival window ends in "a.m." / "p.m.", never followed by a second full stop.
    expect((await supertest(testApp()).get(`/p/${token}/visits/${job.id}/reschedule`)).text)
      .to.contain('franja de llegada')
      .and.not.to.contain('m..');
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
