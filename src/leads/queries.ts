// Customers (leads): finding, listing and naming them.
import { isUuid, idOrNotFound } from '../lib/ids.js';
import { chosenLeadId, customerOptions } from '../lib/customer-picker.js';
import { notFound } from '../lib/errors.js';
import { lineItemFormRows } from '../lib/line-items.js';
import { escapeLike, leadSearchPage } from '../db/sql/leads.js';
import type { LeadRow, LeadSummary, PropertyRow } from '../db/rows.js';
import { FormError } from '../lib/errors.js';
import { msg } from '../i18n/index.js';
import type { Db } from '../db/tenancy.js';
import type { LeadListQuery } from './schema.js';

export type { LeadRow, LeadSummary };

export function leadName(lead: Pick<LeadRow, 'first_name' | 'last_name'>): string {
  return `${lead.first_name} ${lead.last_name}`.trim();
}

export async function getLead(db: Db, id: string): Promise<LeadRow> {
  const lead = await db('leads')
    .where({ id: idOrNotFound(id) })
    .first<LeadRow | undefined>();
  if (!lead) throw notFound('dashboard:customer.errors.notFound');
  return lead;
}

// ---- list and search -------------------------------------------------------

const LEADS_PAGE_SIZE = 50;

export interface LeadPage {
  leads: LeadSummary[];
  /** Cursor for the next (older) page, or null on the last page. */
  nextCursor: string | null;
  /** Cursor for the previous (newer) page, or null on the first page. */
  prevCursor: string | null;
}

interface Cursor {
  ts: string;
  id: string;
}

