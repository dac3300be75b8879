// Issue 14, point 1: sign-in pages read in the browser's language; refusals in it too.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { csrfFrom, testApp } from '../support/http.js';

describe('sign-in pages in the browser’s language', () => {
  const app = testApp();

  for (const [path, spanish, english] of [
    ['/login', ['Iniciar sesión', 'Contraseña', '¿Olvidó su contraseña?'], ['Forgot your password?', 'New to Porchlight?']],
    ['/signup', ['Cree su cuenta de Porchlight', 'Nombre del negocio', 'Continuar'], ['Business name', 'Already have an account?']],
    ['/forgot-password', ['Restablezca su contraseña', 'Enviar el enlace'], ['Send the reset link', 'Back to log in']],
  ] as [string, string[], string[]][]) {
    it(`${path}: Spanish for Accept-Language es, English for en`, async () => {
      const es = await supertest(app).get(path).set('Accept-Language', 'es-MX,es;q=0.9');
      for (const words of spanish) expect(es.text, words).to.contain(words);
      for (const words of english) expect(es.text, words).not.to.contain(words);
      const en = await supertest(app).get(path).set('Accept-Language', 'en-US');
      for (const words of english) expect(en.text, words).to.contain(words);
    });
  }

  it('refuses a sign-up form with Spanish messages (422) and writes nothing', async () => {
    const agent = supertest.agent(app);
    const page = await agent.get('/signup').set('Accept-Language', 'es');
    const before = await getDb()('signup_requests').count<{ count: string }[]>('* as count');
    const res = await agent
      .post('/signup')
      .set('Accept-Language', 'es')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), orgName: '', name: '', email: 'not-an-email' });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('Escriba el nombre de su negocio');
    expect(res.text).to.contain('Escriba un correo electrónico válido');
    expect(res.text).not.to.contain('Enter your business name');
    const after = await getDb()('signup_requests').count<{ count: string }[]>('* as count');
    expect(after[0].count).to.equal(before[0].count);
  });

  it('a wrong password is refused in Spanish, and an expired form too', async () => {
    const agent = supertest.agent(app);
    const page = await agent.get('/login').set('Accept-Language', 'es');
    const bad = await agent
      .post('/login')
      .set('Accept-Language', 'es')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: 'nobody@example.com', password: 'wrong-password-123' });
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('Ese correo y esa contraseña no coinciden');
    const expired = await supertest(app).post('/login').set('Accept-Language', 'es').type('form').send({ email: 'a@b.co', password: 'x' });
    expect(expired.status).to.equal(403);
    expect(expired.text).to.contain('Este formulario caducó');
  });
});
