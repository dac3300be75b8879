// Issue 14, point 1: the settings pages of an es-MX business read in Spanish, with no English label left.
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { createTestOrg, type TestOrg } from '../support/factories.js';
import { loginAgent, type Agent } from '../support/http.js';

async function spanishOwner(): Promise<{ org: TestOrg; agent: Agent & { csrf: string } }> {
  const org = await createTestOrg();
  await getDb()('organizations').where({ id: org.orgId }).update({ locale: 'es-MX' });
  return { org, agent: await loginAgent(org.email, org.password) };
}

const PAGES: [string, string[], string[]][] = [
  [
    '/settings',
    ['Configuración', 'Marca y datos del negocio', 'Plan y facturación', 'Equipo'],
    ['Branding &amp; business details', 'Plan &amp; billing', 'Invite staff'],
  ],
  [
    '/settings/branding',
    ['Nombre del negocio', 'Color de marca', 'Zona horaria', 'cambia este panel al español'],
    ['Business name', 'Brand color', 'Save details', 'Time zone'],
  ],
  [
    '/settings/team',
    ['Invitar a un miembro del equipo', 'Enviar invitación', 'Propietario'],
    ['Invite a team member', 'Send invitation', 'Last log-in'],
  ],
  ['/settings/billing', ['Su plan: Gratis', 'Planes', '/ mes'], ['Your plan', 'Upgrade to', 'Includes:']],
  ['/settings/payments', ['Cuenta de Stripe:', 'No conectada', 'Conectar Stripe'], ['Stripe account:', 'Not connected', 'Connect Stripe<']],
  [
    '/settings/portal',
    ['Enlaces activos', 'Duración de los enlaces', 'Después de 90 días'],
    ['Active links', 'Link lifetime', 'Save lifetime'],
  ],
];

describe('settings in Spanish (org locale es-MX)', () => {
  for (const [path, spanish, english] of PAGES) {
    it(`${path} reads in Spanish with no English label left`, async () => {
      const { agent } = await spanishOwner();
      const res = await agent.get(path);
      expect(res.status).to.equal(200);
      for (const words of spanish) expect(res.text, words).to.contain(words);
      for (const words of english) expect(res.text, words).not.to.contain(words);
    });
  }

  it('refuses a bad branding form with Spanish messages (422) and writes nothing', async () => {
    const { org, agent } = await spanishOwner();
    const before = await getDb()('organizations').where({ id: org.orgId }).first<{ name: string }>('name');
    const res = await agent
      .post('/settings/branding')
      .type('form')
      .send({ _csrf: agent.csrf, name: '', brand_color: 'blue', time_zone: 'America/Mexico_City', currency: 'MXN', locale: 'es-MX' });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('Escriba el nombre de su negocio');
    expect(res.text).to.contain('Escriba el color como # y seis dígitos hexadecimales');
    expect(res.text).not.to.contain('Enter your business name');
    const after = await getDb()('organizations').where({ id: org.orgId }).first<{ name: string }>('name');
    expect(after?.name).to.equal(before?.name);
  });

  it('an expired form (no CSRF token) is refused in Spanish for a signed-in es-MX owner', async () => {
    const { agent } = await spanishOwner();
    await agent.get('/settings');
    const res = await agent.post('/settings/team/invitations').type('form').send({ email: 'x@example.com' });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('Este formulario caducó');
    expect(res.text).not.to.contain('This form has expired');
  });

  it('flashes after a save in Spanish', async () => {
    const { agent } = await spanishOwner();
    const res = await agent.post('/settings/portal/lifetime').type('form').send({ _csrf: agent.csrf, lifetime: '30' }).redirects(1);
    expect(res.text).to.contain('Los enlaces nuevos del portal vencen después de 30 días.');
  });
});
