// Live preview for the message templates editor (progressive enhancement:
// without this file the Preview button renders the same preview on the server).
(function () {
  const form = document.getElementById('template-form');
  if (!form || !window.fetch) return;
  const url = form.getAttribute('data-preview-url');
  const text = document.getElementById('tpl-preview-text');
  const subjectRow = document.getElementById('tpl-preview-subject');
  const length = document.getElementById('tpl-preview-length');
  const error = document.getElementById('tpl-preview-error');
  let timer;
  let seq = 0;

  function refresh() {
    const body = new URLSearchParams(new FormData(form));
    body.set('intent', 'preview');
    const mine = ++seq;
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', 'x-csrf-token': body.get('_csrf') || '' },
      body: body.toString(),
      credentials: 'same-origin',
    })
      .then((res) => res.json())
      .then((data) => {
        if (mine !== seq) return; // a newer keystroke already asked
        if (!data.ok) {
          error.textContent = data.error || form.getAttribute('data-problem-text') || '';
          error.hidden = false;
          return;
        }
        error.hidden = true;
        text.textContent = data.text;
        length.textContent = data.sizeNote || String(data.length);
        length.className = data.overOneText ? 'warning-text' : 'hint';
        if (subjectRow) {
          subjectRow.hidden = !data.subject;
          const span = subjectRow.querySelector('span');
          if (span) span.textContent = data.subject || '';
        }
      })
      .catch(() => undefined);
  }

  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
