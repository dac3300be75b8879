// The automatic follow-up rules (issue #15 point 5): names, what each means and
// its default number of days. The SQL that decides when each is due lives in
// followup_schedule() (migrations/20261206000000_receipts_followups.ts).
export const FOLLOWUP_RULES = [
  'proposal_not_opened',
  'proposal_not_decided',
  'invoice_due_soon',
  'invoice_overdue_1',
  'invoice_overdue_2',
  'invoice_overdue_3',
] as const;
export type FollowupRule = (typeof FOLLOWUP_RULES)[number];

export interface FollowupRuleInfo {
  rule: FollowupRule;
  document: 'proposal' | 'invoice';
  /** Settings label: a catalogue key whose `.before` and `.after` entries go either side of the days. */
  label: string;
  /** Short form for the "next follow-up" line on a document page: a catalogue key. */
  short: string;
  defaultDays: number;
}

export const FOLLOWUP_RULE_INFO: Record<FollowupRule, FollowupRuleInfo> = {
  proposal_not_opened: {
    rule: 'proposal_not_opened',
    document: 'proposal',
    label: 'messages:rules.proposal_not_opened',
    short: 'messages:rules.proposal_not_opened.short',
    defaultDays: 3,
  },
  proposal_not_decided: {
    rule: 'proposal_not_decided',
    document: 'proposal',
    label: 'messages:rules.proposal_not_decided',
    short: 'messages:rules.proposal_not_decided.short',
    defaultDays: 5,
  },
  invoice_due_soon: {
    rule: 'invoice_due_soon',
    document: 'invoice',
    label: 'messages:rules.invoice_due_soon',
    short: 'messages:rules.invoice_due_soon.short',
    defaultDays: 3,
  },
  invoice_overdue_1: {
    rule: 'invoice_overdue_1',
    document: 'invoice',
    label: 'messages:rules.invoice_overdue_1',
    short: 'messages:rules.invoice_overdue_1.short',
    defaultDays: 1,
  },
  invoice_overdue_2: {
    rule: 'invoice_overdue_2',
    document: 'invoice',
    label: 'messages:rules.invoice_overdue_2',
    short: 'messages:rules.invoice_overdue_2.short',
    defaultDays: 7,
  },
  invoice_overdue_3: {
    rule: 'invoice_overdue_3',
    document: 'invoice',
    label: 'messages:rules.invoice_overdue_3',
    short: 'messages:rules.invoice_overdue_3.short',
    defaultDays: 14,
  },
};

/** Quiet hours in the org's time zone: nothing goes out from QUIET_FROM:00 until QUIET_UNTIL:00. */
export const QUIET_FROM_HOUR = 20;
export const QUIET_UNTIL_HOUR = 8;
