// A real SMTP server (smtp-server) for tests; every message is parsed back with mailparser.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface TestSmtp {
  port: number;
  /** SMTP_URL for config.smtp.url (plain SMTP, no TLS). */
  url: string;
  inbox: ParsedMail[];
  /** Envelope recipients of every accepted message, one entry per message and recipient. */
  recipients: string[];
  /** Addresses the server refuses at RCPT TO with a 550. */
  rejectRecipients: Set<string>;
  /** Number of the next RCPT TO commands to answer with a temporary 451. */
  tempFailures: number;
  close(): Promise<void>;
}

export async function startTestSmtp(options: { parse?: boolean } = {}): Promise<TestSmtp> {
  const parse = options.parse ?? true;
  const smtp: TestSmtp = {
    port: 0,
    url: '',
    inbox: [],
    recipients: [],
    rejectRecipients: new Set(),
    tempFailures: 0,
    close: () => Promise.resolve(),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 1024 * 1024,
    onRcptTo(address, _session, callback) {
      if (smtp.rejectRecipients.has(address.address.toLowerCase())) {
        const err = Object.assign(new Error('5.1.1 Recipient address rejected: user unknown'), { responseCode: 550 });
        return callback(err);
      }
      if (smtp.tempFailures > 0) {
        smtp.tempFailures -= 1;
        return callback(Object.assign(new Error('4.7.1 Try again later'), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const accepted = () => smtp.recipients.push(...session.envelope.rcptTo.map((r) => r.address.toLowerCase()));
      if (!parse) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          accepted();
          smtp.inbox.push({} as ParsedMail);
          callback();
        });
        return;
      }
      simpleParser(stream)
        .then((mail) => {
          accepted();
          smtp.inbox.push(mail);
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  smtp.port = (server.server.address() as AddressInfo).port;
  smtp.url = `smtp://127.0.0.1:${smtp.port}?tls=off`;
  smtp.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return smtp;
}
