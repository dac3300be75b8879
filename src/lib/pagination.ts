// One way to page a list: a window of rows for the query, and the links around the page.
// Lists that count their rows say "Page 2 of 7"; the others fetch one row more than they
// show to learn whether a next page exists.

const LIST_PAGE_SIZE = 50;

export interface Pagination {
  page: number;
  /** Known when the list was counted. */
  pages: number | null;
  prev: string | null;
  next: string | null;
}

/** Limit and offset for a page; one row more than shown tells whether a next page exists. */
export function pageWindow(page: number, pageSize = LIST_PAGE_SIZE): { limit: number; offset: number } {
  return { limit: pageSize + 1, offset: (page - 1) * pageSize };
}

function urlFor(path: string, filters: Record<string, string>, page: number): string {
  return `${path}?${new URLSearchParams({ ...filters, page: String(page) }).toString()}`;
}

/** The rows to show (fetched with pageWindow) and the links around them, keeping the list's filters. */
export function pageOf<T>(
  rows: T[],
  page: number,
  path: string,
  filters: Record<string, string> = {},
  pageSize = LIST_PAGE_SIZE,
): { rows: T[]; pagination: Pagination | null } {
  const hasNext = rows.length > pageSize;
  return { rows: rows.slice(0, pageSize), pagination: links(page, hasNext, null, path, filters) };
}

/** Links for a counted list of `total` rows. */
export function countedPagination(
  total: number,
  page: number,
  path: string,
  filters: Record<string, string> = {},
  pageSize = LIST_PAGE_SIZE,
): Pagination | null {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return links(page, page < pages, pages, path, filters);
}

function links(page: number, hasNext: boolean, pages: number | null, path: string, filters: Record<string, string>): Pagination | null {
  if (page <= 1 && !hasNext) return null;
  return {
    page,
    pages,
    prev: page > 1 ? urlFor(path, filters, page - 1) : null,
    next: hasNext ? urlFor(path, filters, page + 1) : null,
  };
}

/** Options of a status filter: "All", then each status; labels are messages (src/i18n) the select translates. */
export function statusFilterOptions(statuses: readonly string[]): { value: string; label: string }[] {
  return [{ value: '', label: 'common:all' }, ...statuses.map((s) => ({ value: s, label: `common:status.${s}` }))];
}

/** A job's status as shown: a scheduled job with no date yet (e.g. made by an approval) is "to schedule". */
export function jobStatusShown(job: { status: string; scheduled_at?: Date | string | null }): string {
  return job.status === 'scheduled' && !job.scheduled_at ? 'to_schedule' : job.status;
}

/** "partially_paid" → "partially paid". */
export function humanize(value: unknown): string {
  return typeof value === 'string' ? value.replace(/_/g, ' ') : '';
}
