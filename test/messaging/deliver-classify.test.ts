// How a provider's error is sorted, rule by rule at its edges, without a provider: which answers make
// a message undeliverable or failed at once (with what the contractor reads) and which are retried;
// and the pause between tries at recording a send the provider accepted.
import { expect } from 'chai';
import { translate } from '../../src/i18n/index.js';
import { classifySendError, recordRetryDelayMs } from '../../src/messaging/deliver.js';

type Sorted = { kind: 'retry'; message: string } | { kind: 'failed' | 'undeliverable'; reason: string };

function sort(channel: 'sms' | 'email', err: unknown): Sorted {
  const result = classifySendError(channel, err) as Error & { status?: 'failed' | 'undeliverable' };
  if (result.name !== 'PermanentSendError') return { kind: 'retry', message: result.message };
  return { kind: result.status!, reason: translate('en', result.message) };
}

/** A Twilio RestException as the SDK throws it: the HTTP status and Twilio's own error code. */
const twilio = (status: unknown, code: unknown, message = 'Twilio says no') => Object.assign(new Error(message), { status, code });
/** A nodemailer SMTP error: the server's reply code and, when there is one, its whole reply. */
const smtp = (responseCode: unknown, response?: unknown, message = 'Message failed') =>
  Object.assign(new Error(message), { responseCode, response });

describe('classifySendError: sorting a provider’s answer', () => {
  describe('Twilio', () => {
    for (const [code, words] of [
      [21211, 'Twilio says this isn’t a valid mobile number (error 21211). Check the customer’s phone number and send again.'],
      [
        21610,
        'The customer has opted out of texts from this business by replying STOP (Twilio error 21610). Texts are blocked until they reply START; send the link by email instead.',
      ],
    ] as const) {
      it(`error ${code} is undeliverable, whatever the HTTP status`, () => {
        for (const status of [400, 500, undefined])
          expect(sort('sms', twilio(status, code))).to.deep.equal({ kind: 'undeliverable', reason: words });
      });
    }

    for (const code of [21614, 21408, 21612]) {
      it(`error ${code} is undeliverable and names the code and Twilio's words`, () => {
        expect(sort('sms', twilio(400, code, 'Not a mobile'))).to.deep.equal({
          kind: 'undeliverable',
          reason: `Twilio can’t text this number (error ${code}): Not a mobile`,
        });
      });
    }

    it('a code sent as text is no code', () => {
      expect(sort('sms', twilio(400, '21211', 'Bad'))).to.deep.equal({
        kind: 'failed',
        reason: 'Twilio refused the message (HTTP 400): Bad',
      });
    });

    it('retries no answer, a 429 and every 5xx; fails every other status, at the edges too', () => {
      for (const status of [undefined, '503', 429, 500, 599]) {
        expect(sort('sms', twilio(status, 20001, 'Busy')), String(status)).to.deep.equal({ kind: 'retry', message: 'Twilio: Busy' });
      }
      for (const status of [400, 428, 430, 499]) {
        expect(sort('sms', twilio(status, 20001, 'Nope')), String(status)).to.deep.equal({
          kind: 'failed',
          reason: `Twilio refused the message (HTTP ${status}, error 20001): Nope`,
        });
      }
      expect(sort('sms', twilio(401, undefined, 'Auth'))).to.deep.equal({
        kind: 'failed',
        reason: 'Twilio refused the message (HTTP 401): Auth',
      });
    });

    it('something thrown that is no Error still has words', () => {
      expect(sort('sms', 'socket hang up')).to.deep.equal({ kind: 'retry', message: 'Twilio: socket hang up' });
      expect(sort('sms', undefined)).to.deep.equal({ kind: 'retry', message: 'Twilio: undefined' });
    });
  });

  describe('email', () => {
    it("a 5xx reply is undeliverable and quotes the server's reply (its first 300 characters)", () => {
      expect(sort('email', smtp(550, '550 5.1.1 No such user'))).to.deep.equal({
        kind: 'undeliverable',
        reason: 'The recipient’s mail server refused this address (550 5.1.1 No such user). Check the customer’s email address.',
      });
      expect(sort('email', smtp(500, undefined, 'Command unrecognized'))).to.deep.equal({
        kind: 'undeliverable',
        reason: 'The recipient’s mail server refused this address (Command unrecognized). Check the customer’s email address.',
      });
      const long = sort('email', smtp(554, `554 ${'x'.repeat(400)}`));
      expect(long.kind).to.equal('undeliverable');
      expect(long.kind !== 'retry' && long.reason).to.contain(`(554 ${'x'.repeat(296)})`);
    });

    it('retries a 4xx reply, no reply at all (a connection error) and a code sent as text', () => {
      expect(sort('email', smtp(499, '499 Odd', 'Odd'))).to.deep.equal({ kind: 'retry', message: 'Email: Odd' });
      expect(sort('email', smtp(451, '451 Try later', 'Try later'))).to.deep.equal({ kind: 'retry', message: 'Email: Try later' });
      expect(sort('email', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' }))).to.deep.equal({
        kind: 'retry',
        message: 'Email: connect ECONNREFUSED',
      });
      expect(sort('email', smtp('550', '550 No', 'No'))).to.deep.equal({ kind: 'retry', message: 'Email: No' });
    });
  });
});

describe('recordRetryDelayMs: the pause before recording an accepted send again', () => {
  it('doubles from 200 ms and stays at 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(recordRetryDelayMs)).to.deep.equal([200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000]);
  });
});
