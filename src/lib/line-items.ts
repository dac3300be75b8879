// Line items shared by proposals and invoices: parsing, limits and the totals
// the server computes (a total from the form is never trusted).
import { msg } from '../i18n/index.js';
import type { Knex } from 'knex';
import { z } from 'zod';
import { fieldError } from './errors.js';
import { CHOICE_KINDS, choiceKindOf, lineChoicesFrom, totalsOf, type LineChoice, type Totals } from './line-options.js';
import { moneyInputValue, parseMoneyInput } from './money.js';

const MAX_LINE_ITEMS = 100;
/** numeric(12,2) holds more, but no job is priced on a million units. */
const MAX_QUANTITY_HUNDREDTHS = 100_000_000; // 1,000,000.00
const MAX_UNIT_PRICE_CENTS = 100_000_000_00; // 100,000,000.00 in minor units

export interface LineItemInput {
  service: string;
  description: string;
  /** Quantity in hundredths (1.5 → 150), to avoid floats. */
  quantity_hundredths: number;
  unit_price_cents: number;
  /** Proposals only (line-options.ts): how the line counts; absent = always included. */
  choice?: LineChoice;
}

export interface ComputedLineItem extends LineItemInput {
  position: number;
  quantity: string;
  amount_cents: number;
}

/** "2", "1.5", "1,000.25" → hundredths; null when it isn't a quantity. */
function parseQuantity(text: string): number | null {
  const cleaned = text.replace(/[\s,]/g, '');
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(cleaned)) return null;
  const [whole, fraction = ''] = cleaned.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

function quantityText(hundredths: number): string {
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** Parses the percentage typed in a form ("8.25") into basis points (825). */
function parseTaxRate(text: string): number | null {
  const cleaned = text.trim().replace(/%$/, '').trim();
  if (cleaned === '') return 0;
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(cleaned)) return null;
  const [whole, fraction = ''] = cleaned.split('.');
  const bps = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  return bps <= 10_000 ? bps : null;
}

export function taxRateText(bps: number): string {
  return bps % 100 === 0 ? String(bps / 100) : (bps / 100).toFixed(2).replace(/0$/, '');
}

/** Form arrays arrive as objects when indices pass qs's arrayLimit; order them by index. */
function asRows(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([k]) => /^\d+$/.test(k))
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, v]) => v);
  }
  return [];
}

const isBlankRow = (row: unknown): boolean =>
  !row || typeof row !== 'object' || Object.values(row as Record<string, unknown>).every((v) => typeof v !== 'string' || v.trim() === '');

/** The proposal editor's "Customer choice" and "Group" fields of a line. */
const choiceFields = {
  choice: z.enum(CHOICE_KINDS, { error: 'dashboard:lines.errors.choice' }).default(''),
  group: z
    .string()
    .trim()
    .max(100, msg('dashboard:form.atMost', { max: 100 }))
    .default(''),
};

function lineItemSchema(currency: string) {
  return z.object({
    service: z
      .string()
      .trim()
      .min(1, 'dashboard:lines.errors.serviceRequired')
      .max(200, msg('dashboard:form.atMost', { max: 200 })),
    description: z.string().trim().max(2000, 'dashboard:form.atMost2000').default(''),
    quantity: z
      .string({ error: 'dashboard:lines.errors.quantityRequired' })
      .trim()
      .min(1, 'dashboard:lines.errors.quantityRequired')
      .transform((text, ctx) => {
        const asNumber = Number(text.replace(/,/g, ''));
        if (Number.isFinite(asNumber) && asNumber > MAX_QUANTITY_HUNDREDTHS / 100) {
          ctx.addIssue({ code: 'custom', message: 'dashboard:lines.errors.quantityTooLarge' });
          return z.NEVER;
        }
        const hundredths = parseQuantity(text);
        if (hundredths === null) {
          ctx.addIssue({ code: 'custom', message: 'dashboard:lines.errors.quantityFormat' });
          return z.NEVER;
        }
        if (hundredths <= 0) {
          ctx.addIssue({ code: 'custom', message: 'dashboard:lines.errors.quantityPositive' });
          return z.NEVER;
        }
        return hundredths;
      }),
    unit_price: z
      .string({ error: 'dashboard:lines.errors.priceRequired' })
      .trim()
      .min(1, 'dashboard:lines.errors.priceRequired')
      .transform((text, ctx) => {
        if (/^-/.test(text)) {
          ctx.addIssue({ code: 'custom', message: 'dashboard:lines.errors.priceNegative' });
          return z.NEVER;
        }
        const cents = parseMoneyInput(text, currency);
        if (cents === null) {
          ctx.addIssue({ code: 'custom', message: 'dashboard:lines.errors.priceFormat' });
          return z.NEVER;
        }
        if (cents > MAX_UNIT_PRICE_CENTS) {
          ctx.addIssue({ code: 'custom', message: 'dashboard:lines.errors.priceTooLarge' });
          return z.NEVER;
        }
        return cents;
      }),
  });
}

/** The `items` field of a proposal or invoice form: blank rows ignored, at least one line. */
export function lineItemsSchema(currency: string) {
  return z.preprocess(
    (value) => (asRows(value) as unknown[]).filter((row) => !isBlankRow(row)),
    z
      .array(lineItemSchema(currency))
      .min(1, 'dashboard:lines.errors.atLeastOne')
      .max(MAX_LINE_ITEMS, msg('dashboard:lines.errors.atMostLines', { max: MAX_LINE_ITEMS }))
      .transform((rows) => rows.map(lineInputOf)),
  );
}

