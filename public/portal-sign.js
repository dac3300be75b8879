// The portal's Approve form: reveals the signature box and lets the customer draw
// (pointer and touch, through signature_pad). On submit the drawing goes into the
// hidden "signature" field as a PNG data URL; left empty, the typed name signs.
// Without script none of this runs and the typed name is the signature.
(function () {
  'use strict';
  var box = document.querySelector('[data-signature]');
  if (!box || typeof window.SignaturePad !== 'function') return;
  var form = box.closest('form');
  var canvas = box.querySelector('canvas');
  var field = form.querySelector('input[name="signature"]');
  box.hidden = false;
  var pad = new window.SignaturePad(canvas, { penColor: '#111827', minWidth: 0.8, maxWidth: 2.6 });

  // Size the drawing surface to the box (at most 2× density: the PNG stays small), keeping what was drawn.
  function fit() {
    var ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 2);
    var width = canvas.offsetWidth;
    var height = canvas.offsetHeight;
    if (!width || (canvas.width === Math.round(width * ratio) && canvas.height === Math.round(height * ratio))) return;
    var strokes = pad.toData();
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.getContext('2d').scale(ratio, ratio);
    pad.clear();
    pad.fromData(strokes);
  }
  fit();
  window.addEventListener('resize', fit);

  box.querySelector('[data-signature-clear]').addEventListener('click', function () {
    pad.clear();
    field.value = '';
  });
  form.addEventListener('submit', function () {
    field.value = pad.isEmpty() ? '' : pad.toDataURL('image/png');
  });
})();
