// Progressive enhancement only: every page works without this file.

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