function encodeCursor(ts: string, id: string): string {
  return Buffer.from(`${ts}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(value: string | undefined): Cursor | null {
  if (!value) return null;
  const [ts, id] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  // A broken cursor starts from the first page instead of failing.
  // The timestamp is Postgres's own text form of created_at (microseconds kept), e.g. 2026-11-25 20:01:11.748763+00.
  if (!ts || !id || !isUuid(id)) return null;
  const parts = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/.exec(ts);
  if (!parts) return null;
  // The shape alone would let '2026-02-30 99:99:99+00' through to a ::timestamptz cast.
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number);
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (year < 1 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59)
    return null;
  return { ts, id };
}

/**
 * Splits a search into patterns. Words of 3+ characters match anywhere
 * (trigram index); shorter words match the start of a first or last name.
 * Phone-like input is reduced to its digits, as phones are stored in E.164.
 */
function searchPatterns(q: string): { contains: string[]; prefixes: string[] } {
  const contains: string[] = [];
  const prefixes: string[] = [];
  const text = q.trim().toLowerCase();
  if (!text) return { contains, prefixes };
  const phoneLike = /^[+\d\s().-]+$/.test(text) && text.replace(/\D/g, '').length >= 3;
  const words = phoneLike ? [text.replace(/\D/g, '')] : text.split(/\s+/).slice(0, 6);
  for (const word of words) {
    if (word.length >= 3) contains.push(`%${escapeLike(word)}%`);
    else prefixes.push(`${escapeLike(word)}%`);
  }
  return { contains, prefixes };
}

/** One page of customers, newest first, by keyset (fast at any depth). */
export async function listLeads(db: Db, query: LeadListQuery, pageSize = LEADS_PAGE_SIZE): Promise<LeadPage> {
  const { contains, prefixes } = searchPatterns(query.q ?? '');
  const before = decodeCursor(query.before);
  const after = before ? null : decodeCursor(query.after);
  const cursor = before ?? after;
  const backward = before !== null;
  const rows = await leadSearchPage(db, { contains, prefixes, stage: query.stage ?? null, cursor, backward, limit: pageSize + 1 });
  const hasMore = rows.length > pageSize;
  const page = rows.slice(0, pageSize);
  if (backward) page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  const nextCursor = (backward ? page.length > 0 : hasMore) && last ? encodeCursor(last.cursor_ts, last.id) : null;
  const prevCursor = (backward ? hasMore : cursor !== null) && first ? encodeCursor(first.cursor_ts, first.id) : null;
  return {
    leads: page.map(({ cursor_ts: _c, ...lead }) => lead),
    nextCursor,
    prevCursor,
  };
}

/** Customers for a picker (the proposal, job and invoice forms). */
async function leadChoices(db: Db, selectedId?: string | null): Promise<LeadSummary[]> {
  const recent = await db('leads')
    .select<LeadSummary[]>('id', 'first_name', 'last_name', 'company', 'email', 'phone', 'stage', 'created_at')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'asc' },
    ])
    .limit(200);
  if (selectedId && !recent.some((l) => l.id === selectedId)) {
    const chosen = await db('leads')
      .where({ id: selectedId })
      .first<LeadSummary | undefined>('id', 'first_name', 'last_name', 'company', 'email', 'phone', 'stage', 'created_at');
    if (chosen) recent.unshift(chosen);
  }
  return recent;
}

export interface RecordListOptions {
  /** Only this customer's rows. */
  leadId?: string;
  limit?: number;
  offset?: number;
}

/**
 * One window of a records table (proposals, jobs, invoices, payments) for the
 * admin lists, each row with its customer's name (lead_first_name, lead_last_name).
 */
export function customerRecordList(
  db: Db,
  table: 'proposals' | 'jobs' | 'invoices' | 'payments',
  alias: string,
  order: { column: string; order?: 'asc' | 'desc'; nulls?: 'first' | 'last' }[],
  options: RecordListOptions,
) {
  const query = db(`${table} as ${alias}`)
    .join('leads as l', 'l.id', `${alias}.lead_id`) // i18n-exempt: SQL names, on this line and the next
    .select(`${alias}.*`, 'l.first_name as lead_first_name', 'l.last_name as lead_last_name')
    .orderBy(order)
    .limit(options.limit ?? 50)
    .offset(options.offset ?? 0);
  if (options.leadId) query.where(`${alias}.lead_id`, options.leadId);
  return query;
}

/** The "Choose a customer" options of a form, keeping the customer its values name. */
export async function customerOptionsFor(db: Db, values: Record<string, unknown>, withEmail = false) {
  return customerOptions(await leadChoices(db, chosenLeadId(values)), withEmail);
}

/** The locals of a proposal or invoice form: its values, the customer select and the line-item rows. */
export async function documentFormLocals(
  db: Db,
  form: { title: string; action: string; values: Record<string, unknown>; errors?: Record<string, string>; withEmail?: boolean },
) {
  const { title, action, values, errors, withEmail } = form;
  return {
    title,
    action,
    values,
    leadOptions: await customerOptionsFor(db, values, withEmail),
    propertyOptions: await propertyOptionsFor(db, values.lead_id),
    rows: lineItemFormRows(values.items, errors),
    pastServices: await pastServices(db),
  };
}

/** Services this business has put on proposals and invoices before, most used first (the line-item editor suggests them). */
async function pastServices(db: Db, limit = 200): Promise<string[]> {
  const uses = new Map<string, number>();
  for (const table of ['proposal_items', 'invoice_items']) {
    const rows = await db(table)
      .select('service')
      // i18n-exempt: an SQL alias
      .count<{ service: string; uses: string }[]>('* as uses')
      .groupBy('service')
      .orderBy('uses', 'desc')
      .limit(limit);
    for (const row of rows) uses.set(row.service, (uses.get(row.service) ?? 0) + Number(row.uses));
  }
  return [...uses.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([service]) => service);
}

// ---- properties ------------------------------------------------------------

/** A customer's service addresses, the main (first) one first. */
export async function listProperties(db: Db, leadId: string): Promise<PropertyRow[]> {
  return db('properties')
    .where({ lead_id: leadId })
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .select<PropertyRow[]>('*');
}

export async function getProperty(db: Db, leadId: string, id: string): Promise<PropertyRow> {
  const property = await db('properties')
    .where({ id: idOrNotFound(id), lead_id: leadId })
    .first<PropertyRow | undefined>();
  if (!property) throw notFound('dashboard:property.errors.notFound');
  return property;
}

/**
 * The property a document form chose, checked to be one of that customer's (a 422
 * on property_id otherwise, so nothing is written); null stays null (the main property).
 */
export async function chosenProperty(
  db: Db,
  leadId: string,
  propertyId: string | null | undefined,
  refusal = 'dashboard:property.errors.choose',
): Promise<PropertyRow | null> {
  if (!propertyId) return null;
  const property = await db('properties').where({ id: propertyId, lead_id: leadId }).first<PropertyRow | undefined>();
  if (!property) throw new FormError({ property_id: refusal });
  return property;
}

/** The customer's main property: their first. */
export async function mainProperty(db: Db, leadId: string): Promise<PropertyRow | null> {
  return (
    (await db('properties')
      .where({ lead_id: leadId })
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .first<PropertyRow | undefined>()) ?? null
  );
}

/** The "Property" select of a proposal, job or invoice form: every property of every customer offered, tagged by customer. */
export async function propertyOptionsFor(db: Db, leadId: unknown) {
  if (typeof leadId !== 'string' || !isUuid(leadId)) return [];
  const properties = await listProperties(db, leadId);
  if (properties.length < 2) return [];
  return [
    { value: '', label: msg('dashboard:property.mainOption', { name: properties[0].label || properties[0].address }) },
    ...properties.slice(1).map((p) => ({ value: p.id, label: p.label ? `${p.label} · ${p.address}` : p.address })),
  ];
}
