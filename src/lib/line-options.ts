// Optional lines and groups of alternatives ("Good / Better / Best") in a
// proposal: which lines count, what the customer may choose, and the totals of a
// choice. One rule for the editor, the portal page (with or without script), the
// approval, the invoice copied from it and the PDF.
import { msg } from '../i18n/index.js';
import { z } from 'zod';
import { FormError } from './errors.js';

/** A document total above this is certainly a typo. */
const MAX_TOTAL_CENTS = 1_000_000_000_00; // 1,000,000,000.00

export interface Totals {
  subtotal_cents: number;
  tax_cents: number;
  total_cents: number;
}

/** Subtotal, tax (half up to the cent) and total of line amounts; BigInt so nothing overflows. */
export function totalsOf(amounts: (number | bigint)[], taxRateBps: number): Totals {
  const subtotal = amounts.reduce<bigint>((sum, a) => sum + BigInt(a), 0n);
  const tax = (subtotal * BigInt(taxRateBps) + 5_000n) / 10_000n;
  const total = subtotal + tax;
  if (total > BigInt(MAX_TOTAL_CENTS)) throw new RangeError('total too large');
  return { subtotal_cents: Number(subtotal), tax_cents: Number(tax), total_cents: Number(total) };
}

interface ChoiceLine {
  id: string;
  optional: boolean;
  group_label: string | null;
  selected: boolean;
  amount_cents: number | string;
}

export const hasChoices = (items: Pick<ChoiceLine, 'optional' | 'group_label'>[]): boolean =>
  items.some((i) => i.optional || i.group_label !== null);

interface ChoiceGroup<T> {
  /** 0, 1, … in the order the groups' first lines appear: the radio buttons' name. */
  index: number;
  label: string;
  items: T[];
}

/** Groups of alternatives, in the order their first line appears. */
export function choiceGroups<T extends Pick<ChoiceLine, 'group_label'>>(items: T[]): ChoiceGroup<T>[] {
  const groups = new Map<string, ChoiceGroup<T>>();
  for (const item of items) {
    if (item.group_label === null) continue;
    let group = groups.get(item.group_label);
    if (!group) groups.set(item.group_label, (group = { index: groups.size, label: item.group_label, items: [] }));
    group.items.push(item);
  }
  return [...groups.values()];
}

/** Form values arrive as one string, a list, or (qs, past its array limit) an object by index. */
function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value as unknown[];
  if (typeof value === 'object' && value) return Object.values(value);
  return [value];
}

const idList = z.preprocess(asList, z.array(z.string().max(64)).max(200));

/** The customer's picks as the portal form posts them: ticked optional lines (`option`) and one alternative per group (`alt[n]`). */
export const choiceForm = z.object({ option: idList, alt: idList });
export type ChoiceInput = z.infer<typeof choiceForm>;

const choiceError = (message: string) => new FormError({ choices: message }, message);

/**
 * The ids of the lines a choice includes: every required line, the ticked
 * optional ones and exactly one alternative per group. Anything else (an id of
 * another proposal, two picks in a group, none) is a FormError on `choices`.
 */
export function resolveChoice(items: ChoiceLine[], input: ChoiceInput): Set<string> {
  const byId = new Map(items.map((i) => [i.id, i]));
  const chosen = new Set(items.filter((i) => !i.optional && i.group_label === null).map((i) => i.id));
  for (const id of input.option) {
    const item = byId.get(id);
    if (!item?.optional) throw choiceError('dashboard:lines.errors.notOptional');
    chosen.add(id);
  }
  const picked = new Map<string, string>();
  for (const id of input.alt) {
    const item = byId.get(id);
    if (!item || item.group_label === null) {
      throw choiceError('dashboard:lines.errors.notAnOption');
    }
    const earlier = picked.get(item.group_label);
    if (earlier !== undefined && earlier !== id) throw choiceError(msg('dashboard:lines.errors.onlyOne', { group: item.group_label }));
    picked.set(item.group_label, id);
    chosen.add(id);
  }
  for (const group of choiceGroups(items)) {
    if (!picked.has(group.label)) throw choiceError(msg('dashboard:lines.errors.chooseOne', { group: group.label }));
  }
  return chosen;
}

