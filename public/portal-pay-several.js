// Paying several invoices from the portal's Invoices tab: the Pay button and the
// suggested tips follow the invoices the customer ticks. Progressive enhancement
// only: without this file the button reads "Pay ticked invoices", and the server
// works the amount out from the ticked boxes (and refuses none ticked).
(function () {
  const form = document.getElementById('pay-several');
  if (!form) return;
  const currency = form.dataset.currency || 'USD';
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  const format = new Intl.NumberFormat(form.dataset.locale || 'en-US', { style: 'currency', currency });
  const money = (cents) => format.format(cents / 10 ** digits);
  const button = form.querySelector('[data-pay-button]');
  // The button's words in the page's language: "%s" stands for the amount; another when nothing is ticked.
  const payLabel = form.dataset.payLabel || '%s';
  const noneLabel = form.dataset.noneLabel || '';
  const boxes = () => Array.from(document.querySelectorAll('input[form="pay-several"][data-amount-cents]'));

  function update() {
    let total = 0;
    for (const box of boxes()) if (box.checked) total += Number(box.dataset.amountCents) || 0;
    if (button) {
      button.textContent = total > 0 ? payLabel.replace('%s', () => money(total)) : noneLabel;
      button.disabled = total === 0;
    }
    // A suggested tip is that percentage of what is paid, rounded to the cent (src/payments/tips.ts).
    form.querySelectorAll('[data-tip-percent]').forEach((el) => {
      el.textContent = money(Math.round((total * Number(el.dataset.tipPercent)) / 100));
    });
  }

  boxes().forEach((box) => box.addEventListener('change', update));
  update();
})();
