// Wall-clock time in the org's zone ↔ instants, through luxon (IANA tz database).
import { DateTime } from 'luxon';

/**
 * '2026-03-08' + '09:30' in 'America/New_York' → the instant. Returns null for
 * a wall time that does not exist (skipped by a daylight-saving change); an
 * ambiguous time (clocks going back) resolves to the earlier instant.
 */
export function zonedToInstant(date: string, time: string, timeZone: string): Date | null {
  const local = DateTime.fromISO(`${date}T${time}`, { zone: timeZone });
  if (!local.isValid) return null;
  // luxon moves a skipped time forward; a time that doesn't read back as typed never existed.
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
  return { date: local.toFormat('yyyy-MM-dd'), time: local.toFormat('HH:mm') };
}

/** Today's date in the zone, 'YYYY-MM-DD'. */
export function todayIn(timeZone: string, now = new Date()): string {
  return instantToZoned(now, timeZone).date;
}