function lineInputOf(r: { service: string; description: string; quantity: number; unit_price: number }): LineItemInput {
  return { service: r.service, description: r.description, quantity_hundredths: r.quantity, unit_price_cents: r.unit_price };
}

/** A proposal's `items`: lines that may also be optional or alternatives (line-options.ts). */
export function proposalLineItemsSchema(currency: string) {
  return z.preprocess(
    // A row with only a choice picked is still blank.
    (value) => (asRows(value) as Record<string, unknown>[]).filter((row) => !isBlankRow({ ...row, choice: '' })),
    z
      .array(lineItemSchema(currency).extend(choiceFields))
      .min(1, 'dashboard:lines.errors.atLeastOne')
      .max(MAX_LINE_ITEMS, msg('dashboard:lines.errors.atMostLines', { max: MAX_LINE_ITEMS }))
      .transform((rows, ctx) => {
        const choices = lineChoicesFrom(rows, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
        return rows.map((r, index): LineItemInput => ({ ...lineInputOf(r), choice: choices[index] }));
      }),
  );
}

/**
 * Amount = quantity × unit price, rounded half up to the cent; BigInt so nothing
 * overflows. The totals count the selected lines; every line together must stay
 * under the limit too, since the customer may choose them all.
 */
function computeLineItems(items: LineItemInput[], taxRateBps: number): { items: ComputedLineItem[]; totals: Totals } {
  const amounts = items.map((item) => (BigInt(item.quantity_hundredths) * BigInt(item.unit_price_cents) + 50n) / 100n);
  const computed = items.map((item, position) => ({
    ...item,
    position,
    quantity: quantityText(item.quantity_hundredths),
    amount_cents: Number(amounts[position]),
  }));
  totalsOf(amounts, taxRateBps);
  return {
    items: computed,
    totals: totalsOf(
      amounts.filter((_, i) => items[i].choice?.selected ?? true),
      taxRateBps,
    ),
  };
}

/** computeLineItems() for a form: a total past the limit is a message on the items field. */
export function computeFormLineItems(items: LineItemInput[], taxRateBps: number): { items: ComputedLineItem[]; totals: Totals } {
  try {
    return computeLineItems(items, taxRateBps);
  } catch {
    throw fieldError('items', 'dashboard:lines.errors.totalTooLarge');
  }
}

/** Row shape for the line-items partial: values and per-field errors, plus blank rows to fill in. */
export interface LineItemFormRow {
  index: number;
  service?: string;
  description?: string;
  quantity?: string;
  unit_price?: string;
  choice?: string;
  group?: string;
  errors: Record<string, string | undefined>;
}

export function lineItemFormRows(values: unknown, errors: Record<string, string> | undefined, blankRows = 3): LineItemFormRow[] {
  const rows = (asRows(values) as Record<string, string>[]).filter((row) => !isBlankRow({ ...row, choice: '' }));
  const out: LineItemFormRow[] = rows.map((row, index) => ({
    index,
    service: row.service,
    description: row.description,
    quantity: row.quantity,
    unit_price: row.unit_price,
    choice: row.choice,
    group: row.group,
    errors: {
      service: errors?.[`items.${index}.service`],
      description: errors?.[`items.${index}.description`],
      quantity: errors?.[`items.${index}.quantity`],
      unit_price: errors?.[`items.${index}.unit_price`],
      choice: errors?.[`items.${index}.choice`],
      group: errors?.[`items.${index}.group`],
    },
  }));
  for (let i = 0; i < blankRows; i++) out.push({ index: out.length, errors: {} });
  return out;
}

/** Computed lines as rows of proposal_items or invoice_items under their parent. */
export function lineItemRows<K extends 'proposal_id' | 'invoice_id'>(
  orgId: string | Knex.Raw,
  parentKey: K,
  parentId: string,
  items: ComputedLineItem[],
) {
  return items.map((i) => ({
    org_id: orgId,
    [parentKey]: parentId,
    position: i.position,
    service: i.service,
    description: i.description,
    quantity: i.quantity,
    unit_price_cents: i.unit_price_cents,
    amount_cents: i.amount_cents,
    ...(i.choice && parentKey === 'proposal_id' ? i.choice : {}),
  }));
}

/** The tax-rate field of a proposal or invoice form, in basis points. */
export const taxRateField = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const bps = parseTaxRate(text ?? '');
    if (bps === null) {
      ctx.addIssue({ code: 'custom', message: 'dashboard:lines.errors.taxRate' });
      return z.NEVER;
    }
    return bps;
  });

/** Stored lines (quantity as '1.50') back into line inputs, e.g. to copy a proposal into an invoice. */
export function lineInputsFrom(
  rows: { service: string; description: string; quantity: string | number; unit_price_cents: number | string }[],
): LineItemInput[] {
  return rows.map((r) => ({
    service: r.service,
    description: r.description,
    quantity_hundredths: parseQuantity(Number(r.quantity).toFixed(2)) ?? 100,
    unit_price_cents: Number(r.unit_price_cents),
  }));
}

/** Stored lines as form values (for an edit form); a proposal's lines also say how they count. */
export function lineFormValuesFrom(
  rows: ({ service: string; description: string; quantity: string; unit_price_cents: number | string } & Partial<LineChoice>)[],
  currency: string,
) {
  return rows.map((i) => ({
    service: i.service,
    description: i.description,
    quantity: i.quantity,
    unit_price: moneyInputValue(Number(i.unit_price_cents), currency),
    ...(i.selected === undefined
      ? {}
      : {
          choice: choiceKindOf({ optional: !!i.optional, group_label: i.group_label ?? null, selected: i.selected }),
          group: i.group_label ?? '',
        }),
  }));
}
