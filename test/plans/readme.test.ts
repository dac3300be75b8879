// The README's feature list names what each plan includes, and it is the list
// src/plans.ts gives (the one the plans page shows), so the two can't drift.
// After changing a plan: UPDATE_README=1 npx mocha test/plans/readme.test.ts
import fs from 'node:fs';
import { expect } from 'chai';
import { formatMoney } from '../../src/lib/money.js';
import { PLANS, PLAN_IDS, planAdditions } from '../../src/plans.js';

const README = new URL('../../README.md', import.meta.url);
const START = '<!-- plans: generated from src/plans.ts, checked by test/plans/readme.test.ts -->';
const END = '<!-- /plans -->';

/** The README's plan list, from src/plans.ts: each plan, its price, and what it adds over the one below. */
function planList(): string {
  return PLAN_IDS.map((id, index) => {
    const plan = PLANS[id];
    const price = plan.monthlyPriceCents === 0 ? 'no charge' : `${formatMoney(plan.monthlyPriceCents)} a month`;
    const below = index > 0 ? `, everything in ${PLANS[PLAN_IDS[index - 1]].name} plus` : '';
    const lines = planAdditions(id).map((a) => `  - ${a.label}${a.comingSoon ? ' (coming soon)' : ''}`);
    return [`- **${plan.name}** (${price})${below}:`, ...lines].join('\n');
  }).join('\n');
}

describe('README plan list', () => {
  it('is the list src/plans.ts gives, for every plan', () => {
    const readme = fs.readFileSync(README, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, 'the README has the plans markers').to.be.greaterThan(-1);
    expect(end).to.be.greaterThan(start);
    const expected = `${START}\n${planList()}\n${END}`;
    if (process.env.UPDATE_README) fs.writeFileSync(README, readme.slice(0, start) + expected + readme.slice(end + END.length));
    expect(readme.slice(start, end + END.length)).to.equal(expected);
    for (const id of PLAN_IDS) expect(readme.slice(start, end)).to.contain(`**${PLANS[id].name}**`);
  });
});
