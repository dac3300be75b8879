// Issue 14, point 1: customer messages, receipts, follow-ups and account emails
// in the reader's language, with Spanish money and dates; English unchanged.
import { expect } from 'chai';
import { followupText } from '../../src/db/sql/followups.js';
import { receiptText } from '../../src/db/sql/receipts.js';
import { smsSize } from '../../src/lib/sms.js';
import { renderAccountEmail } from '../../src/mail/account-email.js';
import { CONTEXTS } from '../../src/messaging/schema.js';
import { defaultTemplate, renderMessage } from '../../src/messaging/templates.js';

const LINK = `https://app.porchlight.example/p/${'A'.repeat(43)}`;
const BRAND = { businessName: 'Northwind Gutters & Roofing', brandColor: '#1d4ed8', businessEmail: null, businessPhone: null };
const VARS = {
  firstName: 'Christopher',
  businessName: 'Northwind Gutters & Roofing',
  link: LINK,
  proposalNumber: 10421,
  invoiceNumber: 20871,
};

describe('messages in the customer’s language', () => {
  for (const context of CONTEXTS) {
    it(`the Spanish default ${context} text is one GSM-7 segment, like the English one`, () => {
      const message = renderMessage('sms', defaultTemplate('sms', context, 'es'), VARS, BRAND, 'es');
      const size = smsSize(message.text, 'es');
      expect(size.unicode, message.text).to.equal(false);
      expect(size.segments, message.text).to.equal(1);
      expect(message.text).to.not.match(/\b(Hi|your|is ready|Thanks)\b/);
    });

    it(`the Spanish default ${context} email is Spanish, the English one unchanged`, () => {
      const es = renderMessage('email', defaultTemplate('email', context, 'es'), VARS, BRAND, 'es');
      expect(es.text).to.match(/^Hola Christopher:/);
      expect(es.text).to.contain('Su enlace:');
      expect(es.html).to.contain('Abrir su página de cliente').and.contain('lang="es"').and.contain('Enviado por');
      expect(es.html).to.not.contain('Open your customer page');
      expect(`${es.subject} ${es.text}`).to.not.match(/\b(Hi|Your link|Thank you|private to you)\b/);
      const en = renderMessage('email', defaultTemplate('email', context), VARS, BRAND);
      expect(en.text).to.match(/^(Hi Christopher,)/);
      expect(en.html).to.contain('Open your customer page');
    });
  }

  it('counts characters with real plurals in both languages', () => {
    expect(smsSize('a', 'es').note).to.equal('1 carácter · 1 mensaje de texto');
    expect(smsSize('ab', 'es').note).to.equal('2 caracteres · 1 mensaje de texto');
    expect(smsSize('ab').note).to.equal('2 characters · 1 text message');
    expect(smsSize('á'.repeat(71), 'es').note).to.match(/se envía como 2 mensajes/);
  });
});

const RECEIPT = {
  id: '00000000-0000-0000-0000-000000000001',
  channel: 'email' as const,
  first_name: 'Ana',
  org_name: 'Techos Norte',
  org_phone: '+525555550100',
  org_email: null,
  org_brand_color: '#b45309',
  locale: 'es-MX',
  time_zone: 'America/Mexico_City',
  amount_cents: 1_250_000,
  currency: 'MXN',
  paid_at: new Date('2026-12-02T18:00:00Z'),
  invoice_number: 12,
  invoice_owed_cents: 30_000,
  invoice_currency: 'MXN',
  proposal_number: null,
};

