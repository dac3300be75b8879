import { expect } from 'chai';
import { formatArrivalWindow, instantToZoned, zonedToInstant } from '../../src/lib/dates.js';

describe('job times in the org’s zone', () => {
  it('converts wall-clock times to instants across daylight saving, both ways', () => {
    expect(zonedToInstant('2026-07-01', '09:30', 'America/New_York')?.toISOString()).to.equal('2026-07-01T13:30:00.000Z');
    expect(zonedToInstant('2026-12-01', '09:30', 'America/New_York')?.toISOString()).to.equal('2026-12-01T14:30:00.000Z');
    expect(zonedToInstant('2026-12-01', '09:30', 'Asia/Kolkata')?.toISOString()).to.equal('2026-12-01T04:00:00.000Z');
    expect(zonedToInstant('2026-07-01', '23:45', 'Europe/Berlin')?.toISOString()).to.equal('2026-07-01T21:45:00.000Z');
    expect(instantToZoned(new Date('2026-12-01T14:30:00Z'), 'America/New_York')).to.deep.equal({ date: '2026-12-01', time: '09:30' });
  });

  it('refuses a time skipped by the spring-forward change and picks the earlier of a repeated one', () => {
    expect(zonedToInstant('2026-03-08', '02:30', 'America/New_York')).to.equal(null);
    expect(zonedToInstant('2026-11-01', '01:30', 'America/New_York')?.toISOString()).to.equal('2026-11-01T05:30:00.000Z');
  });

  it('writes a window that runs past midnight as two times on the day it starts, not as two dates', () => {
    const late = formatArrivalWindow(new Date('2026-12-04T05:30:00Z'), 120, 'America/Chicago', 'en-US');
    expect(late?.day).to.equal('Thursday, December 3');
    expect(late?.window.replace(/\s/g, ' ')).to.equal('11:30 PM – 1:30 AM');
    const morning = formatArrivalWindow(new Date('2026-12-02T15:00:00Z'), 120, 'America/Chicago', 'en-US');
    expect(morning?.window.replace(/\s/g, ' ')).to.equal('9:00 – 11:00 AM');
  });
});
