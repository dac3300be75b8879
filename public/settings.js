// Settings pages, progressive enhancement: live preview of the portal header
// while the brand color and business name are edited. The form works without it.
(function () {
  var header = document.querySelector('[data-preview-header]');
  var colorText = document.getElementById('f-brand_color');
  var picker = document.querySelector('[data-color-picker]');
  var nameInput = document.getElementById('f-name');
  var nameOut = document.querySelector('[data-preview-name]');
  if (!header || !colorText) return;

  var HEX = /^#[0-9a-fA-F]{6}$/;

  // Same rule as the server (src/orgs/logo.ts textColorOn): black or white, whichever contrasts more.
  function textColorOn(hex) {
    var lum = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#000000';
  }

  function paint(hex) {
    if (!HEX.test(hex)) return;
    header.style.backgroundColor = hex;
    header.style.color = textColorOn(hex);
  }

  if (picker) {
    picker.hidden = false;
    picker.addEventListener('input', function () {
      colorText.value = picker.value;
      paint(picker.value);
    });
  }
  colorText.addEventListener('input', function () {
    var value = colorText.value.trim();
    if (HEX.test(value)) {
      if (picker) picker.value = value.toLowerCase();
      paint(value);
    }
  });
  if (nameInput && nameOut) {
    nameInput.addEventListener('input', function () {
      nameOut.textContent = nameInput.value;
    });
  }
})();
