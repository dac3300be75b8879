// Requests for work: reads for the dashboard (list, one request, its photos).
import type { Db } from '../db/tenancy.js';
import { notFound } from '../lib/errors.js';
import type { WorkRequestStatus } from './schema.js';

export interface WorkRequestRow {
  id: string;
  org_id: string;
  lead_id: string;
  portal_link_id: string | null;
  job_id: string | null;
  kind: 'work' | 'reschedule';
  description: string;
  property_id: string | null;
  address: string | null;
  preferred_times: string;
  status: WorkRequestStatus;
  proposal_id: string | null;
  converted_job_id: string | null;
  converted_at: Date | null;
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface WorkRequestListRow extends WorkRequestRow {
  lead_first_name: string;
  lead_last_name: string;
  photo_count: number;
}

export interface WorkRequestPhoto {
  id: string;
  position: number;
  width: number;
  height: number;
}

export async function getWorkRequest(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<WorkRequestRow> {
  const query = db('work_requests').where({ id });
  if (options.forUpdate) void query.forUpdate();
  const row = await query.first<WorkRequestRow | undefined>();
  if (!row) throw notFound('dashboard:request.errors.notFound');
  return row;
}

export async function listWorkRequests(
  db: Db,
  filter: { status?: WorkRequestStatus; limit: number; offset: number },
): Promise<WorkRequestListRow[]> {
  // i18n-exempt: SQL names
  const photoCount = db('work_request_photos as p').where('p.request_id', db.ref('r.id')).count('*').as('photo_count');
  const query = db('work_requests as r') // i18n-exempt: SQL names
    .join('leads as l', 'l.id', 'r.lead_id') // i18n-exempt: SQL names
    .select('r.*', 'l.first_name as lead_first_name', 'l.last_name as lead_last_name') // i18n-exempt: SQL names
    .select(photoCount)
    .orderBy([
      { column: 'r.created_at', order: 'desc' },
      { column: 'r.id', order: 'desc' },
    ])
    .limit(filter.limit)
    .offset(filter.offset);
  if (filter.status) void query.where('r.status', filter.status);
  const rows = (await query) as WorkRequestListRow[];
  return rows.map((row) => ({ ...row, photo_count: Number(row.photo_count) }));
}

/** How many requests wait for the business (the navigation's count). */
export async function countNewWorkRequests(db: Db): Promise<number> {
  // i18n-exempt: an SQL alias
  const row = await db('work_requests').where({ status: 'new' }).count<{ count: string }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

export async function workRequestPhotos(db: Db, requestId: string): Promise<WorkRequestPhoto[]> {
  return db('work_request_photos')
    .where({ request_id: requestId })
    .orderBy('position')
    .select<WorkRequestPhoto[]>('id', 'position', 'width', 'height');
}

export async function workRequestPhotoBytes(
  db: Db,
  requestId: string,
  photoId: string,
): Promise<{ content_type: string; bytes: Buffer; position: number }> {
  const photo = await db('work_request_photos')
    .where({ request_id: requestId, id: photoId })
    .first<{ content_type: string; bytes: Buffer; position: number } | undefined>('content_type', 'bytes', 'position');
  if (!photo) throw notFound('dashboard:request.errors.photoNotFound');
  return photo;
}
