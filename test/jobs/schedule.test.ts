// The week schedule (/jobs/schedule): each job under the day its visit starts on in
// the business's time zone, the week starting where the business's locale starts
// one, cancelled jobs left out, another business's jobs never shown, and a week
// that can't be read answered with this week and a word about it.
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { weekSchedule, weekStart } from '../../src/jobs/schedule.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { loginAgent, type Agent } from '../support/http.js';

interface JobSeed {
  service: string;
  at: string | null;
  status?: 'scheduled' | 'in_progress' | 'completed' | 'cancelled';
}

async function business(locale = 'en-US'): Promise<{ org: TestOrg; agent: Agent; leadId: string }> {
  const org = await createTestOrg();
  await getDb()('organizations').where({ id: org.orgId }).update({ time_zone: 'America/Chicago', locale });
  const lead = await createTestLead(org.orgId, { first_name: 'Dana', last_name: 'Reyes' });
  return { org, agent: await loginAgent(org.email, org.password), leadId: lead.id };
}

async function seedJobs(orgId: string, leadId: string, jobs: JobSeed[]): Promise<void> {
  await withOrg(orgId, (db) =>
    db('jobs').insert(
      jobs.map((j) => ({
        org_id: orgId,
        lead_id: leadId,
        service_type: j.service,
        status: j.status ?? 'scheduled',
        scheduled_at: j.at && new Date(j.at),
        technician: 'Kim T.',
      })),
    ),
  );
}

/** The page's days: each day's heading and the services listed under it, in order. */
function daysOf(html: string): { label: string; services: string[] }[] {
  return html
    .split('<section class="week-day')
    .slice(1)
    .map((part) => ({
      label: /<h3 id="day-[^"]+">([^<]+)/.exec(part)![1].trim(),
      services: [...part.matchAll(/<a href="\/jobs\/[0-9a-f-]{36}">([^<]+)<\/a>/g)].map((m) => m[1]),
    }));
}

