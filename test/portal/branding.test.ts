// Brand colours: whatever colour an org picks, portal text stays readable (WCAG ≥ 4.5:1).
import { expect } from 'chai';
import { wcagContrast } from 'culori';
import { brandPalette, PAGE_BACKGROUND, readableOn, textOn } from '../../src/lib/contrast.js';
import { whatsappHref } from '../../src/portal/contact.js';

function* colours(): Generator<string> {
  // Every 17th step of each channel (16^3 = 4096 colours), plus awkward mid-tones.
  for (let r = 0; r <= 255; r += 17)
    for (let g = 0; g <= 255; g += 17)
      for (let b = 0; b <= 255; b += 17) {
        yield `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
      }
  yield* ['#777777', '#767676', '#808080', '#ff0000', '#00ff00', '#ffd400', '#1d4ed8', '#25d366', '#ff7f50', '#7f7f7f'];
  let seed = 42;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    yield `#${(seed & 0xffffff).toString(16).padStart(6, '0')}`;
  }
}

/** WCAG AA for normal text: the product's contrast floor, stated here rather than imported. */
const MIN_CONTRAST = 4.5;

describe('portal branding', () => {
  it('keeps text on the brand colour at ≥ 4.5:1 for any colour', () => {
    let n = 0;
    for (const c of colours()) {
      const p = brandPalette(c);
      expect(wcagContrast(p.brand, p.onBrand), c).to.be.at.least(MIN_CONTRAST);
      n++;
    }
    expect(n).to.be.greaterThan(9000);
  });

  it('keeps the brand text colour readable on the page background and white for any colour, keeping it when it already is', () => {
    for (const c of colours()) {
      const p = brandPalette(c);
      expect(wcagContrast(p.brandText, '#ffffff'), c).to.be.at.least(MIN_CONTRAST);
      expect(wcagContrast(p.brandText, PAGE_BACKGROUND), c).to.be.at.least(MIN_CONTRAST);
      if (wcagContrast(c, PAGE_BACKGROUND) >= MIN_CONTRAST) expect(p.brandText).to.equal(c);
    }
    expect(readableOn('#1d4ed8')).to.equal('#1d4ed8');
    expect(readableOn('#ffd400')).not.to.equal('#ffd400');
  });

  it('picks black on light colours and white on dark ones', () => {
    expect(textOn('#ffff00')).to.equal('#000000');
    expect(textOn('#102a43')).to.equal('#ffffff');
  });

  it('falls back to the default colour for anything that is not #rrggbb', () => {
    expect(brandPalette('red; } body { display:none').brand).to.equal('#1d4ed8');
  });

  it('builds the WhatsApp link from the digits with the message encoded', () => {
    expect(whatsappHref(null, 'Org', 'Sam')).to.equal(null);
    const href = whatsappHref('+1 (555) 555-0100', 'Bright & Co', 'Sam Lee', 'proposal #7')!;
    expect(href.startsWith('https://wa.me/15555550100?text=')).to.equal(true);
    expect(decodeURIComponent(href.split('text=')[1])).to.equal('Hello Bright & Co, this is Sam Lee. I have a question about proposal #7.');
  });
});
