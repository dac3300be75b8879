// One row in every tenant table for an org, so the RLS suite can try to reach
// it from elsewhere. A new tenant table needs a row here, or that suite fails.
import crypto from 'node:crypto';
import { withOrg } from '../../src/db/tenancy.js';

type IdRow = { id: string };

const sha = () => crypto.randomBytes(32).toString('hex');

export async function seedEveryTenantTable(orgId: string, userId: string): Promise<void> {
  await withOrg(orgId, async (db) => {
    const [lead] = await db('leads').insert({ org_id: orgId, first_name: 'Rowan', last_name: 'Fixture' }).returning<IdRow[]>('id');
    const [property] = await db('properties')
      .insert({ org_id: orgId, lead_id: lead.id, label: 'Elm St', address: '1 Elm St' })
      .returning<IdRow[]>('id');
    const [proposal] = await db('proposals')
      .insert({
        org_id: orgId,
        lead_id: lead.id,
        property_id: property.id,
        number: 1,
        title: 'Gutters',
        subtotal_cents: 1000,
        tax_cents: 0,
        total_cents: 1000,
      })
      .returning<IdRow[]>('id');
    await db('proposal_items').insert({
      org_id: orgId,
      proposal_id: proposal.id,
      position: 0,
      service: 'Gutter',
      quantity: 1,
      unit_price_cents: 1000,
      amount_cents: 1000,
    });
    await db('proposal_versions').insert({
      org_id: orgId,
      proposal_id: proposal.id,
      version: 1,
      content_json: '{}',
      content_sha256: sha(),
      change_message: 'Cheaper please',
    });
    await db('proposal_signatures').insert({
      org_id: orgId,
      proposal_id: proposal.id,
      version: 2,
      signer_name: 'Rowan Fixture',
      method: 'typed',
      content_json: '{}',
      content_sha256: sha(),
    });
    const [job] = await db('jobs')
      .insert({ org_id: orgId, lead_id: lead.id, proposal_id: proposal.id, service_type: 'Gutter install' })
      .returning<IdRow[]>('id');
    const [invoice] = await db('invoices')
      .insert({
        org_id: orgId,
        lead_id: lead.id,
        job_id: job.id,
        number: 1,
        currency: 'USD',
        issue_date: '2026-11-01',
        due_date: '2026-11-15',
        subtotal_cents: 1000,
        total_cents: 1000,
        status: 'open',
      })
      .returning<IdRow[]>('id');
    await db('invoice_items').insert({
      org_id: orgId,
      invoice_id: invoice.id,
      position: 0,
      service: 'Gutter',
      quantity: 1,
      unit_price_cents: 1000,
      amount_cents: 1000,
    });
    await db('payments').insert({
      org_id: orgId,
      lead_id: lead.id,
      invoice_id: invoice.id,
      amount_cents: 500,
      currency: 'USD',
      method: 'cash',
    });
    const [link] = await db('portal_links')
      .insert({ org_id: orgId, lead_id: lead.id, token_sha256: sha(), token_ciphertext: 'x' })
      .returning<IdRow[]>('id');
    await db('portal_visits').insert({ org_id: orgId, link_id: link.id, lead_id: lead.id, view: 'history', device: 'iPhone' });
    const [request] = await db('work_requests')
      .insert({ org_id: orgId, lead_id: lead.id, portal_link_id: link.id, job_id: job.id, kind: 'reschedule', description: 'Another day?' })
      .returning<IdRow[]>('id');
    await db('work_request_photos').insert({
      org_id: orgId,
      request_id: request.id,
      position: 0,
      content_type: 'image/jpeg',
      width: 1,
      height: 1,
      sha256: sha(),
      bytes: Buffer.from([0]),
    });
    await db('message_deliveries').insert({
      org_id: orgId,
      lead_id: lead.id,
      portal_link_id: link.id,
      channel: 'sms',
      to_address: '+15555550100',
      body_text: 'hi',
    });
    await db('message_templates').insert({ org_id: orgId, channel: 'sms', context: 'general', body: 'Hi {{firstName}}' });
    await db('stripe_events').insert({ id: `evt_${sha().slice(0, 24)}`, org_id: orgId, type: 'payment_intent.succeeded', created: 1 });
    await db('audit_events').insert({ org_id: orgId, actor_type: 'system', action: 'fixture.created' });
    await db('org_counters').insert({ org_id: orgId, name: 'invoice', last_value: 1 });
    await db('invitations').insert({
      org_id: orgId,
      email: `invitee-${sha().slice(0, 8)}@example.test`,
      token_sha256: sha(),
      invited_by: userId,
      expires_at: db.raw("now() + interval '7 days'"),
    });
    await db('password_resets').insert({
      org_id: orgId,
      user_id: userId,
      token_sha256: sha(),
      expires_at: db.raw("now() + interval '1 hour'"),
    });
    await db('org_logos').insert({ org_id: orgId, sha256: sha(), content_type: 'image/png', width: 1, height: 1, bytes: Buffer.from([0]) });
    const [attempt] = await db('checkout_sessions')
      .insert({
        org_id: orgId,
        invoice_id: invoice.id,
        lead_id: lead.id,
        stripe_checkout_session_id: `cs_${sha().slice(0, 24)}`,
        amount_cents: 500,
        currency: 'USD',
      })
      .returning<IdRow[]>('id');
    await db('checkout_session_invoices').insert({
      org_id: orgId,
      checkout_session_id: attempt.id,
      invoice_id: invoice.id,
      position: 0,
      amount_cents: 500,
    });
    await db('checkout_returns').insert({
      org_id: orgId,
      checkout_session_id: attempt.id,
      portal_link_id: link.id,
      invoice_id: invoice.id,
      outcome: 'completed',
      code_sha256: sha(),
      expires_at: db.raw("now() + interval '1 day'"),
    });
    await db('stripe_unapplied_payments').insert({
      org_id: orgId,
      stripe_payment_intent_id: `pi_${sha().slice(0, 24)}`,
      invoice_id: invoice.id,
      invoice_number: 1,
      amount_cents: 500,
      currency: 'USD',
      reason: 'void',
      paid_at: db.fn.now(),
    });
    await db('followup_rules').insert({ org_id: orgId, rule: 'invoice_overdue_1', enabled: true, days: 1 });
    await db('followup_sends').insert({
      org_id: orgId,
      rule: 'invoice_overdue_1',
      document_id: invoice.id,
      lead_id: lead.id,
      local_day: '2026-11-16',
      delivery_id: link.id,
    });
    await db('stripe_customers').insert({
      org_id: orgId,
      lead_id: lead.id,
      stripe_account_id: `acct_${sha().slice(0, 16)}`,
      stripe_customer_id: `cus_${sha().slice(0, 16)}`,
      payment_method_id: `pm_${sha().slice(0, 16)}`,
      card_brand: 'visa',
      card_last4: '4242',
      card_exp_month: 12,
      card_exp_year: 2034,
      autopay_enabled_at: db.fn.now(),
      autopay_link_id: link.id,
    });
    await db('autopay_attempts').insert({
      org_id: orgId,
      invoice_id: invoice.id,
      lead_id: lead.id,
      attempt_day: '2026-11-16',
      idempotency_key: `autopay-${invoice.id}-20261116`,
      stripe_account_id: `acct_${sha().slice(0, 16)}`,
      stripe_customer_id: `cus_${sha().slice(0, 16)}`,
      payment_method_id: `pm_${sha().slice(0, 16)}`,
      amount_cents: 500,
      currency: 'USD',
      status: 'failed',
      failure_code: 'card_declined',
    });
  });
}
