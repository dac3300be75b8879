import { expect } from 'chai';
import sharp from 'sharp';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { logoUrl } from '../../src/orgs/logo.js';
import { loginAgent, testApp, type Agent } from '../support/http.js';
import { createTestOrg, createTestStaff, type TestOrg } from '../support/factories.js';
import type { AuditEventRecord, OrgLogoRecord, OrgRecord } from '../support/rows.js';

type LoggedIn = Agent & { csrf: string };

async function orgRow(orgId: string) {
  return getDb()('organizations').where({ id: orgId }).first<OrgRecord>();
}

async function logoCount(orgId: string): Promise<number> {
  const [{ count }] = await getDb()('org_logos').where({ org_id: orgId }).count<{ count: string }[]>('* as count');
  return Number(count);
}

async function expectNoLogo(orgId: string): Promise<void> {
  expect(await logoCount(orgId)).to.equal(0);
  expect((await orgRow(orgId)).logo_id).to.equal(null);
}

const image = (format: 'png' | 'jpeg' | 'webp', width = 900, height = 300) =>
  sharp({ create: { width, height, channels: 4, background: { r: 200, g: 40, b: 40, alpha: 1 } } })
    .toFormat(format)
    .toBuffer();

function upload(agent: LoggedIn, file: Buffer, filename: string, contentType: string, csrf: string | null = agent.csrf) {
  const req = agent.post('/settings/branding/logo');
  if (csrf !== null) req.field('_csrf', csrf);
  return req.attach('logo', file, { filename, contentType });
}

const validBranding = {
  name: 'Bright Gutters',
  brand_color: '#0F766E',
  phone: '+1 415 555 2671',
  whatsapp_number: '+14155552672',
  email: 'Office@BrightGutters.test',
  address: '12 Maple Street\nSpringfield',
  time_zone: 'America/Chicago',
  currency: 'cad',
  locale: 'en-CA',
};

