// The portal's view of a proposal's versions and signature: earlier versions the
// customer asked to change (readable, marked superseded once the revision went
// out) and, on the version page, one of them rebuilt from its frozen JSON.
import type { PortalPageData, PortalProposalVersion } from '../db/portal-page.js';
import { choiceNoteMessage } from '../lib/line-options.js';
import type { ProposalContent } from '../proposals/queries.js';

type ProposalDetail = Extract<PortalPageData, { tab: 'proposal' }>['data'] & object;

export function findVersion(page: PortalPageData, version: number): PortalProposalVersion | undefined {
  return page.tab === 'proposal' && page.data ? page.data.versions.find((v) => v.version === version) : undefined;
}

export function proposalRevisionLocals(proposal: ProposalDetail, onlineApproval: boolean, version?: number): Record<string, unknown> {
  const changeRequest = proposal.status === 'changes_requested' ? proposal.versions.find((v) => v.version === proposal.version) : undefined;
  const locals: Record<string, unknown> = {
    // Asking for changes is part of answering online: the same plan rule as Approve and Decline.
    canRequestChanges: onlineApproval && proposal.status === 'pending',
    changeRequest: changeRequest ?? null,
    earlierVersions: proposal.versions.filter((v) => v !== changeRequest),
    signature: proposal.signature,
  };
  // While the business revises, the customer keeps seeing the version they asked about, not half-made edits.
  if (changeRequest) locals.proposal = { ...proposal, ...frozen(changeRequest) };
  const shown = version ? proposal.versions.find((v) => v.version === version) : undefined;
  if (shown) locals.snapshot = { ...shown, ...frozen(shown) };
  return locals;
}

/**
 * A frozen version's content, shaped like the live proposal's fields the views read.
 * It was asked about while pending, so every line is listed and each optional line or
 * alternative says how it counted then ("Optional, not included"), as on the pending page.
 */
function frozen(version: PortalProposalVersion) {
  const content = JSON.parse(version.content_json) as ProposalContent;
  return {
    ...content,
    items: content.items.map((i) => ({
      ...i,
      quantity: Number(i.quantity),
      note: choiceNoteMessage({ optional: i.optional ?? false, group_label: i.group_label ?? null, selected: i.selected ?? true }, false),
    })),
  };
}
