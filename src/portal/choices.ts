// A proposal with optional lines or alternatives on the portal page: what the
// customer may tick, what is ticked now, and the totals of that choice, computed
// here with the rule approval uses (lib/line-options.ts). Without script the page
// re-renders with the customer's picks ("Update total"); with script
// public/portal-choices.js follows them live.
import type { ProposalDetail, ProposalLineItem } from '../db/portal-page.js';
import { FormError } from '../lib/errors.js';
import {
  choiceGroups,
  choiceNoteMessage,
  choiceTotals,
  hasChoices,
  resolveChoice,
  selectedIds,
  type ChoiceInput,
} from '../lib/line-options.js';

type Shown = ProposalLineItem & { checked: boolean };

/**
 * The picks to show: the submitted ones that are valid, else the preselected
 * line of each group and the optional lines ticked by default. (Approval checks
 * a choice strictly; a page only has to show something sensible.)
 */
function shownChoice(items: ProposalLineItem[], input: ChoiceInput | undefined): Set<string> {
  if (!input) return selectedIds(items);
  const submitted = new Set([...input.option, ...input.alt]);
  const chosen = new Set(items.filter((i) => !i.optional && i.group_label === null).map((i) => i.id));
  for (const item of items) if (item.optional && submitted.has(item.id)) chosen.add(item.id);
  for (const group of choiceGroups(items)) {
    const pick = group.items.find((i) => submitted.has(i.id)) ?? group.items.find((i) => i.selected) ?? group.items[0];
    chosen.add(pick.id);
  }
  return chosen;
}

interface ProposalChoiceLocals {
  /** The proposal with the totals of the choice on screen (and, when not choosing, the lines to list). */
  proposal: ProposalDetail;
  choices?: {
    required: ProposalLineItem[];
    optional: Shown[];
    groups: { index: number; label: string; items: Shown[] }[];
    requiredCents: number;
  };
  /** A submitted choice broke the rules (only a tampered form does): the message, and the page answers 422. */
  choiceError?: string;
}

/**
 * Locals for a proposal's lines. `choosing`: the customer can approve now, so
 * they get the choice form; otherwise the lines are listed, each optional line
 * or alternative saying how it counts (once approved, only the chosen ones).
 */
export function proposalChoiceLocals(proposal: ProposalDetail, input: ChoiceInput | undefined, choosing: boolean): ProposalChoiceLocals {
  const items = proposal.items;
  if (!hasChoices(items)) return { proposal };
  const approved = proposal.status === 'approved';
  if (!choosing) {
    const listed = items.filter((i) => !approved || i.selected).map((i) => ({ ...i, note: choiceNoteMessage(i, approved) }));
    return { proposal: { ...proposal, items: listed } };
  }
  let choiceError: string | undefined;
  if (input) {
    try {
      resolveChoice(items, input);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      choiceError = err.message;
    }
  }
  const chosen = shownChoice(items, input);
  const shown = (i: ProposalLineItem): Shown => ({ ...i, checked: chosen.has(i.id) });
  const required = items.filter((i) => !i.optional && i.group_label === null);
  return {
    proposal: { ...proposal, ...choiceTotals(items, chosen, proposal.tax_rate_bps) },
    choices: {
      required,
      optional: items.filter((i) => i.optional).map(shown),
      groups: choiceGroups(items).map((g) => ({ ...g, items: g.items.map(shown) })),
      requiredCents: required.reduce((sum, i) => sum + Number(i.amount_cents), 0),
    },
    choiceError,
  };
}
