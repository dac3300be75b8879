// The week schedule: the business's jobs laid out day by day in its own time zone,
// the week starting on the day its locale starts one (Sunday in the US and Mexico,
// Monday in most of Europe). A visit belongs to the day it starts on there, so a
// late-evening job never slides into the next day, and a week that crosses a
// daylight-saving change still runs from one local midnight to the next.
import { DateTime } from 'luxon';
import type { Db } from '../db/tenancy.js';
import { addDays, formatArrivalWindow, instantToZoned, isoDate, todayIn } from '../lib/dates.js';
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
  /** The weeks before and after, as a ?week= day; null past the days one can name. */
  previous: string | null;
  next: string | null;
  /** "Nov 29 – Dec 5, 2026", in the business's language. */
  range: string;
  isThisWeek: boolean;
  days: ScheduleDay[];
  toSchedule: number;
  /** True when the week held more than WEEK_LIMIT jobs and only the first were laid out. */
  cut: boolean;
}

/**
 * The weekday a business's week starts on, 1 (Monday) to 7 (Sunday), from its locale's region (en-US →
 * Sunday, es-ES → Monday). Newer runtimes give the week info through getWeekInfo(), Node 20 through the
 * weekInfo getter; Monday (ISO) when neither is there.
 */
function firstDayOfWeek(locale: string): number {
  try {
    type WeekInfo = { firstDay?: number };
    const region = new Intl.Locale(locale).maximize() as Intl.Locale & { getWeekInfo?: () => WeekInfo; weekInfo?: WeekInfo };
    return (region.getWeekInfo?.() ?? region.weekInfo)?.firstDay ?? 1;
  } catch {
    return 1;
  }
}

/** The first day of the week `day` falls in, for a business of `locale`. */
export function weekStart(day: string, locale: string): string {
  const weekday = DateTime.fromISO(day, { zone: 'UTC' }).weekday;
  return addDays(day, -((weekday - firstDayOfWeek(locale) + 7) % 7));
}

const within = (day: string): string | null => (isoDate.safeParse(day).success ? day : null);

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
  business: { timeZone: string; locale: string; weekLocale: string },
  day: string | undefined,
  now = new Date(),
): Promise<WeekSchedule> {
  const { timeZone, locale, weekLocale } = business;
  const today = todayIn(timeZone, now);
  const start = weekStart(day ?? today, weekLocale);
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
    // No way out of the days a ?week= can name (isoDate: 2000 to 2100).
    previous: within(addDays(start, -7)),
    next: within(end),
    range: rangeLabel(start, addDays(start, 6), locale),
    isThisWeek: start === weekStart(today, weekLocale),
    days,
    toSchedule: await countJobsToSchedule(db),
    cut: found.length > WEEK_LIMIT,
  };
}
