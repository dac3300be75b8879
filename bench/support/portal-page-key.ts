// How bench/portal.ts files the pages the "memory" app answers portal_page() with:
// view, id and page number, that function's 2nd to 4th arguments (src/db/portal-page.ts).
export function pageKey(bindings: readonly unknown[] | undefined): string {
  return [bindings?.[1], bindings?.[2] ?? '', bindings?.[3]].map(String).join('|');
}
