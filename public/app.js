// Progressive enhancement only: every page works without this file.

// A refused form comes back at the first field to fix, not at the page's top with the error a screen below.
document.querySelector('[aria-invalid="true"]')?.focus();

// Sign-up: the business starts in this browser's time zone, not a silent default.
for (const input of document.querySelectorAll('input[data-browser-time-zone]')) {
  try {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    // Leave it empty: the server keeps its default.
  }
}
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  if (!button || !navigator.clipboard) return;
  const source = document.getElementById(button.getAttribute('data-copy'));
  if (!source) return;
  const text = 'value' in source ? source.value : source.textContent;
  navigator.clipboard.writeText(text.trim()).then(() => {
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  });
});

// Line-item editor: add and remove rows and show totals as you type. The server
// still computes the totals it stores; without script the form works as served.
function setUpLineItems(fieldset) {
  const form = fieldset.closest('form');
  const money = new Intl.NumberFormat(fieldset.dataset.locale || undefined, {
    style: 'currency',
    currency: fieldset.dataset.currency || 'USD',
  });
  const number = (input) => {
    const value = Number(String(input ? input.value : '').replace(/[^0-9.-]/g, ''));
    return Number.isFinite(value) ? value : 0;
  };
  const rows = () => Array.from(fieldset.querySelectorAll('.line-item'));
  const blank = rows()[rows().length - 1].cloneNode(true);
  blank.querySelectorAll('input').forEach((input) => (input.value = ''));
  blank.querySelectorAll('select').forEach((select) => (select.selectedIndex = 0));
  blank.querySelectorAll('.error').forEach((el) => el.remove());
  blank.querySelectorAll('.has-error').forEach((el) => el.classList.remove('has-error'));

  const totals = document.createElement('p');
  totals.className = 'live-totals';
  totals.setAttribute('aria-live', 'polite');
  const addButton = document.createElement('button');
  addButton.type = 'button';
  addButton.className = 'small';
  // The page's words (data-t-* on the fieldset, from the catalogue); English when a page has none.
  const words = fieldset.dataset;
  addButton.textContent = words.tAdd || 'Add a line';
  const hint = fieldset.querySelector('[data-no-script-hint]');
  if (hint) hint.textContent = words.tHint || 'Totals update as you type; they are checked again when you save. Empty lines are skipped.';
  const anchor = hint || fieldset.lastElementChild;
  fieldset.insertBefore(addButton, anchor);
  fieldset.insertBefore(totals, anchor);

  function renumber() {
    rows().forEach((row, index) => {
      row.querySelectorAll('input, select').forEach((input) => {
        const field = input.name.replace(/^items\[\d+\]/, '');
        input.name = `items[${index}]${field}`;
        const id = `f-items-${index}-${field.replace(/[[\]]/g, '')}`;
        const label = row.querySelector(`label[for="${input.id}"]`);
        input.id = id;
        if (label) label.htmlFor = id;
      });
    });
  }

  // "Remove line 2 (Gutter guard)": each button says which line it removes.
  function labelRemoveButtons() {
    rows().forEach((row, index) => {
      const remove = row.querySelector('.remove-row');
      const service = row.querySelector('input[name$="[service]"]');
      const label = (words.tRemoveLine || 'Remove line {n}').replace('{n}', String(index + 1));
      if (remove) remove.setAttribute('aria-label', `${label}${service && service.value ? ` (${service.value})` : ''}`);
    });
  }

  function enhance(row) {
    row.classList.add('enhanced');
    const total = document.createElement('output');
    total.className = 'line-total';
    row.appendChild(total);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove-row quiet small';
    remove.textContent = words.tRemove || 'Remove';
    remove.addEventListener('click', () => {
      if (rows().length > 1) row.remove();
      else {
        row.querySelectorAll('input').forEach((input) => (input.value = ''));
        row.querySelectorAll('select').forEach((select) => (select.selectedIndex = 0));
      }
      renumber();
      update();
      addButton.focus();
    });
    row.appendChild(remove);
  }

  function update() {
    let subtotal = 0;
    rows().forEach((row) => {
      const amount = number(row.querySelector('input[name$="[quantity]"]')) * number(row.querySelector('input[name$="[unit_price]"]'));
      // A proposal's optional line or alternative that isn't ticked or preselected doesn't count.
      const choice = row.querySelector('select[name$="[choice]"]');
      if (!choice || !/^(optional|alternative)$/.test(choice.value)) subtotal += amount;
      const out = row.querySelector('.line-total');
      if (out) out.textContent = amount ? money.format(amount) : '';
    });
    const rate = form ? number(form.querySelector('input[name="tax_rate"]')) : 0;
    const tax = Math.round(subtotal * rate) / 100;
    labelRemoveButtons();
    totals.textContent = (words.tTotals || 'Subtotal {subtotal} · Tax {tax} · Total {total}')
      .replace('{subtotal}', money.format(subtotal))
      .replace('{tax}', money.format(tax))
      .replace('{total}', money.format(subtotal + tax));
  }

  rows().forEach(enhance);
  addButton.addEventListener('click', () => {
    const row = blank.cloneNode(true);
    fieldset.insertBefore(row, addButton);
    enhance(row);
    renumber();
    update();
    row.querySelector('input').focus();
  });
  (form || fieldset).addEventListener('input', update);
  renumber();
  update();
}

document.querySelectorAll('fieldset.line-items[data-editor]').forEach(setUpLineItems);
