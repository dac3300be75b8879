// Amounts typed in forms (line prices, deposits, tips, a part payment in the portal).
import { expect } from 'chai';
import { parseMoneyInput } from '../../src/lib/money.js';

describe('parseMoneyInput', () => {
  it('reads plain amounts and thousands grouped by commas', () => {
    expect(parseMoneyInput('619.19')).to.equal(61_919);
    expect(parseMoneyInput(' $1,234.5 ')).to.equal(123_450);
    expect(parseMoneyInput('1,234')).to.equal(123_400);
    expect(parseMoneyInput('12,345,678.90')).to.equal(1_234_567_890);
    expect(parseMoneyInput('1,500', 'JPY')).to.equal(1_500);
  });

  it('refuses a comma that does not group thousands: "1,50" is no $150.00', () => {
    for (const typed of ['1,50', '183,21', '1,5', '12,34,567', '1,2345', ',50', '1,234,5']) {
      expect(parseMoneyInput(typed), typed).to.equal(null);
    }
  });

  it('refuses more decimals than the currency has, and anything else', () => {
    expect(parseMoneyInput('1.234')).to.equal(null);
    expect(parseMoneyInput('10.5', 'JPY')).to.equal(null);
    for (const typed of ['', 'abc', '1.2.3', '1e5', '-5']) expect(parseMoneyInput(typed), typed).to.equal(null);
  });
});