describe('settings: branding and logo', () => {
  let owner: TestOrg;
  let agent: LoggedIn;

  beforeEach(async () => {
    owner = await createTestOrg();
    agent = await loginAgent(owner.email, owner.password);
  });

  describe('logo upload', () => {
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      it(`accepts a ${format.toUpperCase()}, resizes it to at most 512 px and serves it under its content hash`, async () => {
        const file = await image(format, 1600, 400);
        const res = await upload(agent, file, `logo.${format}`, `image/${format}`);
        expect(res.status, res.text).to.equal(303);
        const org = await orgRow(owner.orgId);
        const stored = await getDb()('org_logos').where({ id: org.logo_id }).first<OrgLogoRecord>();
        expect(stored.content_type).to.equal('image/png');
        expect(stored.width).to.equal(512);
        expect(stored.height).to.equal(128);
        const meta = await sharp(stored.bytes).metadata();
        expect(meta.format).to.equal('png');

        const served = await supertest(testApp()).get(logoUrl(stored.sha256)).buffer(true);
        expect(served.status).to.equal(200);
        expect(served.headers['content-type']).to.equal('image/png');
        expect(served.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
        expect(Buffer.compare(served.body as Buffer, stored.bytes)).to.equal(0);
        expect(stored.sha256).to.match(/^[0-9a-f]{64}$/);

        const page = await agent.get('/settings/branding');
        expect(page.text).to.contain(logoUrl(stored.sha256));
        const audit = await getDb()('audit_events').where({ org_id: owner.orgId, action: 'org.logo_uploaded' }).first<AuditEventRecord>();
        expect(audit.subject_id).to.equal(stored.id);
      });
    }

    it('lets two orgs upload the same picture', async () => {
      const other = await createTestOrg();
      const otherAgent = await loginAgent(other.email, other.password);
      const file = await image('png', 200, 200);
      expect((await upload(agent, file, 'a.png', 'image/png')).status).to.equal(303);
      expect((await upload(otherAgent, file, 'b.png', 'image/png')).status).to.equal(303);
      expect(await logoCount(owner.orgId)).to.equal(1);
      expect(await logoCount(other.orgId)).to.equal(1);
    });

    it('refuses an SVG, even named .png, and stores nothing', async () => {
      const svg = Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>',
      );
      for (const [name, type] of [
        ['logo.svg', 'image/svg+xml'],
        ['logo.png', 'image/png'],
      ]) {
        const res = await upload(agent, svg, name, type);
        expect(res.status).to.equal(422);
        expect(res.text).to.contain('SVG logos aren’t accepted');
      }
      await expectNoLogo(owner.orgId);
    });

    it('refuses an HTML file renamed .png and stores nothing', async () => {
      const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
      const res = await upload(agent, html, 'logo.png', 'image/png');
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('isn’t a PNG, JPEG or WebP image');
      await expectNoLogo(owner.orgId);
    });

    it('refuses a 20 MB image with a clear message and stores nothing', async function () {
      this.timeout(30_000);
      const big = await sharp({ create: { width: 2600, height: 2600, channels: 3, background: '#888888' } })
        .png({ compressionLevel: 0 })
        .toBuffer();
      expect(big.length).to.be.greaterThan(20 * 1000 * 1000);
      const res = await upload(agent, big, 'huge.png', 'image/png');
      expect(res.status).to.equal(413);
      expect(res.text).to.contain('larger than 2 MB');
      await expectNoLogo(owner.orgId);
    });

    it('refuses an upload without the CSRF token (403) and stores nothing', async () => {
      const res = await upload(agent, await image('png'), 'logo.png', 'image/png', null);
      expect(res.status).to.equal(403);
      const wrong = await upload(agent, await image('png'), 'logo.png', 'image/png', 'not-the-token');
      expect(wrong.status).to.equal(403);
      await expectNoLogo(owner.orgId);
    });

    it('asks for a file when none was chosen', async () => {
      const res = await agent.post('/settings/branding/logo').field('_csrf', agent.csrf);
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('Choose a PNG, JPEG or WebP file');
    });

    it('removes the logo', async () => {
      await upload(agent, await image('png'), 'logo.png', 'image/png');
      const res = await agent.post('/settings/branding/logo/remove').type('form').send({ _csrf: agent.csrf });
      expect(res.status).to.equal(303);
      expect((await orgRow(owner.orgId)).logo_id).to.equal(null);
    });

    it('answers 404 for an unknown or malformed logo hash', async () => {
      expect((await supertest(testApp()).get(`/logos/${'a'.repeat(64)}`)).status).to.equal(404);
      expect((await supertest(testApp()).get('/logos/not-a-hash')).status).to.equal(404);
    });
  });

  describe('business details', () => {
    it('saves normalized details and records what changed', async () => {
      const res = await agent
        .post('/settings/branding')
        .type('form')
        .send({ ...validBranding, _csrf: agent.csrf });
      expect(res.status, res.text).to.equal(303);
      const org = await orgRow(owner.orgId);
      expect(org).to.include({
        name: 'Bright Gutters',
        brand_color: '#0f766e',
        phone: '+14155552671',
        whatsapp_number: '+14155552672',
        email: 'office@brightgutters.test',
        time_zone: 'America/Chicago',
        currency: 'CAD',
        locale: 'en-CA',
      });
      const audit = await getDb()('audit_events').where({ org_id: owner.orgId, action: 'org.branding_updated' }).first<AuditEventRecord>();
      expect(audit.data.changed).to.include.members(['brand_color', 'whatsapp_number', 'currency']);
      // Currencies and languages are named in the reader's language, not bare codes.
      const form = (await agent.get('/settings/branding')).text;
      expect(form).to.contain('<option value="CAD" selected>CAD — Canadian Dollar</option>');
      expect(form).to.match(/<option value="es-MX">es-MX — [^<]+<\/option>/);
    });

    it('says "saved" in the language just chosen, on the page that follows', async () => {
      const toSpanish = await agent
        .post('/settings/branding')
        .type('form')
        .send({ ...validBranding, locale: 'es-MX', _csrf: agent.csrf });
      expect(toSpanish.status, toSpanish.text).to.equal(303);
      const spanish = (await agent.get('/settings/branding')).text;
      expect(spanish).to.contain('<html lang="es"').and.contain('Datos del negocio guardados.');
      expect(spanish).not.to.contain('Business details saved.');
      const back = await agent
        .post('/settings/branding')
        .type('form')
        .send({ ...validBranding, _csrf: agent.csrf });
      expect(back.status, back.text).to.equal(303);
      const english = (await agent.get('/settings/branding')).text;
      expect(english).to.contain('Business details saved.').and.not.contain('Datos del negocio guardados.');
    });

    for (const [typed, locale, stored] of [
      ['+1 555 555 0142', 'en-US', '+15555550142'],
      ['+1 (415) 555-2671', 'en-US', '+14155552671'],
      ['(415) 555-2671', 'en-CA', '+14155552671'],
      ['415.555.2671', 'en-US', '+14155552671'],
      ['020 7946 0958', 'en-GB', '+442079460958'],
      ['+44 20 7946 0958', 'en-US', '+442079460958'],
    ] as const) {
      it(`accepts the business phone written "${typed}" (${locale}) and stores ${stored}`, async () => {
        const res = await agent
          .post('/settings/branding')
          .type('form')
          .send({ ...validBranding, phone: typed, whatsapp_number: typed, locale, _csrf: agent.csrf });
        expect(res.status, res.text).to.equal(303);
        expect(await orgRow(owner.orgId)).to.include({ phone: stored, whatsapp_number: stored, locale });
        // The form shows the number spaced, and saving it unchanged keeps the same number.
        const form = await agent.get('/settings/branding');
        const shown = /id="f-phone" name="phone" type="tel" value="([^"]*)"/.exec(form.text)?.[1];
        expect(shown).to.match(/^\+\d+( \d+)+$/);
        const again = await agent
          .post('/settings/branding')
          .type('form')
          .send({ ...validBranding, phone: shown, whatsapp_number: shown, locale, _csrf: agent.csrf });
        expect(again.status, again.text).to.equal(303);
        expect(await orgRow(owner.orgId)).to.include({ phone: stored, whatsapp_number: stored });
      });
    }

    it('shows a preview of the portal header in the brand color, with the preview script', async () => {
      await agent
        .post('/settings/branding')
        .type('form')
        .send({ ...validBranding, _csrf: agent.csrf });
      const page = await agent.get('/settings/branding');
      expect(page.status).to.equal(200);
      expect(page.text).to.match(/\.portal-preview-header \{ background: #0f766e; color: #ffffff; \}/);
      expect(page.text).to.contain('src="/static/settings.js"');
      expect(page.text).to.not.match(/<script>(?!<\/script>)/);
    });

    for (const [label, fields, field, message] of [
      ['an invalid color', { brand_color: 'blue' }, 'brand_color', '# and six hex digits'],
      ['a 3-digit color', { brand_color: '#fff' }, 'brand_color', '# and six hex digits'],
      ['an impossible WhatsApp number', { whatsapp_number: '+1 123' }, 'whatsapp_number', 'isn’t a complete phone number'],
      ['a phone without its area code', { phone: '555 1234' }, 'phone', 'isn’t a complete phone number'],
      ['a phone with too many digits', { phone: '+1 415 555 26710' }, 'phone', 'with its area code, like (415) 555-2671'],
      ['a phone that is no number', { phone: 'call the office' }, 'phone', 'isn’t a complete phone number'],
      // Without +, the number is read in the locale's country: a US number is no UK number.
      ['a US number in national form for a UK business', { phone: '(415) 555-2671', locale: 'en-GB' }, 'phone', '+44 20 7946 0958'],
      ['an unknown time zone', { time_zone: 'Mars/Olympus_Mons' }, 'time_zone', 'time zone'],
      ['an unknown currency', { currency: 'XYZ' }, 'currency', 'currency code'],
      ['a malformed locale', { locale: 'not a locale!' }, 'locale', 'language and region'],
      ['a malformed email', { email: 'office@' }, 'email', 'valid email'],
      ['an empty business name', { name: '' }, 'name', 'business name'],
    ] as const) {
      it(`refuses ${label} with a message and changes nothing`, async () => {
        const before = await orgRow(owner.orgId);
        const res = await agent
          .post('/settings/branding')
          .type('form')
          .send({ ...validBranding, ...fields, _csrf: agent.csrf });
        expect(res.status).to.equal(422);
        expect(res.text).to.contain(`id="e-${field}"`);
        expect(res.text).to.contain(message);
        const after = await orgRow(owner.orgId);
        expect(after).to.deep.equal(before);
      });
    }
  });

  describe('role checks', () => {
    it('shows staff the settings index but answers 403 on every owner-only route, changing nothing', async () => {
      const staff = await createTestStaff(owner.orgId);
      const staffAgent = await loginAgent(staff.email, staff.password);
      const index = await staffAgent.get('/settings');
      expect(index.status).to.equal(200);
      for (const href of [
        '/settings/branding',
        '/settings/billing',
        '/settings/team',
        '/settings/portal',
        '/settings/messages',
        '/settings/payments',
      ]) {
        expect(index.text).to.contain(`href="${href}"`);
      }
      const before = await orgRow(owner.orgId);
      expect((await staffAgent.get('/settings/branding')).status).to.equal(403);
      const post = await staffAgent
        .post('/settings/branding')
        .type('form')
        .send({ ...validBranding, _csrf: staffAgent.csrf });
      expect(post.status).to.equal(403);
      const logo = await upload(staffAgent, await image('png'), 'logo.png', 'image/png');
      expect(logo.status).to.equal(403);
      const remove = await staffAgent.post('/settings/branding/logo/remove').type('form').send({ _csrf: staffAgent.csrf });
      expect(remove.status).to.equal(403);
      expect(await orgRow(owner.orgId)).to.deep.equal(before);
      expect(await logoCount(owner.orgId)).to.equal(0);
    });

    it('sends anonymous visitors to log in', async () => {
      const res = await supertest(testApp()).get('/settings/branding');
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.match(/^\/login/);
    });
  });
});
