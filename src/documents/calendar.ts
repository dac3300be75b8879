// An upcoming visit as an iCalendar file (ical-generator), in the org's time zone
// with its VTIMEZONE. Times go in as luxon DateTimes already in that zone: a native
// Date would be written in the server process's wall clock (TECH-NOTES-2 §3).
import { getVtimezoneComponent } from '@touch4it/ical-timezones';
import ical from 'ical-generator';
import { DateTime } from 'luxon';
import { customerLanguage, t } from '../i18n/index.js';
import { phoneText } from '../lib/phone.js';
import type { DocumentOrg, UpcomingVisit } from './queries.js';

export function visitFilename(visit: UpcomingVisit): string {
  return `visit-${DateTime.fromJSDate(visit.scheduled_at).toISODate() ?? 'upcoming'}.ics`;
}

/** The visit in the customer's language (stored on them, else the business's), whoever downloads it. */
export function visitCalendar(org: Pick<DocumentOrg, 'name' | 'phone' | 'email' | 'time_zone' | 'locale'>, visit: UpcomingVisit): string {
  const lang = customerLanguage(visit.language, null, org.locale);
  const zone = org.time_zone;
  const start = DateTime.fromJSDate(visit.scheduled_at, { zone });
  const contact = [phoneText(org.phone, org.locale), org.email].filter(Boolean).join(' · ');
  const description = [
    visit.technician ? t(lang, 'documents:calendar.technician', { name: visit.technician }) : null,
    visit.customer_notes ? t(lang, 'documents:calendar.notes', { notes: visit.customer_notes }) : null,
    contact
      ? t(lang, 'documents:calendar.questionsWith', { org: org.name, contact })
      : t(lang, 'documents:calendar.questions', { org: org.name }),
  ]
    .filter(Boolean)
    .join('\n');
  const cal = ical({ name: org.name, prodId: { company: 'Porchlight', product: 'portal', language: lang.toUpperCase() } });
  cal.timezone({ name: zone, generator: getVtimezoneComponent });
  cal.createEvent({
    id: `visit-${visit.id}@porchlight`,
    start,
    // The entry spans the arrival window the customer sees on the portal.
    end: start.plus({ minutes: visit.arrival_window_minutes }),
    timezone: zone,
    summary: t(lang, 'documents:calendar.summary', { service: visit.service_type, org: org.name }),
    description,
    location: visit.address ?? undefined,
    organizer: org.email ? { name: org.name, email: org.email } : undefined,
  });
  // RFC 5545 wants DTSTAMP in UTC ("…Z"); with a calendar time zone set, ical-generator writes it as a
  // floating local time, so the one line is written here.
  const stamp = DateTime.utc().toFormat("yyyyMMdd'T'HHmmss'Z'");
  return cal.toString().replace(/^DTSTAMP:[0-9T]+Z?$/m, `DTSTAMP:${stamp}`);
}
