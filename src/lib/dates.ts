// Calendar days, wall-clock times in the org's zone and instants: parsing (luxon,
// IANA tz database) and display (Intl, formatters built once).
import { DateTime } from 'luxon';
import { z } from 'zod';
import { cachedFormatter } from './intl.js';
import { memoize } from './memo.js';

/** A calendar day typed in a form: 'YYYY-MM-DD', a real date between 2000 and 2100. */
export const isoDate = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'errors:date.format')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v) && v >= '2000-01-01' && v <= '2100-12-31';
  }, 'errors:date.real');

/** isoDate, or nothing when the field was left blank. */
export const optionalIsoDate = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), isoDate.optional());

/**
 * '2026-03-08' + '09:30' in 'America/New_York' → the instant. Returns null for
 * a wall time that does not exist (skipped by a daylight-saving change); an
 * ambiguous time (clocks going back) resolves to the earlier instant.
 */
export function zonedToInstant(date: string, time: string, timeZone: string): Date | null {
  const local = DateTime.fromISO(`${date}T${time}`, { zone: timeZone });
  if (!local.isValid) return null;
  // luxon moves a skipped time forward; a time that doesn't read back as typed never existed.
  // i18n-exempt: a date format pattern
  if (local.toFormat('yyyy-MM-dd HH:mm') !== `${date} ${time}`) return null;
  const [earliest] = local
    .getPossibleOffsets()
    .map((candidate) => candidate.toMillis())
    .sort((a, b) => a - b);
  return new Date(earliest ?? local.toMillis());
}

/** An instant as the zone's 'YYYY-MM-DD' and 'HH:MM', for form inputs. */
export function instantToZoned(instant: Date, timeZone: string): { date: string; time: string } {
  const local = DateTime.fromJSDate(instant, { zone: timeZone });
  // i18n-exempt: a date format pattern
  return { date: local.toFormat('yyyy-MM-dd'), time: local.toFormat('HH:mm') };
}

/** Today's date in the zone, 'YYYY-MM-DD'. */
export function todayIn(timeZone: string, now = new Date()): string {
  return instantToZoned(now, timeZone).date;
}

/** Whether a calendar day ('YYYY-MM-DD') is already over in the zone (before today there). */
export function isPastDay(day: string | null | undefined, timeZone: string, now = new Date()): boolean {
  return !!day && day < todayIn(timeZone, now);
}

/** A calendar day plus some days ('2026-11-25' + 14 → '2026-12-09'). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

type DateInput = Date | string | null | undefined;

const CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/;

function toDate(value: DateInput): Date | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return value;
  // Calendar days ('2026-11-25') are shown as that day, whatever the zone.
  if (CALENDAR_DAY.test(value)) return new Date(`${value}T12:00:00Z`);
  return new Date(value);
}

/** A value as a key for remembered results: instants as ISO strings (which read back as the same instant), strings as they are. */
function keyOf(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : value;
}

/** "<locale>|<zone>|<value>" (formatDate, formatDateTime) back into its parts, with the date the value shows. */
function fromKey(key: string): { locale: string; timeZone: string; value: string; date: Date } {
  const [locale, timeZone, value] = key.split('|');
  return { locale, timeZone, value, date: toDate(value)! };
}

// Each formatted result is remembered (src/lib/memo.ts): a customer's page shows
// the same days, times and visits on every view.
const shownDate = memoize((key: string) => {
  const { locale, timeZone, value, date } = fromKey(key);
  const zone = CALENDAR_DAY.test(value) ? 'UTC' : timeZone;
  return cachedFormatter(`date|${locale}|${zone}`, () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: zone })).format(
    date,
  );
}, 10_000);

// i18n-exempt: a locale code
export function formatDate(value: DateInput, timeZone = 'UTC', locale = 'en-US'): string {
  if (!toDate(value)) return '';
  return shownDate(`${locale}|${timeZone}|${keyOf(value!)}`);
}

const shownDateTime = memoize((key: string) => {
  const { locale, timeZone, date } = fromKey(key);
  return cachedFormatter(
    `datetime|${locale}|${timeZone}`,
    () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }),
  ).format(date);
}, 10_000);

// i18n-exempt: a locale code
export function formatDateTime(value: DateInput, timeZone = 'UTC', locale = 'en-US'): string {
  if (!toDate(value)) return '';
  return shownDateTime(`${locale}|${timeZone}|${keyOf(value!)}`);
}

/**
 * A visit as the customer should read it: the day, and the window the visit
 * starts in ("Tuesday, December 2" and "9:00 – 11:00 AM"), never an exact minute.
 */
export function formatArrivalWindow(
  start: DateInput,
  windowMinutes: number,
  timeZone = 'UTC',
  // i18n-exempt: a locale code
  locale = 'en-US',
): { day: string; window: string } | null {
  const from = toDate(start);
  if (!from) return null;
  return shownVisit(`${locale}|${timeZone}|${from.getTime()}|${windowMinutes}`);
}

const shownVisit = memoize((key: string) => {
  const [locale, timeZone, startMs, windowMinutes] = key.split('|');
  const from = new Date(Number(startMs));
  const to = new Date(from.getTime() + Number(windowMinutes) * 60_000);
  const day = cachedFormatter(
    // i18n-exempt: a cache key
    `visit-day|${locale}|${timeZone}`,
    () => new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric', timeZone }),
  );
  const time = cachedFormatter(
    // i18n-exempt: a cache key
    `visit-time|${locale}|${timeZone}`,
    () => new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone }),
  );
  // A window that runs past midnight: the two times alone (formatRange would write out both dates).
  const window = day.format(from) === day.format(to) ? time.formatRange(from, to) : `${time.format(from)} – ${time.format(to)}`;
  return Object.freeze({ day: day.format(from), window });
}, 10_000);
