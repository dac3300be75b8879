// A signed proposal's PDF is drawn from what was signed, not from the proposal as
// it is now: the frozen JSON stored with the signature (proposals/revisions.ts),
// followed by a signature page holding the signature and its evidence.
import type { Db } from '../db/tenancy.js';
import { getProposalSignature, parseProposalContent } from '../proposals/revisions.js';

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

/** What a signed proposal's PDF shows instead of the live proposal, with its signature page; null if never signed. */
export async function signedProposalContent(db: Db, proposalId: string) {
  const signature = await getProposalSignature(db, proposalId);
  if (!signature) return null;
  const signed = parseProposalContent(signature.content_json);
  return {
    number: signed.number,
    title: signed.title,
    dueDate: signed.valid_until,
    message: signed.customer_message,
    lines: signed.items.map((i) => ({
      service: i.service,
      description: i.description,
      quantity: Number(i.quantity),
      unit_price_cents: i.unit_price_cents,
      amount_cents: i.amount_cents,
    })),
    subtotalCents: signed.subtotal_cents,
    taxCents: signed.tax_cents,
    taxRateBps: signed.tax_rate_bps,
    totalCents: signed.total_cents,
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
