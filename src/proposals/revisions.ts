// Signed approvals and revisions: the only writer of `proposal_signatures` and
// `proposal_versions`, and of the two status moves around a change request
// (pending → changes_requested → pending, one version later). Both tables hold
// the exact JSON that was hashed (proposalContentJson), so what a customer signed
// or asked to change reads the same whatever happens to the proposal afterwards.
import { msg } from '../i18n/index.js';
import { recordAudit, type Actor } from '../db/audit.js';
import type { ProposalRow, ProposalSignatureRow, ProposalVersionRow } from '../db/rows.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { conflict } from '../lib/errors.js';
import { getProposal, getProposalItems, proposalContentJson, sha256Hex, type ProposalContent } from './queries.js';

export interface ProposalSignatureInput {
  signerName: string;
  /** The re-encoded PNG (normalizeSignature), or null when the typed name is the signature. */
  imagePng: Buffer | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** The content as it is now, under the caller's row lock: its exact JSON and hash. */
async function currentContent(db: Db, proposal: ProposalRow): Promise<{ json: string; sha256: string }> {
  const json = proposalContentJson(proposal, await getProposalItems(db, proposal.id));
  return { json, sha256: sha256Hex(json) };
}

/**
 * Freezes what was just approved with the customer's signature. Called by
 * approveProposal in the approval's transaction, with the proposal still locked,
 * after the approval checked the content the customer was shown
 * (approved_content_sha256) and applied their choice of optional lines and
 * alternatives: the snapshot is what they agreed to, choice and totals included,
 * so its hash differs from the shown content's whenever they chose.
 */
export async function recordProposalSignature(db: Db, proposal: ProposalRow, input: ProposalSignatureInput): Promise<ProposalSignatureRow> {
  const content = await currentContent(db, proposal);
  const [row] = await db('proposal_signatures')
    .insert({
      org_id: currentOrgId(db),
      proposal_id: proposal.id,
      version: proposal.version,
      signer_name: input.signerName.trim().slice(0, 200),
      method: input.imagePng ? 'drawn' : 'typed',
      image_png: input.imagePng,
      ip: input.ip ?? null,
      user_agent: input.userAgent?.slice(0, 500) ?? null,
      content_json: content.json,
      content_sha256: content.sha256,
    })
    .returning<ProposalSignatureRow[]>('*');
  return row;
}

/**
 * Pending → changes_requested: the version the customer saw is frozen with their
 * message. Asking twice (two tabs, a double submit) finds it already asked.
 */
export async function markChangesRequested(
  db: Db,
  proposalId: string,
  input: { message: string; ip?: string | null; userAgent?: string | null },
  actor: Actor,
): Promise<{ proposal: ProposalRow; alreadyDecided: boolean }> {
  const before = await getProposal(db, proposalId, { forUpdate: true });
  if (before.status !== 'pending') return { proposal: before, alreadyDecided: true };
  const content = await currentContent(db, before);
  await db('proposal_versions').insert({
    org_id: currentOrgId(db),
    proposal_id: before.id,
    version: before.version,
    content_json: content.json,
    content_sha256: content.sha256,
    change_message: input.message.trim().slice(0, 2000),
    requested_ip: input.ip ?? null,
    requested_user_agent: input.userAgent?.slice(0, 500) ?? null,
  });
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    .update({ status: 'changes_requested', updated_at: db.fn.now() })
    .returning<ProposalRow[]>('*');
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'proposal.changes_requested',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number: proposal.number, version: proposal.version },
  });
  return { proposal, alreadyDecided: false };
}

/**
 * Changes_requested → pending as the next version: sending the revision
 * supersedes the version the customer asked to change (it stays readable).
 */
export async function markRevisionSent(db: Db, proposalId: string, actor: Actor): Promise<ProposalRow> {
  const before = await getProposal(db, proposalId, { forUpdate: true });
  if (before.status !== 'changes_requested') {
    throw conflict(msg('dashboard:proposal.errors.noRevision', { number: before.number, status: before.status }));
  }
  await db('proposal_versions').where({ proposal_id: before.id, version: before.version }).update({ superseded_at: db.fn.now() });
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    // The revision is unseen until the customer opens it (follow-ups and the Viewed mark read first_viewed_at).
    .update({ status: 'pending', version: before.version + 1, sent_at: db.fn.now(), first_viewed_at: null, updated_at: db.fn.now() })
    .returning<ProposalRow[]>('*');
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'proposal.revision_sent',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number: proposal.number, version: proposal.version },
  });
  return proposal;
}

export async function getProposalSignature(db: Db, proposalId: string): Promise<ProposalSignatureRow | null> {
  return (await db('proposal_signatures').where({ proposal_id: proposalId }).first<ProposalSignatureRow | undefined>()) ?? null;
}

/** The version the customer asked to change, while the revision is not yet sent. */
export async function getOpenChangeRequest(db: Db, proposalId: string): Promise<ProposalVersionRow | null> {
  // i18n-exempt: SQL names
  const row = await db('proposal_versions as v')
    // i18n-exempt: SQL names
    .join('proposals as p', function () {
      this.on('p.id', '=', 'v.proposal_id').andOn('p.version', '=', 'v.version');
    })
    .where({ 'v.proposal_id': proposalId, 'p.status': 'changes_requested' })
    .first<ProposalVersionRow | undefined>('v.*');
  return row ?? null;
}

/** Earlier versions, latest first. */
export async function listProposalVersions(db: Db, proposalId: string): Promise<ProposalVersionRow[]> {
  return db('proposal_versions').where({ proposal_id: proposalId }).orderBy('version', 'desc');
}

/** A stored snapshot's JSON, back as the content it describes. */
export function parseProposalContent(json: string): ProposalContent {
  return JSON.parse(json) as ProposalContent;
}

export interface ChangeRequestListRow {
  id: string;
  number: number;
  title: string;
  lead_first_name: string;
  lead_last_name: string;
  change_message: string;
  requested_at: Date;
}

/** Proposals waiting for a revision, oldest request first (the dashboard home). */
export async function listChangeRequests(db: Db, limit = 10): Promise<ChangeRequestListRow[]> {
  // i18n-exempt: SQL names
  const proposals = db('proposals as p');
  const versions = 'proposal_versions as v'; // i18n-exempt: SQL names
  return proposals
    .join(versions, function () {
      this.on('v.proposal_id', '=', 'p.id').andOn('v.version', '=', 'p.version');
    })
    .join('leads as l', 'l.id', 'p.lead_id') // i18n-exempt: SQL names
    .where('p.status', 'changes_requested')
    .orderBy('v.requested_at', 'asc')
    .limit(limit)
    .select(
      'p.id',
      'p.number',
      'p.title',
      // i18n-exempt: SQL names
      'l.first_name as lead_first_name',
      'l.last_name as lead_last_name', // i18n-exempt: SQL names
      'v.change_message',
      'v.requested_at',
    );
}
