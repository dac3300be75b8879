// Optional lines and alternatives on a portal proposal: the totals follow the
// customer's picks as they choose. Progressive enhancement only: without this
// file "Update total" shows them, and the server recomputes the total on
// approval (refusing one other than the page showed). Same rule as
// src/lib/line-options.ts: whole cents, tax rounded half up.
(function () {
  const box = document.querySelector('[data-choices]');
  const form = document.getElementById('approve-form');
  if (!box || !form) return;
  const currency = box.dataset.currency || 'USD';
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  const format = new Intl.NumberFormat(box.dataset.locale || 'en-US', { style: 'currency', currency });
  const money = (cents) => format.format(cents / 10 ** digits);
  const taxBps = Number(box.dataset.taxBps) || 0;
  // The Approve button's words in the page's language, "%s" standing for the amount.
  const approveLabel = box.dataset.approveLabel || '%s';
  const picks = () => Array.from(document.querySelectorAll('input[form="approve-form"][data-amount-cents]'));

  function update() {
    let subtotal = Number(box.dataset.requiredCents) || 0;
    for (const input of picks()) if (input.checked) subtotal += Number(input.dataset.amountCents);
    const tax = Math.floor((subtotal * taxBps + 5000) / 10000);
    const total = subtotal + tax;
    document.querySelectorAll('[data-choice-subtotal]').forEach((el) => (el.textContent = money(subtotal)));
    document.querySelectorAll('[data-choice-tax]').forEach((el) => (el.textContent = money(tax)));
    document.querySelectorAll('[data-choice-total]').forEach((el) => (el.textContent = money(total)));
    document.querySelectorAll('[data-choice-approve]').forEach((el) => (el.textContent = approveLabel.replace('%s', money(total))));
    // The deposit approving will ask, by the rule of src/proposals/deposit.ts: a
    // percentage rounded half up, a fixed amount; never more than the total.
    document.querySelectorAll('[data-choice-deposit]').forEach((el) => {
      const bps = Number(el.dataset.percentBps) || 0;
      const due = bps ? Math.round((total * bps) / 10000) : Number(el.dataset.depositCents) || 0;
      const amount = el.querySelector('strong');
      if (due > 0 && amount) amount.textContent = money(Math.min(due, total));
    });
    const expected = form.querySelector('[data-choice-total-cents]');
    if (expected) expected.value = String(total);
  }

  const updateButton = box.querySelector('[data-choice-update]');
  if (updateButton) updateButton.hidden = true;
  picks().forEach((input) => input.addEventListener('change', update));
  update();
})();
