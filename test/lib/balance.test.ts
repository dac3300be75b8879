// The invoice balance rules, stated literally: what is owed, when money can be taken,
// and which status a payment total gives.
import { expect } from 'chai';
import { balanceOf, INVOICE_STATUSES, isPayable, PAYABLE_STATUSES, statusAfterPayments } from '../../src/lib/balance.js';

describe('invoice balance rules (src/lib/balance.ts)', () => {
  it('lists the five statuses, of which open and partially paid can take money', () => {
    expect(INVOICE_STATUSES).to.deep.equal(['draft', 'open', 'partially_paid', 'paid', 'void']);
    expect(PAYABLE_STATUSES).to.deep.equal(['open', 'partially_paid']);
  });

  it('owes nothing on a draft or a void invoice, whatever its amounts', () => {
    expect(balanceOf({ status: 'draft', total_cents: 10_000, amount_paid_cents: 0 })).to.equal(0);
    expect(balanceOf({ status: 'void', total_cents: 10_000, amount_paid_cents: 2_500 })).to.equal(0);
  });

  it('owes the total less what was paid otherwise, from numbers or bigint strings', () => {
    expect(balanceOf({ status: 'open', total_cents: 10_000, amount_paid_cents: 0 })).to.equal(10_000);
    expect(balanceOf({ status: 'partially_paid', total_cents: '10000', amount_paid_cents: '2500' })).to.equal(7_500);
    expect(balanceOf({ status: 'paid', total_cents: 10_000, amount_paid_cents: 10_000 })).to.equal(0);
    // A refund after payment in full shows what is owed again even before the status moves.
    expect(balanceOf({ status: 'paid', total_cents: 10_000, amount_paid_cents: 9_000 })).to.equal(1_000);
  });

  it('is payable only when open or partially paid with something left', () => {
    expect(isPayable({ status: 'open', total_cents: 100, amount_paid_cents: 0 })).to.equal(true);
    expect(isPayable({ status: 'partially_paid', total_cents: 100, amount_paid_cents: 99 })).to.equal(true);
    expect(isPayable({ status: 'partially_paid', total_cents: 100, amount_paid_cents: 100 })).to.equal(false);
    expect(isPayable({ status: 'open', total_cents: 0, amount_paid_cents: 0 })).to.equal(false);
    expect(isPayable({ status: 'paid', total_cents: 100, amount_paid_cents: 50 })).to.equal(false);
    expect(isPayable({ status: 'draft', total_cents: 100, amount_paid_cents: 0 })).to.equal(false);
    expect(isPayable({ status: 'void', total_cents: 100, amount_paid_cents: 0 })).to.equal(false);
  });

  it('gives open, partially paid or paid from the money received on an issued invoice', () => {
    for (const status of ['open', 'partially_paid', 'paid'] as const) {
      expect(statusAfterPayments({ status, total_cents: 10_000 }, 0), status).to.equal('open');
      expect(statusAfterPayments({ status, total_cents: 10_000 }, 1), status).to.equal('partially_paid');
      expect(statusAfterPayments({ status, total_cents: '10000' }, 9_999), status).to.equal('partially_paid');
      expect(statusAfterPayments({ status, total_cents: '10000' }, 10_000), status).to.equal('paid');
      expect(statusAfterPayments({ status, total_cents: 10_000 }, 10_001), status).to.equal('paid');
    }
  });

  it('keeps a draft a draft and a void invoice void, whatever was received', () => {
    expect(statusAfterPayments({ status: 'draft', total_cents: 10_000 }, 10_000)).to.equal('draft');
    expect(statusAfterPayments({ status: 'void', total_cents: 10_000 }, 0)).to.equal('void');
    expect(statusAfterPayments({ status: 'void', total_cents: 10_000 }, 5_000)).to.equal('void');
  });
});
