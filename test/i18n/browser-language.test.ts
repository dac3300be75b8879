// The browser's language from Accept-Language (src/i18n/index.ts): negotiated by
// Express, once per distinct header value.
import { expect } from 'chai';
import express from 'express';
import supertest from 'supertest';
import { acceptedLanguage, browserLanguage } from '../../src/i18n/index.js';

/** A request as the functions see it, counting how often Express is asked to negotiate. */
function request(header: string | undefined, asked: { count: number }) {
  const app = express();
  let answer: unknown;
  app.get('/', (req, res) => {
    const real = req.acceptsLanguages.bind(req);
    const counted = Object.assign(Object.create(req) as express.Request, {
      acceptsLanguages: (...languages: string[]) => {
        asked.count += 1;
        return real(...languages);
      },
    });
    answer = { accepted: acceptedLanguage(counted), browser: browserLanguage(counted) };
    res.end();
  });
  const call = supertest(app).get('/');
  return (header === undefined ? call : call.set('Accept-Language', header)).then(() => answer);
}

describe('browser language', () => {
  it('picks the first of our languages the header asks for; none of ours or no header: null, and English for the page', async () => {
    const asked = { count: 0 };
    expect(await request('es-MX,es;q=0.9,en;q=0.5', asked)).to.deep.equal({ accepted: 'es', browser: 'es' });
    expect(await request('fr-FR, en;q=0.4', asked)).to.deep.equal({ accepted: 'en', browser: 'en' });
    expect(await request('fr-FR, de;q=0.4', asked)).to.deep.equal({ accepted: null, browser: 'en' });
    expect(await request(undefined, asked)).to.deep.equal({ accepted: null, browser: 'en' });
  });

  it('negotiates each header value once, and values longer than a browser sends every time', async () => {
    const header = `es-419,es;q=0.8,x-${Date.now()};q=0.1`;
    const asked = { count: 0 };
    expect(await request(header, asked)).to.deep.equal({ accepted: 'es', browser: 'es' });
    expect(asked.count).to.equal(1);
    expect(await request(header, asked)).to.deep.equal({ accepted: 'es', browser: 'es' });
    expect(asked.count).to.equal(1);
    const none = `fr-${Date.now()}`;
    await request(none, asked);
    await request(none, asked);
    expect(asked.count).to.equal(2);
    const long = `es,${Array.from({ length: 40 }, (_, i) => `x-${i}-${Date.now()};q=0.1`).join(',')}`;
    expect(long.length).to.be.greaterThan(256);
    await request(long, asked);
    expect(await request(long, asked)).to.deep.equal({ accepted: 'es', browser: 'es' });
    // Each request asks both functions: a value not kept is negotiated for each.
    expect(asked.count).to.equal(2 + 4);
  });
});