describe('receipts and follow-ups in the customer’s language', () => {
  it('a receipt for a Spanish customer: Spanish words, Mexican money, Spanish month', () => {
    const r = receiptText({ ...RECEIPT, language: 'es' });
    expect(r.subject).to.equal('Recibo de Techos Norte por la factura #12');
    expect(r.text).to.contain('Hola Ana:').and.contain('$12,500.00').and.contain('2 de diciembre de 2026');
    expect(r.text).to.contain('Saldo pendiente de esta factura: $300.00.');
    // The business's number the way Mexico writes it, as the portal shows it, not as stored.
    expect(r.text).to.contain('55 5555 0100').and.not.contain('+525555550100');
    expect(r.html).to.contain('55 5555 0100');
    expect(r.text).to.not.match(/\b(Hi|Thank you|received|invoice)\b/);
    const sms = receiptText({ ...RECEIPT, channel: 'sms', language: 'es' });
    expect(sms.text).to.equal('Techos Norte: recibimos su pago de $12,500.00 por la factura #12. ¡Gracias!');
  });

  it('the same receipt for an English customer of the same org is English', () => {
    const r = receiptText({ ...RECEIPT, language: 'en', locale: 'en-US', currency: 'USD', invoice_currency: 'USD', invoice_owed_cents: 0 });
    expect(r.subject).to.equal('Receipt from Techos Norte — invoice #12');
    expect(r.text).to.contain('Thank you: Techos Norte received your payment of $12,500.00 for invoice #12 on December 2, 2026.');
    expect(r.text).to.contain('This invoice is now paid in full.');
  });

  it('a customer with no language reads the org’s', () => {
    expect(receiptText({ ...RECEIPT, language: null }).text).to.contain('Hola Ana:');
  });

  const FOLLOWUP = {
    id: RECEIPT.id,
    channel: 'sms' as const,
    document_kind: 'invoice' as const,
    first_name: 'Ana',
    org_name: 'Techos Norte',
    org_brand_color: '#b45309',
    org_email: 'hola@techos.example',
    org_phone: '+525555550100',
    locale: 'es-MX',
    number: 12,
    title: null,
    due_date: '2026-12-02',
    owed_cents: 30_000,
    currency: 'MXN',
  };
  for (const rule of ['invoice_due_soon', 'invoice_overdue_1', 'invoice_overdue_2', 'invoice_overdue_3'] as const) {
    it(`follow-up ${rule} in Spanish and English`, () => {
      const es = followupText({ ...FOLLOWUP, rule, language: 'es' }, LINK);
      expect(es.text)
        .to.match(/^Hola Ana, /)
        .and.contain('2 de diciembre')
        .and.contain('$300.00')
        .and.contain(LINK);
      expect(es.text).to.not.match(/\b(Hi|invoice|due|here)\b/);
      const en = followupText({ ...FOLLOWUP, rule, language: 'en', locale: 'en-US', currency: 'USD' }, LINK);
      expect(en.text)
        .to.match(/^Hi Ana, /)
        .and.contain('December 2');
    });
  }
  for (const rule of ['proposal_not_opened', 'proposal_not_decided'] as const) {
    it(`follow-up ${rule} by email in Spanish`, () => {
      const es = followupText(
        {
          ...FOLLOWUP,
          rule,
          channel: 'email',
          document_kind: 'proposal',
          title: 'Canaletas',
          due_date: null,
          owed_cents: null,
          language: 'es',
        },
        LINK,
      );
      expect(es.subject).to.equal('Propuesta #12 de Techos Norte');
      expect(es.text)
        .to.match(/^Hola Ana, /)
        .and.contain('propuesta #12 (Canaletas)');
      // The business's branded email: the sentence ends where the link was, and the button under it opens the link.
      expect(es.html).to.contain('class="brand-header"').and.contain('background:#b45309').and.contain('lang="es"');
      expect(es.html).to.match(/aquí:<\/p>/);
      expect(es.html).to.contain(`<a href="${LINK}" class="portal-button"`).and.contain('Abrir su página de cliente');
      expect(es.html).to.contain('Enviado por Techos Norte · hola@techos.example · 55 5555 0100.');
      // The button and the address under it (its href and its text), nowhere else.
      expect((es.html ?? '').split(LINK)).to.have.length(4);
    });
  }

  it('a receipt email is the business’s branded email, with its contact details at the foot', () => {
    const r = receiptText({ ...RECEIPT, org_name: 'Techos <Norte> & Hijos', language: 'es' });
    expect(r.html)
      .to.match(/^<!doctype html>/)
      .and.contain('lang="es"')
      .and.contain('background:#b45309');
    expect(r.html).to.contain('class="brand-header">Techos &lt;Norte&gt; &amp; Hijos</td>');
    expect(r.html).to.contain('<strong>$12,500.00</strong>').and.contain('Su recibo va adjunto en PDF.');
    expect(r.html).to.contain('Enviado por Techos &lt;Norte&gt; &amp; Hijos · 55 5555 0100.</td>');
    // A receipt carries no portal link: no button, and no word about a private link.
    expect(r.html).to.not.contain('portal-button').and.not.contain('/p/').and.not.contain('enlace');
    expect(r.html).to.not.contain('<Norte>');
  });
});

describe('account emails in the reader’s language', () => {
  it('a password reset in Spanish, with plurals', async () => {
    const es = await renderAccountEmail('password-reset', { name: 'Ana', link: LINK, validMinutes: 30 }, 'es');
    expect(es.subject).to.equal('Restablezca su contraseña de Porchlight');
    expect(es.text).to.contain('Hola Ana:').and.contain('vence en 30 minutos');
    expect(es.html).to.contain('lang="es"').and.contain('Elegir una contraseña nueva');
    expect(`${es.subject}${es.text}${es.html}`).to.not.match(/\b(Hello|password|expires)\b/);
    const one = await renderAccountEmail('password-reset', { name: 'Ana', link: LINK, validMinutes: 1 }, 'es');
    expect(one.text).to.contain('vence en 1 minuto.');
    const en = await renderAccountEmail('password-reset', { name: 'Ana', link: LINK, validMinutes: 30 });
    expect(en.subject).to.equal('Reset your Porchlight password');
    expect(en.text).to.contain('expires in 30 minutes');
  });

  it('an invitation and the sign-up emails in Spanish', async () => {
    const inv = await renderAccountEmail(
      'invitation',
      { inviterName: 'Luis', orgName: 'Techos <Norte>', link: LINK, expiresOn: '9 dic 2026' },
      'es',
    );
    expect(inv.subject).to.equal('Luis le invitó a Techos <Norte> en Porchlight');
    expect(inv.html).to.contain('<strong>Techos &lt;Norte&gt;</strong>');
    const confirm = await renderAccountEmail('signup-confirm', { name: 'Ana', orgName: 'Techos', link: LINK, validHours: 24 }, 'es');
    expect(confirm.text).to.contain('vence en 24 horas');
    const existing = await renderAccountEmail('signup-existing', { name: 'Ana', loginLink: LINK, resetLink: LINK }, 'es');
    expect(existing.html).to.contain('Iniciar sesión');
  });
});
