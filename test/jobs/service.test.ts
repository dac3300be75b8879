import { expect } from 'chai';
import type { Actor } from '../../src/db/audit.js';
import { withOrg } from '../../src/db/tenancy.js';
import { FormError, HttpError } from '../../src/lib/errors.js';
import { parseForm } from '../../src/lib/forms.js';
import { jobFormSchema } from '../../src/jobs/schema.js';
import { createJob, setJobStatus, updateJob } from '../../src/jobs/commands.js';
import { getJob, listUpcomingJobs } from '../../src/jobs/queries.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import type { AuditEventRecord } from '../support/rows.js';

const jobForm = (leadId: string, extra: Record<string, unknown> = {}) =>
  parseForm(jobFormSchema, {
    lead_id: leadId,
    service_type: 'Furnace tune-up',
    scheduled_date: '2026-12-03',
    scheduled_time: '08:15',
    ...extra,
  });

async function setup() {
  const org = await createTestOrg();
  const lead = await createTestLead(org.orgId, { address: '5 Elm Row, Springfield' });
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  return { org, lead, actor };
}

describe('jobs service', () => {
  it("stores the scheduled time entered in the org's zone and defaults the address to the customer's", async () => {
    const { org, lead, actor } = await setup();
    const job = await withOrg(org.orgId, (db) => createJob(db, jobForm(lead.id), 'America/Chicago', actor));
    expect(new Date(job.scheduled_at as unknown as string).toISOString()).to.equal('2026-12-03T14:15:00.000Z');
    expect(job).to.include({ address: '5 Elm Row, Springfield', status: 'scheduled' });
    const audit = await withOrg(org.orgId, (db) =>
      db('audit_events').where({ subject_id: job.id, action: 'job.created' }).first<AuditEventRecord>(),
    );
    expect(audit.actor_user_id).to.equal(org.userId);
  });

  it('keeps an address typed for the job', async () => {
    const { org, lead, actor } = await setup();
    const job = await withOrg(org.orgId, (db) => createJob(db, jobForm(lead.id, { address: 'Cabin, 1 Lake Rd' }), 'UTC', actor));
    expect(job.address).to.equal('Cabin, 1 Lake Rd');
  });

  it('refuses a time the clocks skip, beside the field, and writes nothing', async () => {
    const { org, lead, actor } = await setup();
    const err = await withOrg(org.orgId, (db) =>
      createJob(db, jobForm(lead.id, { scheduled_date: '2026-03-08', scheduled_time: '02:30' }), 'America/New_York', actor),
    ).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(FormError);
    expect((err as FormError).fields).to.have.property('scheduled_time');
    const count = await withOrg(org.orgId, (db) => db('jobs').count<{ count: string }[]>('* as count'));
    expect(Number(count[0].count)).to.equal(0);
  });

  it('refuses a form with a time but no date, or a customer that is not theirs', async () => {
    expect(() => jobForm('00000000-0000-4000-8000-000000000000', { scheduled_date: '' })).to.throw(FormError);
    const { org, actor } = await setup();
    const other = await setup();
    const err = await withOrg(org.orgId, (db) => createJob(db, jobForm(other.lead.id), 'UTC', actor)).catch((e: unknown) => e);
    expect((err as FormError).fields).to.have.property('lead_id');
  });

  it('moves scheduled → in progress → completed and refuses to leave completed', async () => {
    const { org, lead, actor } = await setup();
    const job = await withOrg(org.orgId, (db) => createJob(db, jobForm(lead.id), 'UTC', actor));
    await withOrg(org.orgId, (db) => setJobStatus(db, job.id, 'in_progress', actor));
    const done = await withOrg(org.orgId, (db) => setJobStatus(db, job.id, 'completed', actor));
    expect(done.status).to.equal('completed');
    expect(done.completed_at).to.not.equal(null);
    const err = await withOrg(org.orgId, (db) => setJobStatus(db, job.id, 'scheduled', actor)).catch((e: unknown) => e);
    expect((err as HttpError).status).to.equal(409);
    const edit = await withOrg(org.orgId, (db) => updateJob(db, job.id, jobForm(lead.id), 'UTC', actor)).catch((e: unknown) => e);
    expect((edit as HttpError).status).to.equal(409);
    expect((await withOrg(org.orgId, (db) => getJob(db, job.id))).status).to.equal('completed');
  });

  it('reopens a cancelled job as scheduled', async () => {
    const { org, lead, actor } = await setup();
    const job = await withOrg(org.orgId, (db) => createJob(db, jobForm(lead.id), 'UTC', actor));
    await withOrg(org.orgId, (db) => setJobStatus(db, job.id, 'cancelled', actor));
    const reopened = await withOrg(org.orgId, (db) => setJobStatus(db, job.id, 'scheduled', actor));
    expect(reopened.status).to.equal('scheduled');
  });

  it('lists upcoming scheduled and in-progress jobs soonest first, without completed, cancelled or past ones', async () => {
    const { org, lead, actor } = await setup();
    const now = new Date('2026-12-01T12:00:00Z');
    const make = (date: string, service: string) =>
      withOrg(org.orgId, (db) => createJob(db, jobForm(lead.id, { scheduled_date: date, service_type: service }), 'UTC', actor));
    const later = await make('2026-12-20', 'Later');
    await make('2026-12-05', 'Sooner');
    await make('2026-11-01', 'Past');
    const done = await make('2026-12-10', 'Done');
    await withOrg(org.orgId, (db) => setJobStatus(db, done.id, 'completed', actor));
    await withOrg(org.orgId, (db) => setJobStatus(db, later.id, 'in_progress', actor));
    const upcoming = await withOrg(org.orgId, (db) => listUpcomingJobs(db, 20, now));
    expect(upcoming.map((j) => j.service_type)).to.deep.equal(['Sooner', 'Later']);
  });

  it('answers 404 for another org’s job id, exactly like a missing one', async () => {
    const { org, lead, actor } = await setup();
    const other = await setup();
    const job = await withOrg(org.orgId, (db) => createJob(db, jobForm(lead.id), 'UTC', actor));
    for (const id of [job.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const err = await withOrg(other.org.orgId, (db) => getJob(db, id)).catch((e: unknown) => e);
      expect((err as HttpError).status, id).to.equal(404);
    }
  });
});