/** The contractor's default (or, once approved, the customer's choice). */
export const selectedIds = (items: ChoiceLine[]): Set<string> => new Set(items.filter((i) => i.selected).map((i) => i.id));

/** The totals of a choice: only the chosen lines count. */
export function choiceTotals(items: ChoiceLine[], chosen: Set<string>, taxRateBps: number): Totals {
  return totalsOf(
    items.filter((i) => chosen.has(i.id)).map((i) => BigInt(i.amount_cents)),
    taxRateBps,
  );
}

/**
 * A few words beside a line saying how it counts ("Optional, not included"), or null
 * for a required line: a message (src/i18n) for the page, PDF or email that shows it.
 */
export function choiceNoteMessage(item: Pick<ChoiceLine, 'optional' | 'group_label' | 'selected'>, approved: boolean): string | null {
  if (item.group_label !== null) {
    const group = { group: item.group_label };
    if (approved) return msg(item.selected ? 'dashboard:lines.note.groupChosen' : 'dashboard:lines.note.groupNotChosen', group);
    return msg(item.selected ? 'dashboard:lines.note.groupPreselected' : 'dashboard:lines.note.groupOther', group);
  }
  if (!item.optional) return null;
  if (approved) return item.selected ? 'dashboard:lines.note.optionalChosen' : 'dashboard:lines.note.optionalNotChosen';
  return item.selected ? 'dashboard:lines.note.optionalIncluded' : 'dashboard:lines.note.optionalNotIncluded';
}

// ——— The editor: how the contractor marks a line ———

/** The editor's "Customer choice" select: '' is an ordinary line, always included. */
export const CHOICE_KINDS = ['', 'optional', 'optional_selected', 'alternative', 'alternative_default'] as const;
type ChoiceKind = (typeof CHOICE_KINDS)[number];

export const CHOICE_KIND_LABELS: Record<ChoiceKind, string> = {
  '': 'dashboard:lines.kind.always',
  optional: 'dashboard:lines.kind.optional',
  optional_selected: 'dashboard:lines.kind.optionalSelected',
  alternative: 'dashboard:lines.kind.alternative',
  alternative_default: 'dashboard:lines.kind.alternativeDefault',
};

export interface LineChoice {
  optional: boolean;
  group_label: string | null;
  selected: boolean;
}

/** The kind of a stored line, for the edit form. */
export function choiceKindOf(item: LineChoice): ChoiceKind {
  if (item.group_label !== null) return item.selected ? 'alternative_default' : 'alternative';
  if (item.optional) return item.selected ? 'optional_selected' : 'optional';
  return '';
}

/**
 * The editor's rows → how each line counts, with errors by field path
 * (`items.2.group`). In each group the preselected alternative is the one marked,
 * else the first; a group needs two lines or more.
 */
export function lineChoicesFrom(
  rows: { choice: ChoiceKind; group: string }[],
  addIssue: (path: (string | number)[], message: string) => void,
): LineChoice[] {
  const out = rows.map((row, index): LineChoice => {
    const alternative = row.choice === 'alternative' || row.choice === 'alternative_default';
    if (alternative && !row.group) addIssue([index, 'group'], 'dashboard:lines.errors.groupRequired');
    if (!alternative && row.group) addIssue([index, 'group'], 'dashboard:lines.errors.groupOnlyAlternatives');
    return {
      optional: row.choice === 'optional' || row.choice === 'optional_selected',
      group_label: alternative && row.group ? row.group : null,
      selected: row.choice !== 'optional' && row.choice !== 'alternative',
    };
  });
  for (const group of choiceGroups(out.map((line, index) => ({ ...line, index })))) {
    if (group.items.length < 2)
      addIssue([group.items[0].index, 'group'], msg('dashboard:lines.errors.twoAlternatives', { group: group.label }));
    const preselected = group.items.filter((i) => i.selected);
    preselected
      .slice(1)
      .forEach((i) => addIssue([i.index, 'choice'], msg('dashboard:lines.errors.onePreselected', { group: group.label })));
    if (preselected.length === 0) out[group.items[0].index].selected = true;
  }
  return out;
}
