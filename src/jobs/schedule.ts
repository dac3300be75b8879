// The week schedule: the business's jobs laid out day by day in its own time zone,
// the week starting on the day its locale starts one (Sunday in the US and Mexico,
// Monday in most of Europe). A visit belongs to the day it starts on there, so a
// late-evening job never slides into the next day, and a week that crosses a
// daylight-saving change still runs from one local midnight to the next.
import { DateTime } from 'luxon';
import type { Db } from '../db/tenancy.js';
import { addDays, formatArrivalWindow, instantToZoned, todayIn } from '../lib/dates.js';
import { cachedFormatter } from '../lib/intl.js';
import { countJobsToSchedule, listJobsBetween, type JobListRow } from './queries.js';

/** More jobs than this in one week are not laid out (the page says so): far beyond a small business's week. */
const WEEK_LIMIT = 500;

interface ScheduleJob extends JobListRow {
  /** When the visit starts, as the arrival window the customer was given ("9:00 – 11:00 AM"). */
  window: string;
}

interface ScheduleDay {
  /** 'YYYY-MM-DD' in the business's zone. */
  date: string;
  label: string;
  isToday: boolean;
  jobs: ScheduleJob[];
}

export interface WeekSchedule {
  start: string;
  previous: string;
  next: string;
  /** "Nov 29 – Dec 5, 2026", in the business's language. */
  range: string;
  isThisWeek: boolean;
  days: ScheduleDay[];
  toSchedule: number;
  /** True when the week held more than WEEK_LIMIT jobs and only the first were laid out. */
  cut: boolean;
}

/** The weekday a locale's week starts on, 1 (Monday) to 7 (Sunday); Monday when the runtime can't say. */
function firstDayOfWeek(locale: string): number {
  try {
    const info = (new Intl.Locale(locale) as Intl.Locale & { weekInfo?: { firstDay?: number } }).weekInfo;
    return info?.firstDay ?? 1;
  } catch {
    return 1;
  }
}

/** The first day of the week `day` falls in, for readers of `locale`. */
export function weekStart(day: string, locale: string): string {
  const weekday = DateTime.fromISO(day, { zone: 'UTC' }).weekday;
  return addDays(day, -((weekday - firstDayOfWeek(locale) + 7) % 7));
}

/** A calendar day's noon in UTC: formatting it in UTC names that day whatever the zone. */
const noonOf = (day: string) => new Date(`${day}T12:00:00Z`);

function dayLabel(day: string, locale: string): string {
  const format = cachedFormatter(
    // i18n-exempt: a cache key
    `schedule-day|${locale}`,
    () => new Intl.DateTimeFormat(locale, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' }),
  );
  return format.format(noonOf(day));
}

function rangeLabel(first: string, last: string, locale: string): string {
  const format = cachedFormatter(
    // i18n-exempt: a cache key
    `schedule-range|${locale}`,
    () => new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' }),
  );
  return format.formatRange(noonOf(first), noonOf(last));
}

/** The local midnight that starts `day` in `zone` (a zone whose clocks skip midnight starts the day at 01:00). */
const startOfDay = (day: string, zone: string) => DateTime.fromISO(day, { zone }).startOf('day').toJSDate();

/** The week holding `day` (today when none), its jobs by day, and how many jobs still wait for a date. */
export async function weekSchedule(
  db: Db,
  business: { timeZone: string; locale: string },
  day: string | undefined,
  now = new Date(),
): Promise<WeekSchedule> {
  const { timeZone, locale } = business;
  const today = todayIn(timeZone, now);
  const start = weekStart(day ?? today, locale);
  const end = addDays(start, 7);
  const found = await listJobsBetween(db, startOfDay(start, timeZone), startOfDay(end, timeZone), WEEK_LIMIT + 1);
  const days: ScheduleDay[] = Array.from({ length: 7 }, (_, i) => addDays(start, i)).map((date) => ({
    date,
    label: dayLabel(date, locale),
    isToday: date === today,
    jobs: [],
  }));
  const byDate = new Map(days.map((d) => [d.date, d]));
  for (const job of found.slice(0, WEEK_LIMIT)) {
    const startsAt = job.scheduled_at as Date;
    byDate.get(instantToZoned(startsAt, timeZone).date)?.jobs.push({
      ...job,
      window: formatArrivalWindow(startsAt, job.arrival_window_minutes, timeZone, locale)?.window ?? '',
    });
  }
  return {
    start,
    previous: addDays(start, -7),
    next: end,
    range: rangeLabel(start, addDays(start, 6), locale),
    isThisWeek: start === weekStart(today, locale),
    days,
    toSchedule: await countJobsToSchedule(db),
    cut: found.length > WEEK_LIMIT,
  };
}
