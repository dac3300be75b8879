// Child process for bench/sending.ts: the Twilio stand-in and smtp-server run
// here so they don't share the worker's event loop. Talks over IPC.
import { startTwilioStandin } from '../../test/support/twilio-standin.js';
import { startTestSmtp } from '../../test/support/smtp.js';

const twilio = await startTwilioStandin();
const smtp = await startTestSmtp({ parse: false });
process.send!({
  type: 'ready',
  twilio: { url: twilio.url, accountSid: twilio.accountSid, authToken: twilio.authToken },
  smtpUrl: smtp.url,
});
process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') {
    process.send!({ type: 'stats', sms: twilio.sent.length, smsRequests: twilio.requests, email: smtp.inbox.length });
  } else if (msg.type === 'stop') {
    void Promise.all([twilio.close(), smtp.close()]).then(() => process.exit(0));
  }
});
