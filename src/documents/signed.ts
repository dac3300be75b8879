// A signed proposal's PDF is drawn from what was signed, not from the proposal as
// it is now: the frozen JSON stored with the signature (proposals/revisions.ts),
// followed by a signature page holding the signature and its evidence. While a
// revision is being made, the customer's PDF is the version they asked about.
import type { Db } from '../db/tenancy.js';
import { choiceNoteMessage } from '../lib/line-options.js';
import type { ProposalContent } from '../proposals/queries.js';
import { getOpenChangeRequest, getProposalSignature, parseProposalContent } from '../proposals/revisions.js';

export interface SignaturePage {
  signerName: string;
  method: 'drawn' | 'typed';
  imagePng: Buffer | null;
  signedAt: Date;
  ip: string | null;
  userAgent: string | null;
  contentSha256: string;
  version: number;
}

/** How a frozen line counts, as choiceNoteMessage() reads it (only optional lines and alternatives carry these). */
const choiceOf = (i: ProposalContent['items'][number]) => ({
  optional: i.optional ?? false,
  group_label: i.group_label ?? null,
  selected: i.selected ?? true,
});

/**
 * A frozen version's content in the PDF's fields. What was signed lists only the
 * chosen lines: an optional line or alternative the customer didn't choose is not
 * part of what they signed for. A version asked about is shown as it was offered:
 * every line, each option saying how it counts, as on the pending proposal's PDF.
 */
function documentFields(content: ProposalContent, signed: boolean) {
  return {
    number: content.number,
    title: content.title,
    dueDate: content.valid_until,
    message: content.customer_message,
    lines: content.items
      .filter((i) => !signed || i.selected !== false)
      .map((i) => {
        return {
          service: i.service,
          description: i.description,
          note: signed ? null : choiceNoteMessage(choiceOf(i), false),
          quantity: Number(i.quantity),
          unit_price_cents: i.unit_price_cents,
          amount_cents: i.amount_cents,
        };
      }),
    subtotalCents: content.subtotal_cents,
    taxCents: content.tax_cents,
    taxRateBps: content.tax_rate_bps,
    totalCents: content.total_cents,
  };
}

/**
 * What a proposal's PDF shows instead of the live proposal, or null: once signed,
 * what was signed with its signature page; for the customer while the business
 * revises, the version they asked to change (the business sees its edit).
 */
export async function frozenProposalContent(db: Db, proposalId: string, forCustomer: boolean) {
  const signature = await getProposalSignature(db, proposalId);
  if (!signature) {
    const asked = forCustomer ? await getOpenChangeRequest(db, proposalId) : null;
    return asked ? documentFields(parseProposalContent(asked.content_json), false) : null;
  }
  return {
    ...documentFields(parseProposalContent(signature.content_json), true),
    signature: {
      signerName: signature.signer_name,
      method: signature.method,
      imagePng: signature.image_png,
      signedAt: signature.signed_at,
      ip: signature.ip,
      userAgent: signature.user_agent,
      contentSha256: signature.content_sha256,
      version: signature.version,
    } satisfies SignaturePage,
  };
}
