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
  /** Settings label, with "N" standing for the days. */
  label: string;
  /** Short form for the "next follow-up" line on a document page. */
  short: string;
  defaultDays: number;
}

export const FOLLOWUP_RULE_INFO: Record<FollowupRule, FollowupRuleInfo> = {
  proposal_not_opened: {
    rule: 'proposal_not_opened',
    document: 'proposal',
    label: 'Proposal not opened after N days',
    short: 'reminder that the proposal is waiting (not opened yet)',
    defaultDays: 3,
  },
  proposal_not_decided: {
    rule: 'proposal_not_decided',
    document: 'proposal',
    label: 'Proposal opened but not approved or declined N days after it was sent',
    short: 'check-in on the proposal (opened, not decided)',
    defaultDays: 5,
  },
  invoice_due_soon: {
    rule: 'invoice_due_soon',
    document: 'invoice',
    label: 'Invoice due in N days',
    short: 'reminder that the invoice is due soon',
    defaultDays: 3,
  },
  invoice_overdue_1: {
    rule: 'invoice_overdue_1',
    document: 'invoice',
    label: 'Invoice overdue by N days (first reminder)',
    short: 'first overdue reminder',
    defaultDays: 1,
  },
  invoice_overdue_2: {
    rule: 'invoice_overdue_2',
    document: 'invoice',
    label: 'Invoice overdue by N days (second reminder)',
    short: 'second overdue reminder',
    defaultDays: 7,
  },
  invoice_overdue_3: {
    rule: 'invoice_overdue_3',
    document: 'invoice',
    label: 'Invoice overdue by N days (last reminder)',
    short: 'last overdue reminder',
    defaultDays: 14,
  },
};

/** Quiet hours in the org's time zone: nothing goes out from QUIET_FROM:00 until QUIET_UNTIL:00. */
export const QUIET_FROM_HOUR = 20;
export const QUIET_UNTIL_HOUR = 8;
