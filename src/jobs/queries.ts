// Jobs: reading them.
import type { JobRow, JobStatus } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { notFound } from '../lib/errors.js';
import { idOrNotFound } from '../lib/ids.js';
import { customerRecordList } from '../leads/queries.js';

export type { JobRow };

export interface JobListRow extends JobRow {
  lead_first_name: string;
  lead_last_name: string;
}

/** Which status may follow which; anything else is refused. */
export const JOB_TRANSITIONS: Record<JobStatus, JobStatus[]> = {
  scheduled: ['in_progress', 'completed', 'cancelled'],
  in_progress: ['scheduled', 'completed', 'cancelled'],
  completed: [],
  cancelled: ['scheduled'],
};

export async function getJob(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<JobRow> {
  const query = db('jobs').where({ id: idOrNotFound(id) });
  if (options.forUpdate) query.forUpdate();
  const job = await query.first<JobRow | undefined>();
  if (!job) throw notFound('dashboard:job.errors.notFound');
  return job;
}

export async function listJobs(
  db: Db,
  filter: { leadId?: string; status?: JobStatus; limit?: number; offset?: number } = {},
): Promise<JobListRow[]> {
  const query = customerRecordList(
    db,
    'jobs',
    'j',
    [{ column: 'j.scheduled_at', order: 'desc', nulls: 'first' }, { column: 'j.created_at', order: 'desc' }, { column: 'j.id' }],
    filter,
  );
  if (filter.status) query.where('j.status', filter.status);
  return query;
}

/** Scheduled or in-progress jobs from now on, soonest first; unscheduled ones after. */
export async function listUpcomingJobs(db: Db, limit = 20, now: Date = new Date()): Promise<JobListRow[]> {
  return customerRecordList(db, 'jobs', 'j', [{ column: 'j.scheduled_at', order: 'asc', nulls: 'last' }, { column: 'j.created_at' }], {
    limit,
  })
    .whereIn('j.status', ['scheduled', 'in_progress'])
    .where((q) => {
      q.where('j.scheduled_at', '>=', new Date(now.getTime() - 12 * 3600_000)).orWhereNull('j.scheduled_at');
    });
}

/** Jobs with a visit in [from, to), cancelled ones aside, earliest first, each with its customer's name. */
export async function listJobsBetween(db: Db, from: Date, to: Date, limit: number): Promise<JobListRow[]> {
  return customerRecordList(db, 'jobs', 'j', [{ column: 'j.scheduled_at', order: 'asc' }, { column: 'j.id' }], { limit })
    .whereNot('j.status', 'cancelled')
    .where('j.scheduled_at', '>=', from)
    .where('j.scheduled_at', '<', to);
}

/** How many jobs wait for a date (scheduled, none set). */
export async function countJobsToSchedule(db: Db): Promise<number> {
  // i18n-exempt: an SQL alias
  const row = await db('jobs').where({ status: 'scheduled' }).whereNull('scheduled_at').count<{ count: string }[]>('* as count').first();
  return Number(row?.count ?? 0);
}
