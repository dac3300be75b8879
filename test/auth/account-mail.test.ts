import { expect } from 'chai';
import { config } from '../../src/config.js';
import { logger } from '../../src/logger.js';
import { closeMailer, devAccountEmails, renderAccountEmail, sendAccountEmail } from '../../src/mail/account-email.js';

const TOKEN_LINK = 'http://127.0.0.1:3999/reset-password/SECRET_TOKEN_VALUE_0123456789abcdefghijklmno';

describe('account emails without SMTP_URL', () => {
  const saved = { url: config.smtp.url, isProduction: config.isProduction, isDevelopment: config.isDevelopment };
  const logged: { level: string; args: unknown[] }[] = [];
  const original = { info: logger.info, warn: logger.warn };

  beforeEach(async () => {
    config.smtp.url = undefined;
    await closeMailer();
    logged.length = 0;
    logger.info = (...args: unknown[]) => void logged.push({ level: 'info', args });
    logger.warn = (...args: unknown[]) => void logged.push({ level: 'warn', args });
  });

  afterEach(() => {
    Object.assign(config, { isProduction: saved.isProduction, isDevelopment: saved.isDevelopment });
    config.smtp.url = saved.url;
    logger.info = original.info;
    logger.warn = original.warn;
  });

  const email = { to: 'dev@example.test', template: 'password-reset', locals: { name: 'Dev', link: TOKEN_LINK, validMinutes: 60 } };

  it('keeps the whole message for /dev/outbox in development, so the link can be followed, and logs one line without it', async () => {
    Object.assign(config, { isProduction: false, isDevelopment: true });
    await sendAccountEmail(email);
    expect(devAccountEmails()[0]).to.include({ to: 'dev@example.test' });
    expect(devAccountEmails()[0].text).to.contain(TOKEN_LINK);
    expect(logged).to.have.length(1);
    expect(JSON.stringify(logged[0].args)).to.contain('/dev/outbox');
    expect(JSON.stringify(logged[0].args)).to.not.contain('SECRET_TOKEN');
  });

  it('never logs the body (and its token) in production', async () => {
    Object.assign(config, { isProduction: true, isDevelopment: false });
    const kept = devAccountEmails().length;
    await sendAccountEmail(email);
    expect(devAccountEmails().length, 'nothing kept in production').to.equal(kept);
    expect(logged).to.have.length(1);
    expect(logged[0].level).to.equal('warn');
    expect(JSON.stringify(logged[0].args)).to.not.contain('SECRET_TOKEN');
  });

  it('renders text and HTML, escaping HTML in the HTML part only', async () => {
    const rendered = await renderAccountEmail('invitation', {
      inviterName: 'Ann <b>',
      orgName: 'A & B Roofing',
      link: TOKEN_LINK,
      expiresOn: 'Dec 2, 2026',
    });
    expect(rendered.subject).to.equal('Ann <b> invited you to A & B Roofing on Porchlight');
    expect(rendered.text).to.contain(TOKEN_LINK);
    expect(rendered.html).to.contain('A &amp; B Roofing');
    expect(rendered.html).to.not.contain('Ann <b>');
  });
});
