// Handlebars setup: layouts, partials and the helpers every page may use.
import path from 'node:path';
import type { Express } from 'express';
import { engine } from 'express-handlebars';
import type { HelperOptions } from 'handlebars';
import { formatDate, formatDateTime } from '../lib/dates.js';
import { formatMoney, moneyInputValue } from '../lib/money.js';
import { humanize, jobStatusShown, statusLabel } from '../lib/pagination.js';
import { viewsDir } from '../paths.js';

interface OrgLike {
  currency?: string;
  locale?: string;
  time_zone?: string;
}

function rootOrg(options: HelperOptions): OrgLike {
  const root = (options.data as { root?: { org?: OrgLike } } | undefined)?.root;
  return root?.org ?? {};
}

/** Last argument of a helper is Handlebars' options object. */
function split(args: unknown[]): { values: unknown[]; options: HelperOptions } {
  return { values: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

const helpers = {
  money(...args: unknown[]) {
    const { values, options } = split(args);
    const org = rootOrg(options);
    const currency = (values[1] as string | undefined) ?? org.currency ?? 'USD';
    return formatMoney(Number(values[0] ?? 0), currency, org.locale ?? 'en-US');
  },
  moneyInput(...args: unknown[]) {
    const { values, options } = split(args);
    if (values[0] === null || values[0] === undefined || values[0] === '') return '';
    return moneyInputValue(Number(values[0]), (values[1] as string | undefined) ?? rootOrg(options).currency ?? 'USD');
  },
  date(...args: unknown[]) {
    const { values, options } = split(args);
    const org = rootOrg(options);
    return formatDate(values[0] as string | Date | null, org.time_zone, org.locale);
  },
  datetime(...args: unknown[]) {
    const { values, options } = split(args);
    const org = rootOrg(options);
    return formatDateTime(values[0] as string | Date | null, org.time_zone, org.locale);
  },
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  gt: (a: unknown, b: unknown) => Number(a) > Number(b),
  and: (...args: unknown[]) => split(args).values.every(Boolean),
  or: (...args: unknown[]) => split(args).values.some(Boolean),
  not: (a: unknown) => !a,
  /** "proposal_sent" → "proposal sent" for status badges. */
  humanize,
  statusWords: statusLabel,
  /** Whether a checklist still has a step to do. */
  checklistOpen: (steps: { done: boolean }[] | undefined) => Array.isArray(steps) && steps.some((s) => !s.done),
  jobStatus: (job: { status: string; scheduled_at?: Date | string | null }) => jobStatusShown(job),
  /** "1 open invoice", "3 open invoices": never "invoice(s)". */
  plural(...args: unknown[]) {
    const [count, one, many] = split(args).values as [number | string, string, string];
    return `${Number(count)} ${Number(count) === 1 ? one : many}`;
  },
  /** The session's CSRF token for a form; asking for it is what gives an anonymous visitor a session. */
  csrfToken(options: HelperOptions): string {
    const root = (options.data as { root?: { issueCsrfToken?: () => string } } | undefined)?.root;
    return root?.issueCsrfToken?.() ?? '';
  },
  /** Whether the page being rendered is in the navigation section `href` (for aria-current). */
  navIs(href: string, options: HelperOptions): boolean {
    const current = (options.data as { root?: { requestPath?: string } } | undefined)?.root?.requestPath ?? '';
    return href === '/' ? current === '/' : current === href || current.startsWith(`${href}/`);
  },
  /** The message for a form field, from an `errors` object. */
  fieldError: (errors: Record<string, string> | undefined, field: string) => errors?.[field],
};

export function setupViews(app: Express): void {
  const render = engine({
    extname: '.hbs',
    defaultLayout: 'admin',
    layoutsDir: path.join(viewsDir, 'layouts'),
    partialsDir: path.join(viewsDir, 'partials'),
    helpers,
  });
  // express-handlebars reports through the callback as well as the promise it returns.
  app.engine('hbs', (file, options, callback) => void render(file, options, callback));
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);
}
