// Paged admin lists: the page size, the status filter's options and prev/next links.

export const LIST_PAGE_SIZE = 50;

/** Limit and offset for a page; one row more than shown tells whether a next page exists. */
export function pageWindow(page: number): { limit: number; offset: number } {
  return { limit: LIST_PAGE_SIZE + 1, offset: (page - 1) * LIST_PAGE_SIZE };
}

/** The rows to show and the links around them, keeping the list's filters in the URLs. */
export function pageOf<T>(rows: T[], page: number, path: string, filters: Record<string, string> = {}) {
  const url = (n: number) => `${path}?${new URLSearchParams({ ...filters, page: String(n) }).toString()}`;
  return {
    rows: rows.slice(0, LIST_PAGE_SIZE),
    prevUrl: page > 1 ? url(page - 1) : null,
    nextUrl: rows.length > LIST_PAGE_SIZE ? url(page + 1) : null,
  };
}

/** Options of a status filter: "All", then each status in words. */
export function statusFilterOptions(statuses: readonly string[]): { value: string; label: string }[] {
  return [{ value: '', label: 'All' }, ...statuses.map((s) => ({ value: s, label: s.replace(/_/g, ' ') }))];
}