describe('the week schedule', () => {
  it('puts each job under the local day its visit starts on, Sunday to Saturday, and leaves out cancelled ones', async () => {
    const { org, agent, leadId } = await business();
    // Chicago is UTC−6 in December: local midnight is 06:00Z.
    await seedJobs(org.orgId, leadId, [
      { service: 'Saturday before', at: '2026-11-29T05:59:00Z' },
      { service: 'Sunday first thing', at: '2026-11-29T06:00:00Z' },
      { service: 'Tuesday done', at: '2026-12-01T15:00:00Z', status: 'completed' },
      { service: 'Wednesday cancelled', at: '2026-12-02T15:00:00Z', status: 'cancelled' },
      { service: 'Thursday late', at: '2026-12-04T05:30:00Z' },
      { service: 'Thursday morning', at: '2026-12-03T15:00:00Z', status: 'in_progress' },
      { service: 'Saturday last minute', at: '2026-12-06T05:59:00Z' },
      { service: 'Next Sunday', at: '2026-12-06T06:00:00Z' },
      { service: 'No date yet', at: null },
    ]);
    const other = await business();
    await seedJobs(other.org.orgId, other.leadId, [
      { service: 'Another business', at: '2026-12-02T15:00:00Z' },
      { service: 'Another business, no date', at: null },
    ]);

    const res = await agent.get('/jobs/schedule').query({ week: '2026-12-02' });
    expect(res.status).to.equal(200);
    expect(daysOf(res.text)).to.deep.equal([
      { label: 'Sun, Nov 29', services: ['Sunday first thing'] },
      { label: 'Mon, Nov 30', services: [] },
      { label: 'Tue, Dec 1', services: ['Tuesday done'] },
      { label: 'Wed, Dec 2', services: [] },
      { label: 'Thu, Dec 3', services: ['Thursday morning', 'Thursday late'] },
      { label: 'Fri, Dec 4', services: [] },
      { label: 'Sat, Dec 5', services: ['Saturday last minute'] },
    ]);
    expect(res.text.replace(/\s/g, ' ')).to.contain('Nov 29 – Dec 5, 2026');
    expect(res.text, 'a late visit reads as two times, not two dates').to.match(/11:30\sPM – 1:30\sAM/);
    expect(res.text).to.contain('<span class="badge completed">Completed</span>');
    expect(res.text).to.contain('<span class="badge in_progress">In progress</span>');
    expect(res.text).to.contain('href="/jobs/schedule?week=2026-11-22" rel="prev"');
    expect(res.text).to.contain('href="/jobs/schedule?week=2026-12-06" rel="next"');
    expect(res.text).to.contain('1 job is waiting for a date.');
    expect(res.text).not.to.contain('Another business');
  });

  it('runs from one local midnight to the next across the end of daylight saving time', async () => {
    const { org, agent, leadId } = await business();
    // Sunday, November 1 2026: Chicago goes from UTC−5 to UTC−6 at 2 AM.
    await seedJobs(org.orgId, leadId, [
      { service: 'Saturday night', at: '2026-11-01T04:30:00Z' },
      { service: 'Just after midnight', at: '2026-11-01T05:30:00Z' },
      { service: 'Late Saturday', at: '2026-11-08T05:30:00Z' },
      { service: 'Following Sunday', at: '2026-11-08T06:00:00Z' },
    ]);
    const days = daysOf((await agent.get('/jobs/schedule').query({ week: '2026-11-04' })).text);
    expect(days[0]).to.deep.equal({ label: 'Sun, Nov 1', services: ['Just after midnight'] });
    expect(days[6]).to.deep.equal({ label: 'Sat, Nov 7', services: ['Late Saturday'] });
    expect(days.flatMap((d) => d.services)).to.deep.equal(['Just after midnight', 'Late Saturday']);
  });

  it('starts the week at the first local hour of a day whose midnight is skipped (Santiago, spring forward)', async () => {
    const { org, agent, leadId } = await business();
    await getDb()('organizations').where({ id: org.orgId }).update({ time_zone: 'America/Santiago' });
    // Sunday, September 6 2026: Santiago's clocks jump from 00:00 to 01:00 (UTC−4 to UTC−3).
    await seedJobs(org.orgId, leadId, [
      { service: 'Saturday night', at: '2026-09-06T03:59:00Z' },
      { service: 'First hour of Sunday', at: '2026-09-06T04:00:00Z' },
      { service: 'Late Saturday', at: '2026-09-13T02:59:00Z' },
      { service: 'Next Sunday', at: '2026-09-13T03:00:00Z' },
    ]);
    const days = daysOf((await agent.get('/jobs/schedule').query({ week: '2026-09-09' })).text);
    expect(days[0]).to.deep.equal({ label: 'Sun, Sep 6', services: ['First hour of Sunday'] });
    expect(days[6]).to.deep.equal({ label: 'Sat, Sep 12', services: ['Late Saturday'] });
    expect(days.flatMap((d) => d.services)).to.deep.equal(['First hour of Sunday', 'Late Saturday']);
  });

  it('offers no week before 2000 or after 2100 (a ?week= could not name it)', async () => {
    const { agent } = await business();
    const last = (await agent.get('/jobs/schedule').query({ week: '2100-12-31' })).text;
    expect(last).to.contain('rel="prev"');
    expect(last).not.to.contain('rel="next"');
    const first = (await agent.get('/jobs/schedule').query({ week: '2000-01-01' })).text;
    expect(first).not.to.contain('rel="prev"');
    expect(first).to.contain('rel="next"');
  });

  it('starts the week where the locale does, reads in Spanish for an es-MX business, and marks today', async () => {
    expect(weekStart('2026-12-02', 'en-US')).to.equal('2026-11-29');
    expect(weekStart('2026-12-02', 'es-MX')).to.equal('2026-11-29');
    expect(weekStart('2026-12-02', 'es-ES')).to.equal('2026-11-30');
    expect(weekStart('2026-12-02', 'es'), 'a language alone: its likely region').to.equal('2026-11-30');
    expect(weekStart('2026-12-02', 'en'), 'English alone: en-US').to.equal('2026-11-29');
    expect(weekStart('2026-12-02', 'ar-EG'), 'a Saturday-first region').to.equal('2026-11-28');
    expect(weekStart('2026-11-29', 'en-US'), 'a Sunday starts its own week').to.equal('2026-11-29');

    const { org, agent } = await business('es-MX');
    const res = await agent.get('/jobs/schedule').query({ week: '2026-12-02' });
    expect(res.text).to.contain('Agenda');
    expect(res.text).to.contain('<span aria-hidden="true">←</span> Semana anterior');
    expect(res.text).not.to.contain('Previous week');
    expect(daysOf(res.text)[0].label).to.match(/^dom/);

    const week = await withOrg(org.orgId, (db) =>
      weekSchedule(db, { timeZone: 'America/Chicago', locale: 'en-US', weekLocale: 'en-US' }, undefined, new Date('2026-12-03T03:00:00Z')),
    );
    // 03:00Z on December 3 is still December 2 in Chicago.
    expect(week.days.filter((d) => d.isToday).map((d) => d.date)).to.deep.equal(['2026-12-02']);
    expect(week.isThisWeek).to.equal(true);
    const page = (await agent.get('/jobs/schedule')).text;
    expect(page.match(/<section class="week-day today[^"]*" aria-current="date">/g), 'today marked once').to.have.length(1);
  });

  it('answers a week it cannot read with this week and says so', async () => {
    const { agent } = await business();
    const thisWeek = daysOf((await agent.get('/jobs/schedule')).text).map((d) => d.label);
    expect(thisWeek).to.have.length(7);
    for (const week of ['2026-13-45', 'next tuesday', ['2026-12-02', '2026-12-09']]) {
      const res = await agent.get('/jobs/schedule').query({ week });
      expect(res.status, String(week)).to.equal(200);
      expect(res.text).to.contain('That date could not be read, so this is the current week.');
      expect(daysOf(res.text).map((d) => d.label)).to.deep.equal(thisWeek);
    }
    const fine = await agent.get('/jobs/schedule').query({ week: '2026-12-02' });
    expect(fine.text).not.to.contain('could not be read');
  });
});
