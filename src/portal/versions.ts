// The portal's view of a proposal's versions and signature: earlier versions the
// customer asked to change (readable, marked superseded once the revision went
// out) and, on the version page, one of them rebuilt from its frozen JSON.
import type { PortalPageData, PortalProposalVersion } from '../db/portal-page.js';
import type { ProposalContent } from '../proposals/queries.js';

type ProposalDetail = Extract<PortalPageData, { tab: 'proposal' }>['data'] & object;

export function findVersion(page: PortalPageData, version: number): PortalProposalVersion | undefined {
  return page.tab === 'proposal' && page.data ? page.data.versions.find((v) => v.version === version) : undefined;
}

export function proposalRevisionLocals(proposal: ProposalDetail, onlineApproval: boolean, version?: number): Record<string, unknown> {
  const locals: Record<string, unknown> = {
    // Asking for changes is part of answering online: the same plan rule as Approve and Decline.
    canRequestChanges: onlineApproval && proposal.status === 'pending',
    changeRequest: proposal.status === 'changes_requested' ? proposal.versions.find((v) => v.version === proposal.version) : null,
    earlierVersions: proposal.versions.filter((v) => v.version !== proposal.version || proposal.status !== 'changes_requested'),
    signature: proposal.signature,
  };
  const shown = version ? proposal.versions.find((v) => v.version === version) : undefined;
  if (shown) {
    const content = JSON.parse(shown.content_json) as ProposalContent;
    locals.snapshot = {
      ...shown,
      ...content,
      items: content.items.map((i) => ({ ...i, quantity: Number(i.quantity) })),
    };
  }
  return locals;
}
