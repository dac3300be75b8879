// The request log: one JSON line per request when its response ends, with the
// request id, method, path (tokens redacted), status and time, at a level that
// follows the status; health checks unlogged; an error's own line carries the
// same request id.
import { expect } from 'chai';
import express from 'express';
import supertest from 'supertest';
import { httpLogger, requestLogger } from '../../src/logger.js';
import { captureLogs } from '../support/logs.js';

interface Line {
  level: number;
  msg: string;
  reqId?: number;
  req?: { method: string; url: string };
  res?: { statusCode: number };
  responseTime?: number;
  err?: { message: string };
}

function appLogging() {
  const app = express();
  app.use(httpLogger);
  app.get('/healthz', (_req, res) => void res.send('ok'));
  app.get('/p/:token/invoices', (_req, res) => void res.send('page'));
  app.get('/missing', (_req, res) => void res.status(404).send('no'));
  app.get('/broken', (req, res) => {
    requestLogger(req).error({ err: new Error('the database went away') }, 'request failed');
    res.status(500).send('sorry');
  });
  return app;
}

const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Line);

describe('request log', () => {
  it('writes one line per request with its id, method, redacted path, status and time; none for health checks', async () => {
    const app = appLogging();
    const token = 'SECRETtoken0123456789abcdefghijklmnopqrstuvw';
    const { text } = await captureLogs(async () => {
      await supertest(app).get('/healthz').expect(200);
      await supertest(app).get(`/p/${token}/invoices?page=2`).expect(200);
      await supertest(app).get('/missing').expect(404);
      await supertest(app).get('/broken').expect(500);
    });
    expect(text).not.to.contain('SECRETtoken');
    const lines = parse(text);
    const access = lines.filter((l) => l.req);
    expect(access.map((l) => [l.level, l.msg.replace(/ \d+ms$/, ' _ms')])).to.deep.equal([
      [30, 'GET /p/[token]/invoices?page=2 200 _ms'],
      [40, 'GET /missing 404 _ms'],
      [50, 'GET /broken 500 _ms'],
    ]);
    expect(access[0]).to.include.keys('reqId', 'responseTime');
    expect(access[0].req).to.deep.equal({ method: 'GET', url: '/p/[token]/invoices?page=2' });
    expect(access[0].res).to.deep.equal({ statusCode: 200 });
    expect(access[0].responseTime).to.be.a('number');
    // Each request its own id; the error logged while serving one carries that request's id.
    expect(new Set(access.map((l) => l.reqId)).size).to.equal(3);
    const failure = lines.find((l) => l.msg === 'request failed')!;
    expect(failure.err?.message).to.equal('the database went away');
    expect(failure.reqId).to.equal(access[2].reqId);
  });
});
